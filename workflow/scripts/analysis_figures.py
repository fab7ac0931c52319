"""Rule analysis_figures: every reproduced figure (see nc.analysis.figures)."""
from nc.analysis.outputs import write_analysis_figures

sm = snakemake  # noqa: F821 (injected by Snakemake)
write_analysis_figures(list(sm.input), sm.params.out_dir, sm.params.options)
