"""Rule byte_unigram: StaticAC's byte counts of M1's training split."""

from _log import setup

from nc.pipeline.steps import byte_unigram

setup(snakemake)
byte_unigram(snakemake.input[0], snakemake.output[0])
