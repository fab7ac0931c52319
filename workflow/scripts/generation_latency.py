"""Rule generation_latency: the measured Figure 4 (nc.cli.generate.write_latency_figure)."""

from pathlib import Path

from _log import setup

from nc.cli.codec import Models
from nc.cli.generate import write_latency_figure

sm = snakemake
setup(sm)
write_latency_figure(
    sm.params.run_dirs,
    Models(**{key: Path(path) for key, path in sm.params.models.items()}),
    sm.params.coding,
    sm.params.generation,
    sm.output.table,
    *sm.output.figure,
)
