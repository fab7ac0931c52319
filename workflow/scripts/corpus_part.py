"""Rule corpus_part: one group of corpus json.gz files -> an example shard in stream order."""

from _log import setup

from nc.pipeline.steps import corpus_part

setup(snakemake)
wildcards = snakemake.wildcards
corpus_part(snakemake.output[0], snakemake.params.data, wildcards.corpus_split, int(wildcards.part))
