"""Rule prepare_data: corpus -> m1_train / m2_train / valid example files."""
from _log import setup
from nc.pipeline.steps import prepare_splits

setup(snakemake)
prepare_splits(snakemake.params.data, dict(snakemake.output.items()))
