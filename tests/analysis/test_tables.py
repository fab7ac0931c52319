"""Small analysis functions on known inputs: joins, seed statistics, size mapping, step reading,
Pareto frontier, options and summary validation, Markdown rendering."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nc.analysis.audit import config_hash, git_commit, render_report, training_devices, with_differences
from nc.analysis.figures import pareto_frontier, position_accuracy
from nc.analysis.markdown import dataframe_to_markdown, format_cell
from nc.analysis.options import AnalysisOptions
from nc.analysis.summary import make_summary, paper_size_map, seed_stats
from nc.analysis.tables import read_at_fraction, with_paper
from nc.pipeline.config import prepare_config


def test_with_paper_puts_paper_column_beside_and_keeps_paper_rows():
    repro = pd.DataFrame({"paper_label": ["B", "X"], "v": [1.0, 5.0]})
    paper = pd.DataFrame({"paper_label": ["A", "B"], "v": [0.5, 1.5]})
    out = with_paper(repro, paper, ["paper_label"], ["v"])
    assert list(out.columns) == ["paper_label", "v", "paper_v"]
    assert out["paper_label"].tolist() == ["A", "B", "X"]  # paper order first, extra reproduced rows after
    assert np.isnan(out.loc[0, "v"]) and out.loc[1, "paper_v"] == 1.5 and np.isnan(out.loc[2, "paper_v"])


def test_with_differences_adds_diff_columns():
    df = pd.DataFrame({"k": ["a"], "v": [1.25], "paper_v": [1.0]})
    out = with_differences(df)
    assert list(out.columns) == ["k", "v", "paper_v", "diff_v"] and out["diff_v"].item() == 0.25


def test_seed_stats_uses_sample_std():
    runs = pd.DataFrame(
        {"paper_label": ["A"] * 3 + ["B"], "size": "t1", "variant": "default", "bits_per_byte": [1.0, 2.0, 3.0, 7.0]}
    )
    st = seed_stats(runs, "bits_per_byte").set_index("paper_label")
    assert st.loc["A", "mean"] == 2.0 and st.loc["A", "std"] == 1.0 and st.loc["A", "n"] == 3
    assert np.isnan(st.loc["B", "std"])


def test_paper_size_map_by_rank_and_overrides():
    assert paper_size_map(["t3", "t1", "t2", "t4"]) == {"t1": "25m", "t2": "113m", "t3": "403m", "t4": "2b"}
    assert paper_size_map(["s1", "s2"]) == {"s1": "25m", "s2": "113m"}
    assert paper_size_map(["25m", "2b"]) == {"25m": "25m", "2b": "2b"}
    assert paper_size_map(["s1", "s2"], {"s2": "2b"})["s2"] == "2b"
    with pytest.raises(ValueError, match="paper_size_map.s2"):
        paper_size_map(["s2"], {"s2": "7b"})


def test_read_at_fraction_takes_nearest_step():
    curve = pd.DataFrame({"step": [100, 200, 300, 1000], "bits_per_byte": [4.0, 3.0, 2.0, 1.0]})
    assert read_at_fraction(curve, 0.22)["step"] == 200
    assert read_at_fraction(curve, 1.0)["bits_per_byte"] == 1.0
    assert read_at_fraction(curve, 0.01)["step"] == 100


def test_pareto_frontier_keeps_undominated_points():
    df = pd.DataFrame({"compression_ratio": [1.0, 2.0, 3.0, 2.5], "bits_per_byte": [1.0, 1.5, 2.0, 2.5]})
    front = pareto_frontier(df)
    assert front["compression_ratio"].tolist() == [1.0, 2.0, 3.0]  # (2.5, 2.5) is beaten by (3.0, 2.0)


def test_position_accuracy_trivial_is_early_maximum():
    evals = make_summary(
        pd.DataFrame(
            {
                "slug": ["eqinfo-b64-v256"],
                "size": ["t1"],
                "variant": ["default"],
                "seed": [0],
                "steps": [1000],
                "loss_nats_per_token": [1.0],
                "accuracy": [0.5],
                "bits_per_byte": [1.0],
                "compression_ratio": [4.0],
            }
        ),
        pd.DataFrame(
            {
                "slug": "eqinfo-b64-v256",
                "size": "t1",
                "variant": "default",
                "seed": 0,
                "step": [5, 10, 500, 1000],
                "loss": 1.0,
                "accuracy": 0.5,
                "bits_per_byte": 1.0,
                "acc_pos_1": [0.02, 0.03, 0.10, 0.20],
                "acc_pos_2": [0.05, 0.01, 0.02, 0.04],
            }
        ),
        pd.DataFrame(
            {
                "slug": ["eqinfo-b64-v256"],
                "compression_ratio": [4.0],
                "bit_compression_ratio": [4.0],
                "tokens": [1],
                "bytes": [4],
                "vocab_size": [256],
                "unigram_bits_per_byte": [2.0],
            }
        ),
    ).evals
    pos = position_accuracy(evals, AnalysisOptions(trivial_accuracy_fraction=0.01), {"t1": "25m"})
    last = pos[pos["step"] == 1000].set_index("position")
    assert last.loc[1, "trivial"] == 0.03 and last.loc[1, "increase"] == pytest.approx(0.17)
    assert last.loc[2, "trivial"] == 0.05 and last.loc[2, "increase"] == pytest.approx(-0.01)


def test_options_reject_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="unknown key.*'bogus'"):
        AnalysisOptions.from_config({"bogus": 1})
    with pytest.raises(ValueError, match="tolerances: unknown key 'nope'"):
        AnalysisOptions.from_config({"tolerances": {"nope": 1}})
    with pytest.raises(ValueError, match="scaled_data_fraction.t1"):
        AnalysisOptions.from_config({"scaled_data_fraction": {"t1": 1.5}})
    opts = AnalysisOptions.from_config({"tolerances": {"variance_max_std": 0.5}, "tokens": {"kl_max_n": 4}})
    assert opts.tolerances["variance_max_std"] == 0.5 and opts.tolerances["uniform_relative"] == 0.02


def test_summary_names_missing_columns():
    with pytest.raises(ValueError, match=r"runs.csv: missing column\(s\) \['bits_per_byte'"):
        make_summary(
            pd.DataFrame(
                {
                    "slug": ["bytes"],
                    "size": ["t1"],
                    "variant": ["default"],
                    "seed": [0],
                    "steps": [1],
                    "loss_nats_per_token": [1.0],
                    "accuracy": [0.5],
                }
            ),
            pd.DataFrame(),
            pd.DataFrame(),
        )


def test_markdown_rendering():
    assert format_cell(1.23456) == "1.2346" and format_cell(2.0) == "2" and format_cell(np.nan) == ""
    assert format_cell(1.5e-5) == "1.5e-05" and format_cell("a|b") == "a\\|b" and format_cell(True) == "yes"
    md = dataframe_to_markdown(pd.DataFrame({"a": [1], "b": ["x"]}))
    assert md == "| a | b |\n|---|---|\n| 1 | x |\n"


def test_provenance_helpers(tmp_path):
    assert config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1}) != config_hash({"a": 2, "b": 2})
    assert git_commit(tmp_path) == "not a git checkout"


def test_training_devices_count_runs_per_device_setup():
    gpu = {
        "backend": "gpu",
        "device_kind": "NVIDIA H100 80GB HBM3",
        "device_count": 8,
        "process_count": 1,
        "jax_version": "0.10.2",
        "jaxlib_version": "0.10.2",
    }
    runs = pd.DataFrame([gpu, gpu, {**gpu, "device_count": 16, "process_count": 2}, {"backend": None}])
    devices = training_devices(runs)
    assert {(d["device_count"], d["process_count"], d["runs"]) for d in devices} == {
        (8, 1, 2),
        (16, 2, 1),
        ("unknown", "unknown", 1),
    }
    assert training_devices(pd.DataFrame()) == []
    text = render_report(
        scale="smoke",
        tables={},
        claims=pd.DataFrame(columns=["id", "statement", "source", "verdict", "detail"]),
        prov={"config_sha256": "x", "git_commit": "y", "packages": {}, "data_files": {}, "devices": devices},
        token_tables={},
    )
    assert "| gpu | NVIDIA H100 80GB HBM3 | 8 | 1 | 0.10.2 | 0.10.2 | 2 |" in text


def test_paper_config_reads_table13_at_the_papers_steps():
    config = prepare_config({"scale": "paper"}, root=Path(__file__).resolve().parents[2])
    options = AnalysisOptions.from_config(config["analysis"])
    curve = pd.DataFrame(
        {
            "step": np.arange(config["m2"]["eval_every"], config["m2"]["steps"] + 1, config["m2"]["eval_every"]),
            "bits_per_byte": 1.0,
        }
    )
    read = {
        size: int(read_at_fraction(curve, options.scaled_data_fraction[size])["step"])
        for size in ("25m", "113m", "403m", "2b")
    }
    assert read == {"25m": 3000, "113m": 11000, "403m": 40000, "2b": 200000}  # Table 13: 3k / 11k / 40k / 200k
