"""Verdicts weigh differences against their noise: the paper's own numbers decide every published claim,
pure noise decides none, and perturbing the paper's numbers within their noise never reverses a verdict."""

import math

import numpy as np
import pandas as pd
import pytest
from synthetic_runs import _uniform, make_frames

from nc.analysis import audit
from nc.analysis.claims import (
    CLAIMS,
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    NOT_TESTABLE,
    Evidence,
    below,
    decide,
    evaluate_claims,
    less,
    ratio_less,
)
from nc.analysis.options import AnalysisOptions
from nc.analysis.outputs import analysis_frames
from nc.analysis.summary import make_summary
from nc.analysis.tables import bits_per_byte_noise, paper_value_tables

OPTIONS = AnalysisOptions.from_config({"m1_size": "t0"})
NO_POSITIONS = pd.DataFrame(columns=["step", "position", "accuracy", "increase"])
M2_CLAIMS = {c.id for c in CLAIMS if c.needs_learners}
FIGURE_ONLY = ("positions_unlock_in_order", "spelling_order")


def test_decisions_need_a_difference_beyond_noise():
    assert less(1.0, 0.01, 1.1, 0.01, 2.0) is True
    assert less(1.1, 0.01, 1.0, 0.01, 2.0) is False
    assert less(1.0, 0.05, 1.1, 0.05, 2.0) is None  # 0.1 < 2 x hypot(0.05, 0.05)
    assert below(0.9, 0.0, 1.0, 2.0) is True and below(1.0, 0.0, 1.0, 2.0) is None
    assert ratio_less(2.0, 2.01, 0.01) is None and ratio_less(2.0, 2.1, 0.01) is True
    assert decide([True, None]) is None and decide([True, None, False]) is False and decide([True]) is True


def test_noise_combines_seed_spread_and_evaluation_error():
    spreads = {"Bytes": 0.03}
    got = bits_per_byte_noise(
        ["Bytes", "Bytes", "GZip[v=256]"], [1, 4, 1], [np.nan, 0.02, np.nan], [0.04, 0.04, np.nan], spreads
    )
    assert got[0] == pytest.approx(0.05)  # hypot(0.03, 0.04)
    assert got[1] == pytest.approx(math.hypot(0.02, 0.04) / 2)  # own spread over 4 seeds
    assert got[2] == pytest.approx(0.03)  # a method never run over seeds gets the pooled spread


def paper_verdicts(tables=None):
    tables = tables if tables is not None else paper_value_tables(OPTIONS)
    return evaluate_claims(Evidence(tables, NO_POSITIONS, OPTIONS.tolerances)).set_index("id")


def test_every_claim_the_paper_publishes_evidence_for_holds_on_its_values():
    verdicts = paper_verdicts()["verdict"]
    assert len(verdicts) == len(CLAIMS)
    assert (verdicts[list(FIGURE_ONLY)] == NOT_TESTABLE).all()  # Figures 10 and 13's numbers are not published
    assert (verdicts.drop(list(FIGURE_ONLY)) == HOLDS).all(), verdicts[verdicts != HOLDS]


def test_paper_values_command_prints_the_counts(capsys, tmp_path):
    assert audit.main(["--paper-values", "--csv", str(tmp_path / "claims.csv")]) == 0
    out = capsys.readouterr().out
    assert f"{len(CLAIMS) - 2} holds, 0 does not hold, 0 inconclusive, 2 not testable" in out
    assert len(pd.read_csv(tmp_path / "claims.csv")) == len(CLAIMS)


def _perturbed(tables, rng):
    """A copy with every trained bits/byte moved by one draw of its own noise."""
    out = {}
    for name, df in tables.items():
        df = df.copy()
        if "bits_per_byte_noise" in df.columns:
            noise = df["bits_per_byte_noise"].astype(float).fillna(0.0)
            df["bits_per_byte"] = df["bits_per_byte"] + noise * rng.standard_normal(len(df))
            if "bits_per_token" in df.columns:
                df["bits_per_token"] = df["bits_per_byte"] * df["compression_ratio"]
        out[name] = df
    return out


@pytest.mark.parametrize("seed", range(8))
def test_perturbing_the_paper_within_its_noise_never_reverses_a_verdict(seed):
    verdicts = paper_verdicts(_perturbed(paper_value_tables(OPTIONS), np.random.default_rng(seed)))["verdict"]
    assert not (verdicts == FAILS).any(), verdicts[verdicts == FAILS]


def _at_uniform(frames, rng, sd=0.01):
    """Every M2 at its uniform model plus noise (seq2seq: both tasks at one cross-entropy plus noise)."""
    runs, evals, comp = (f.copy() for f in frames)
    for df in (runs, evals):
        seq2seq = df["variant"].str.startswith("seq2seq")
        uniform = df["method"].map(_uniform)
        base = np.where(seq2seq, 1.0, uniform)
        df["bits_per_byte"] = base + sd * rng.standard_normal(len(df))
        loss = "loss_nats_per_token" if "loss_nats_per_token" in df.columns else "loss"
        df[loss] = (
            df["bits_per_byte"]
            * df["method"].map(lambda m: comp.set_index("method").loc[m, "compression_ratio"])
            * math.log(2)
        )
        for col in [c for c in df.columns if c.startswith("acc_pos_")]:
            df[col] = 0.01 + 0.001 * rng.standard_normal(len(df))
    runs["eval_tokens"] = 4096
    evals["tokens"] = 4096
    return runs, evals, comp


@pytest.mark.parametrize("seed", range(3))
def test_m2s_at_their_uniform_models_decide_no_claim_about_m2s(seed):
    runs, evals, comp = _at_uniform(make_frames(seed=seed), np.random.default_rng(seed))
    tables, positions = analysis_frames(make_summary(runs, evals, comp), OPTIONS)
    verdicts = evaluate_claims(Evidence(tables, positions, OPTIONS.tolerances)).set_index("id")
    m2 = verdicts.loc[sorted(M2_CLAIMS), "verdict"]
    assert m2.isin([INCONCLUSIVE, NOT_TESTABLE]).all(), m2[~m2.isin([INCONCLUSIVE, NOT_TESTABLE])]
    assert "premise unmet" in verdicts.loc["sentencepiece_best", "detail"]


@pytest.mark.parametrize(
    "claim, tied, to",
    [
        ("eqinfo65k_beats_bytes", "EqualInfoAC[b=16;v=65k]", "Bytes"),
        ("larger_vocab_helps_eqinfo", "EqualInfoAC[b=16;v=65k]", "EqualInfoAC[b=16;v=256]"),
        ("larger_vocab_hurts_gzip", "GZip[v=65k]", "GZip[v=256]"),
        ("gzip_not_competitive", "GZip[v=256]", "AC[v=256]"),
    ],
)
def test_a_tie_within_noise_is_inconclusive(claim, tied, to):
    runs, evals, comp = make_frames()
    rng = np.random.default_rng(1)
    base = runs[(runs["method"] == to) & (runs["seed"] == 0) & (runs["variant"] == "default")].set_index("size")[
        "bits_per_byte"
    ]
    for size, value in base.items():
        mask = (runs["method"] == tied) & (runs["size"] == size) & (runs["variant"] == "default")
        runs.loc[mask, "bits_per_byte"] = value + 0.0005 * rng.standard_normal(int(mask.sum()))
    tables, positions = analysis_frames(make_summary(runs, evals, comp), OPTIONS)
    verdict = evaluate_claims(Evidence(tables, positions, OPTIONS.tolerances)).set_index("id").loc[claim]
    assert verdict["verdict"] == INCONCLUSIVE, verdict["detail"]


def test_gzip_claims_wait_for_gzip_to_compress():
    runs, evals, comp = make_frames({("ratio", "GZip[v=256]"): 0.97})
    tables, positions = analysis_frames(make_summary(runs, evals, comp), OPTIONS)
    verdicts = evaluate_claims(Evidence(tables, positions, OPTIONS.tolerances)).set_index("id")
    for claim in ("gzip_learns", "gzip_not_competitive", "gzip_header_minimal"):
        assert verdicts.loc[claim, "verdict"] == INCONCLUSIVE
        assert "expands" in verdicts.loc[claim, "detail"]


def test_findings_tabulate_the_look_ahead_rule_exceptions():
    comp = pd.DataFrame(
        {
            "paper_label": ["EqualInfoAC[b=16;v=256]", "AC[v=256]", "EqualInfoAC[b=16;v=256] Delay"],
            "kind": ["EqualInfoAC", "AC", "EqualInfoAC"],
            "compression_ratio": [2.6, 5.4, 2.2],
            "rule_exception_rate": [0.1, np.nan, 0.02],
            "side_info_bits_per_example": [40.0, 20.0, 15.0],
        }
    )
    findings = audit.project_findings(comp)
    assert list(findings["paper_label"]) == ["EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=16;v=256] Delay"]
    assert list(findings["rule_exception_rate"]) == [0.1, 0.02]
