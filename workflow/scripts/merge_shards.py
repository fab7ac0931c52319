"""Rule merge_shards: join a method's shard datasets of both splits and write its stats.json."""
from _log import setup
from nc.pipeline.steps import merge_method_shards

setup(snakemake)
merge_method_shards(list(snakemake.input.train), list(snakemake.input.valid), snakemake.output.train,
                    snakemake.output.valid, snakemake.output.stats)
