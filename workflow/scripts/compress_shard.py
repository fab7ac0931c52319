"""Rule compress_shard: tokenise / compress one shard of a split with one method."""

from _log import setup

from nc.pipeline.steps import compress_shard

setup(snakemake)
inputs, wildcards = snakemake.input, snakemake.wildcards
compress_shard(
    inputs.examples,
    snakemake.output[0],
    slug=wildcards.slug,
    split=wildcards.split,
    shard=int(wildcards.shard),
    num_shards=int(wildcards.num_shards),
    seq_len=snakemake.params.seq_len,
    coding=snakemake.params.coding,
    m1_dir=snakemake.params.m1_dir,
    m1_size=snakemake.params.m1_size,
    sentencepiece_model=inputs.get("sentencepiece"),
    unigram_path=inputs.get("unigram"),
    threads=snakemake.threads,
)
