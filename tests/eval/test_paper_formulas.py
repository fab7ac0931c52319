"""nc.metrics reproduces the paper's own FLOPs/byte (Table 15) and uniform bits/byte (Table 3)."""

import csv
from importlib import resources

import pytest

from nc import metrics
from nc.methods import parse_method
from nc.models.sizes import PAPER_M1_SIZE, model_size

# The paper's published numbers, as shipped with nc (a verbatim copy of its value tables).
VALUES = resources.files("nc.analysis.paper_values")


def rows(name):
    with (VALUES / name).open(newline="") as f:
        return list(csv.DictReader(f))


def measured_ratios():
    """Compression ratio per setting from Table 12 (bytes / tokens, more digits than its ratio column)."""
    return {r["method"]: int(r["bytes"]) / int(r["tokens"]) for r in rows("table12_dataset_sizes.csv")}


def vocab_of(setting):
    return 32000 if setting == "SentencePiece" else parse_method(setting).vocab_size


def test_table15_mflops_per_byte():
    ratios = measured_ratios()
    m1 = model_size(PAPER_M1_SIZE).nominal_params
    checked = 0
    for r in rows("table15_fig3_values.csv"):
        if r["size"] == "uniform":
            continue
        setting = r["setting"]
        m1_params = m1 if setting != "SentencePiece" and parse_method(setting).uses_m1 else 0.0
        got = float(metrics.mflops_per_byte(model_size(r["size"]).nominal_params, ratios[setting], m1_params))
        # Table 15 prints 2 decimals, or 3 significant figures from 1000 MFLOPs/byte up.
        assert got == pytest.approx(float(r["mflops_per_byte"]), abs=0.0051, rel=0.0051), (setting, r["size"])
        checked += 1
    assert checked == 40


# Table 15 errata: its caption says 16-bit settings share the 8-bit uniform value (the 16-bit
# ratio is about twice the 8-bit one, and log2 of the vocabulary twice as large), and GZip[v=65k]
# follows it, but AC[v=65k] (4.61), StaticAC[v=65k] (3.01) and EqualInfoAC[b=16;v=65k] (3.59) each
# repeat the uniform value of the *next* setting in the table (a one-row shift); the formula gives
# 1.46, 4.63 and 3.01. Those rows are not compared with the formula.
TABLE15_UNIFORM_ERRATA = {"AC[v=65k]", "StaticAC[v=65k]", "EqualInfoAC[b=16;v=65k]"}
# Table 15 also prints SentencePiece's uniform value as 3.47 where the paper's own Table 3 (and
# log2(32000) / 4.279) give 3.497, i.e. 3.50 (a dropped digit); test_table3_uniform_column covers it.
TABLE15_SENTENCEPIECE_UNIFORM_ERRATUM = "SentencePiece"


def published_uniform():
    return {r["setting"]: float(r["bits_per_byte"]) for r in rows("table15_fig3_values.csv") if r["size"] == "uniform"}


def test_table15_uniform_rows_8bit():
    ratios = measured_ratios()
    checked = 0
    for setting, value in published_uniform().items():
        if "v=65k" in setting or setting == TABLE15_SENTENCEPIECE_UNIFORM_ERRATUM:
            continue
        got = float(metrics.uniform_bits_per_byte(vocab_of(setting), ratios[setting]))
        assert got == pytest.approx(value, abs=0.0051), setting
        checked += 1
    assert checked == 5


def test_table15_uniform_rows_16bit_follow_caption_except_errata():
    ratios = measured_ratios()
    published = published_uniform()
    sixteen_bit = [s for s in published if "v=65k" in s]
    assert len(sixteen_bit) == 4
    for setting in sixteen_bit:
        eight_bit = setting.replace("v=65k", "v=256")
        got = float(metrics.uniform_bits_per_byte(vocab_of(setting), ratios[setting]))
        assert got == pytest.approx(published[eight_bit], abs=0.015)  # the caption's rule holds for the formula
        if setting in TABLE15_UNIFORM_ERRATA:
            assert abs(published[setting] - got) > 0.5  # the shifted rows are far off: a typesetting error
        else:
            assert published[setting] == published[eight_bit]


def test_table3_uniform_column():
    ratios = measured_ratios()
    checked = 0
    for r in rows("table03_trivial_models.csv"):
        if r["method"] in ("Bytes", "SentencePiece"):
            setting = r["method"]
        elif r["method"] == "EqualInfoAC":
            setting = f"EqualInfoAC[b={r['window_bits']};v=256]"
        else:
            setting = f"{r['method']}[v=256]"
        got = float(metrics.uniform_bits_per_byte(vocab_of(setting), ratios[setting]))
        assert got == pytest.approx(float(r["uniform_bits_per_byte"]), abs=0.0011), setting
        checked += 1
    assert checked == 9
