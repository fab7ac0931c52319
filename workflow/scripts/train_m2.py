"""Rule train_m2: train and evaluate one M2 run."""
from _log import setup
from nc.pipeline.steps import train_m2

setup(snakemake)
wildcards = snakemake.wildcards
train_m2(snakemake.input.train, snakemake.input.valid, snakemake.params.run_dir, snakemake.output.eval,
         size=wildcards.size, variant=wildcards.variant, seed=int(wildcards.seed), m2=snakemake.params.m2)
