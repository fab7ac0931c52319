"""Rule compression_stats: stats.json of one method."""
from _log import setup
from nc.pipeline.steps import compression_stats

setup(snakemake)
compression_stats(snakemake.input.train, snakemake.input.valid, snakemake.output[0])
