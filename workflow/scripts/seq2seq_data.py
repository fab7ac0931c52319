"""Rule seq2seq_data: Table 5's compress / decompress / byte-LM datasets of one split."""
from _log import setup
from nc.pipeline.steps import seq2seq_data

setup(snakemake)
seq2seq_data(snakemake.input.examples, dict(snakemake.output.items()), slug=snakemake.wildcards.slug,
             m1_dir=snakemake.params.m1_dir, seq2seq=snakemake.params.seq2seq, coding=snakemake.params.coding,
             split=snakemake.wildcards.split)
