"""Rule analysis_tables: every reproduced table (see nc.analysis.tables)."""

from _log import setup

from nc.analysis.outputs import write_analysis_tables

sm = snakemake
setup(sm)
write_analysis_tables(list(sm.input), sm.params.out_dir, sm.params.options)
