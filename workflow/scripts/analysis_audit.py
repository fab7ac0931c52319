"""Rule analysis_audit: the reproduction audit report (see nc.analysis.audit)."""

from pathlib import Path

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
    # The checkout this script is in (Snakemake sets __file__ to the script's real path): its commit goes
    # into the provenance. Not a rule param, so moving the checkout does not rerun the audit.
    repo_dir=Path(__file__).resolve().parents[2],
)
