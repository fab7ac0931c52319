"""Rule seq2seq_manifests: one manifest per Table 5 task over its shards of a split."""

from _log import setup

from nc.pipeline.steps import seq2seq_manifests

setup(snakemake)
tasks = snakemake.params.tasks
seq2seq_manifests({task: snakemake.input[task] for task in tasks}, {task: snakemake.output[task] for task in tasks})
