"""Rule tokens_text_tables: Tables 7, 8, 14 (see nc.analysis.token_text)."""

from pathlib import Path

from _log import setup

from nc.analysis.token_text import run_token_text_tables

sm = snakemake
setup(sm)
run_token_text_tables(
    valid_path=sm.input.valid,
    m1_dir=Path(sm.input.m1).parent,
    sp_model=sm.input.spm,
    options=sm.params.options,
    coding=sm.params.coding,
    table7=sm.output.table7[0],
    table8=sm.output.table8[0],
    table14=sm.output.table14[0],
    repeated_table=sm.output.repeated[0],
)
