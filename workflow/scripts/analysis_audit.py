"""Rule analysis_audit: the reproduction audit report (see nc.analysis.audit)."""

from _log import setup

from nc.analysis.outputs import write_audit

sm = snakemake
setup(sm)
write_audit(
    list(sm.input.summaries),
    sm.output.report,
    scale=sm.params.scale,
    options=sm.params.options,
    config=sm.params.config,
    data_files=list(sm.input.data),
    token_tables=list(sm.input.tokens),
    claims_csv=sm.output.claims,
    repo_dir=sm.params.repo_dir,
)
