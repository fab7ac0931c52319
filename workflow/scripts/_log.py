"""Send a script's logging and warnings to the rule's log file (imported by every workflow script)."""
import logging


def setup(snakemake) -> None:
    path = snakemake.log[0] if len(snakemake.log) else None
    logging.basicConfig(filename=path, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.captureWarnings(True)
