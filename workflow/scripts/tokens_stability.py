"""Rule tokens_stability: Figure 8 (see nc.analysis.stability)."""

from pathlib import Path

from _log import setup

from nc.analysis.stability import run_stability_analysis

sm = snakemake
setup(sm)
opts = sm.params.options
run_stability_analysis(
    valid_path=sm.input.valid,
    sp_model=sm.input.spm,
    m1_dir=Path(sm.input.m1).parent,
    methods=opts.stability_methods,
    num_words=opts.prefix_words,
    num_sentences=opts.stability_sentences,
    seed=opts.seed,
    coding=sm.params.coding,
    hist_table=sm.output.hist[0],
    summary_table=sm.output.summary[0],
    figure=Path(sm.output.figure[0]).with_suffix(""),
)
