"""Rule collect_summaries: runs.csv, evals.csv, compression.csv and spelling.csv."""

from _log import setup

from nc.pipeline.steps import collect_summaries

setup(snakemake)
collect_summaries(
    snakemake.input.runs,
    snakemake.input.stats,
    snakemake.output.runs,
    snakemake.output.evals,
    snakemake.output.compression,
    snakemake.input.spelling,
    snakemake.output.spelling,
)
