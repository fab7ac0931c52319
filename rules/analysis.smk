# Analysis (Sections 3.4, 3.8, 4, 5; Appendices A, D): the paper's tables and figures from the run
# summaries, Welch t-tests, and the reproduction audit R/audit/report.md.
# Settings, output lists and helpers: rules/analysis_common.smk; token-level analyses: rules/analysis_tokens.smk.
# HTML report of a finished run (docs/RUNNING.md):
#   snakemake --config scale=<scale> --report results/<scale>/audit/report.html

include: "analysis_common.smk"
include: "analysis_tokens.smk"


rule analysis_tables:
    """Tables 1-3, 5, 6, 9-13, 15-17 and the Welch t-tests, each beside the paper's values."""
    input:
        SUMMARY_FILES,
    output:
        [reported(p, "Tables") if p.endswith(".csv") else p for p in ANALYSIS_TABLES],
    params:
        options=ANALYSIS_OPTIONS,
        out_dir=output_dir,
    log:
        f"{RESULTS}/logs/analysis_tables.log",
    script:
        "../workflow/scripts/analysis_tables.py"


rule analysis_figures:
    """Figures 3, 4, 5, 6, 10, 12, 14, 15 as PDF and PNG."""
    input:
        SUMMARY_FILES,
    output:
        [reported(p, "Figures") if p.endswith(".png") else p for p in ANALYSIS_FIGURES],
    params:
        options=ANALYSIS_OPTIONS,
        out_dir=output_dir,
    log:
        f"{RESULTS}/logs/analysis_figures.log",
    script:
        "../workflow/scripts/analysis_figures.py"


rule analysis_audit:
    """The reproduction audit: claims' verdicts, tables beside the paper, token analyses, provenance."""
    input:
        summaries=SUMMARY_FILES,
        tables=ANALYSIS_TABLES,
        figures=ANALYSIS_FIGURES,
        tokens=[p for p in TOKEN_ANALYSIS_TARGETS if p.endswith(".csv")],
        # Manifests name every shard with its SHA-256: their hashes pin the data without rereading it.
        data=[f"{RESULTS}/data/{split}/manifest.json" for split in ("m1_train", "m2_train", "valid")],
    output:
        report=reported(AUDIT_REPORT, "Audit"),
        claims=reported(AUDIT_CLAIMS, "Audit"),
    params:
        options=ANALYSIS_OPTIONS,
        scale=config["scale"],
        config=dict(config),
    log:
        f"{RESULTS}/logs/analysis_audit.log",
    script:
        "../workflow/scripts/analysis_audit.py"
