"""Rule split_shard: one shard of a shuffled split, gathered from every corpus part."""

from _log import setup

from nc.pipeline.steps import split_shard

setup(snakemake)
split_shard(snakemake.output[0], snakemake.input.parts, snakemake.params.split, int(snakemake.wildcards.shard))
