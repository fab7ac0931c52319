"""Rule merge_shards: join a split's shard datasets."""
from _log import setup
from nc.pipeline.steps import merge_shards

setup(snakemake)
merge_shards(list(snakemake.input), snakemake.output[0])
