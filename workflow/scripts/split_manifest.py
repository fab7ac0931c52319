"""Rule split_manifest: the manifest of a split's shards."""

from _log import setup

from nc.pipeline.steps import split_manifest

setup(snakemake)
split_manifest(snakemake.input.shards, snakemake.output[0], snakemake.wildcards.data_split, snakemake.params.split)
