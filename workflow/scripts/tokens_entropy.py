"""Rule tokens_entropy: Figures 11, 16, 17 (see nc.analysis.entropy)."""

from pathlib import Path

from _log import setup

from nc.analysis.entropy import run_entropy_analysis

sm = snakemake
setup(sm)
opts = sm.params.options
run_entropy_analysis(
    sm.params.datasets,
    max_n=opts.kl_max_n,
    num_partitions=opts.kl_partitions,
    max_bits=opts.kl_max_bits,
    kl_table=sm.output.kl[0],
    noise_table=sm.output.noise[0],
    fig11=Path(sm.output.fig11[0]).with_suffix(""),
    fig16=Path(sm.output.fig16[0]).with_suffix(""),
    fig17=Path(sm.output.fig17[0]).with_suffix(""),
)
