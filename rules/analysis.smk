# Analysis (Sections 3.4, 3.8, 4, 5; Appendices A, D): the paper's tables and figures from the run
# summaries, Welch t-tests, and the reproduction audit R/audit/report.md.
# Knobs: config["analysis"] (schema: config/schema/analysis.schema.json; defaults: nc.analysis.options).
# HTML report of a finished run:  snakemake --cores 1 --report results/<scale>/audit/report.html
import os

from nc.analysis.names import FIGURE_NAMES, TABLE_NAMES
from nc.analysis.options import AnalysisOptions

if os.path.exists(os.path.join(workflow.current_basedir.get_path_or_uri(secret_free=True), "analysis_tokens.smk")):
    include: "analysis_tokens.smk"
else:
    TOKEN_ANALYSIS_TARGETS = []

_ANALYSIS_SECTION = dict(config.get("analysis") or {})
_ANALYSIS_SECTION.setdefault("m1_size", (config.get("m1") or {}).get("size"))
ANALYSIS_OPTIONS = AnalysisOptions.from_config(_ANALYSIS_SECTION)
_CAPTIONS = "../src/nc/analysis/report"

ANALYSIS_TABLES = [f"{RESULTS}/tables/{name}.{ext}" for name in TABLE_NAMES for ext in ("csv", "md")]
ANALYSIS_FIGURES = [f"{RESULTS}/figures/{name}.{ext}" for name in FIGURE_NAMES for ext in ("pdf", "png")]
AUDIT_REPORT = f"{RESULTS}/audit/report.md"
AUDIT_CLAIMS = f"{RESULTS}/audit/claims.csv"
ANALYSIS_TARGETS = ANALYSIS_TABLES + ANALYSIS_FIGURES + list(TOKEN_ANALYSIS_TARGETS) + [AUDIT_REPORT, AUDIT_CLAIMS]
_SUMMARIES = [f"{RESULTS}/summary/runs.csv", f"{RESULTS}/summary/evals.csv", f"{RESULTS}/summary/compression.csv"]


def _reported(path, category):
    """Annotate an output for `snakemake --report` (PNG figures, CSV tables, the audit)."""
    if path.endswith((".png", ".csv")) or path == AUDIT_REPORT:
        caption = {"Figures": "figures.rst", "Tables": "tables.rst", "Audit": "audit.rst"}[category]
        return report(path, caption=f"{_CAPTIONS}/{caption}", category=category)
    return path


rule analysis_tables:
    """Tables 1-3, 5, 6, 9-13, 15-17 and the Welch t-tests, each beside the paper's values."""
    input:
        _SUMMARIES,
    output:
        [_reported(p, "Tables") for p in ANALYSIS_TABLES],
    params:
        options=ANALYSIS_OPTIONS,
        out_dir=f"{RESULTS}/tables",
    script:
        "../workflow/scripts/analysis_tables.py"


rule analysis_figures:
    """Figures 3, 4, 5, 6, 10, 12, 14, 15 as PDF and PNG."""
    input:
        _SUMMARIES,
    output:
        [_reported(p, "Figures") for p in ANALYSIS_FIGURES],
    params:
        options=ANALYSIS_OPTIONS,
        out_dir=f"{RESULTS}/figures",
    script:
        "../workflow/scripts/analysis_figures.py"


rule analysis_audit:
    """The reproduction audit: claims' verdicts, tables beside the paper, token analyses, provenance."""
    input:
        summaries=_SUMMARIES,
        tables=ANALYSIS_TABLES,
        figures=ANALYSIS_FIGURES,
        tokens=[p for p in TOKEN_ANALYSIS_TARGETS if p.endswith(".csv")],
        data=[f"{RESULTS}/data/{split}.npz" for split in ("m1_train", "m2_train", "valid")],
    output:
        report=_reported(AUDIT_REPORT, "Audit"),
        claims=AUDIT_CLAIMS,
    params:
        options=ANALYSIS_OPTIONS,
        scale=config["scale"],
        config=dict(config),
        repo_dir=workflow.basedir,
    script:
        "../workflow/scripts/analysis_audit.py"
