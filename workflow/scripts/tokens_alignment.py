"""Rule tokens_alignment: Figure 9 (see nc.analysis.alignment)."""

from pathlib import Path

from _log import setup

from nc.analysis.alignment import run_alignment_figure

sm = snakemake
setup(sm)
run_alignment_figure(
    valid_path=sm.input.valid,
    m1_dir=Path(sm.input.m1).parent,
    num_windows=sm.params.options.alignment_windows,
    coding=sm.params.coding,
    figure=Path(sm.output.figure[0]).with_suffix(""),
)
