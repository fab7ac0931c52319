"""Rule train_m1: the byte-level compressor model M1 and its validation eval.json."""

from _log import setup

from nc.pipeline.launch import run_training

setup(snakemake)
resources = snakemake.params.processes
run_training(
    "train_m1",
    dict(
        train_manifest=snakemake.input.train,
        valid_manifest=snakemake.input.valid,
        m1=snakemake.params.m1,
        run_dir=snakemake.params.run_dir,
        eval_path=snakemake.output.eval,
        gpus=resources["gpus"],
    ),
    tasks=resources["tasks"],
    nodes=resources["nodes"],
    log_path=snakemake.log[0],
)
