"""Rule seq2seq_shard: Table 5's three datasets for one shard of a split's 1,024-byte chunks."""

from _log import setup

from nc.pipeline.steps import seq2seq_shard

setup(snakemake)
wildcards, params = snakemake.wildcards, snakemake.params
seq2seq_shard(
    snakemake.input.examples,
    dict(snakemake.output.items()),
    slug=wildcards.slug,
    m1_dir=params.m1_dir,
    seq2seq=params.seq2seq,
    coding=params.coding,
    split=wildcards.split,
    shard=int(wildcards.shard),
    num_shards=int(wildcards.num_shards),
    total_chunks=params.total_chunks,
)
