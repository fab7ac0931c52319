"""Rule analysis_figures: every reproduced figure (see nc.analysis.figures)."""

from _log import setup

from nc.analysis.outputs import write_analysis_figures

sm = snakemake
setup(sm)
write_analysis_figures(list(sm.input), sm.params.out_dir, sm.params.options)
