"""Job set-up imported by every workflow script: logging to the rule's log file, JAX's compile cache,
XLA's CPU threads."""

from nc.pipeline.runtime import setup_job


def setup(snakemake) -> None:
    setup_job(snakemake.log[0] if len(snakemake.log) else None, snakemake.threads)
