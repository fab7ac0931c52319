"""Rule train_m1: the byte-level compressor model M1 and its validation eval.json."""
from _log import setup
from nc.pipeline.steps import train_m1

setup(snakemake)
train_m1(snakemake.input.train, snakemake.input.valid, snakemake.params.m1, snakemake.params.run_dir,
         snakemake.output.eval)
