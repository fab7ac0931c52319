"""Rule train_m2: train and evaluate one M2 run (over several processes when its resources say so)."""

from _log import setup

from nc.pipeline.launch import run_training

setup(snakemake)
wildcards, resources = snakemake.wildcards, snakemake.params.processes
run_training(
    "train_m2",
    dict(
        train_manifest=snakemake.input.train,
        valid_manifest=snakemake.input.valid,
        run_dir=snakemake.params.run_dir,
        eval_path=snakemake.output.eval,
        size=wildcards.size,
        variant=wildcards.variant,
        seed=int(wildcards.seed),
        m2=snakemake.params.m2,
        gpus=resources["gpus"],
    ),
    tasks=resources["tasks"],
    nodes=resources["nodes"],
    log_path=snakemake.log[0],
)
