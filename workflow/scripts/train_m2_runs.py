"""Rules train_m2_*: train and evaluate several M2 runs one after another in this one process."""

from _log import setup

from nc.pipeline.steps import train_m2_runs

setup(snakemake)
runs = snakemake.params.runs
train_m2_runs(
    [
        dict(
            run,
            train_manifest=snakemake.input[f"train{i}"],
            valid_manifest=snakemake.input[f"valid{i}"],
            eval_path=f"{run['run_dir']}/eval.json",
        )
        for i, run in enumerate(runs)
    ],
    m2=snakemake.params.m2,
    gpus=snakemake.params.processes["gpus"],
)
