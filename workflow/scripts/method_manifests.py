"""Rule method_manifests: a method's shards of both splits listed for M2, and its stats.json."""

from _log import setup

from nc.pipeline.steps import method_manifests

setup(snakemake)
inputs, outputs = snakemake.input, snakemake.output
method_manifests(inputs.train, inputs.valid, outputs.train, outputs.valid, outputs.stats)
