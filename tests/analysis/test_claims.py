"""The claims' predicates on synthetic summaries that make them true, and on perturbed ones that do not."""

import pandas as pd
import pytest
from synthetic_runs import SIZES, make_frames, spelling_curves

from nc.analysis.claims import CLAIMS, Evidence, evaluate_claims, seq2seq_decompression
from nc.analysis.options import AnalysisOptions
from nc.analysis.outputs import analysis_frames
from nc.analysis.summary import make_summary
from nc.analysis.tables import EQ16, comparison_name
from nc.methods import ac

OPTIONS = AnalysisOptions.from_config({"m1_size": "t0"})


def verdicts(overrides=None, drop=None, options=OPTIONS, spelling=None):
    runs, evals, comp = make_frames(overrides)
    if drop is not None:
        runs = runs[~runs["method"].isin(drop)]
        evals = evals[~evals["method"].isin(drop)]
    summary = make_summary(runs, evals, comp, spelling if spelling is not None else spelling_curves())
    tables, positions = analysis_frames(summary, options)
    claims = evaluate_claims(Evidence(tables, positions, options.tolerances))
    return claims.set_index("id")["verdict"]


@pytest.fixture(scope="module")
def baseline():
    return verdicts()


def test_every_claim_holds_on_paper_shaped_summary(baseline):
    assert len(baseline) == len(CLAIMS)
    assert (baseline == "holds").all(), baseline[baseline != "holds"]


@pytest.mark.parametrize(
    "claim, overrides",
    [
        ("ac_unlearnable", {("AC[v=256]", "t4"): 1.0}),
        ("eqinfo_learns", {("EqualInfoAC[b=16;v=65k]", "t4"): 3.0}),
        ("eqinfo65k_beats_bytes", {("EqualInfoAC[b=16;v=65k]", "t2"): 1.2}),
        ("sentencepiece_best", {("Bytes", "t3"): 0.5}),
        ("sp_gap_narrows", {("SentencePiece", "t4"): 0.7}),
        ("gzip_not_competitive", {("GZip[v=256]", "t4"): 1.2}),
        ("shorter_windows_bits_per_token", {("EqualInfoAC[b=64;v=256]", "t2"): 1.3}),
        ("larger_vocab_helps_eqinfo", {("EqualInfoAC[b=16;v=65k]", "t4"): 1.0}),
        ("larger_vocab_hurts_gzip", {("GZip[v=65k]", "t1"): 2.0}),
        ("m1_reset_every_window_best", {("EqualInfoAC[b=16;v=256;reset=2]", "t3"): 1.0}),
        ("gzip_header_minimal", {("GZip[v=256;noheader]", "t1"): 2.6}),
        ("delay_tradeoff", {(l, s): 0.5 for l in ["EqualInfoAC[b=16;v=256;delay]"] for s in SIZES}),
        ("learners_improve_with_scale", {("Bytes", "t4"): 1.3}),
        ("windows_raise_ratio", {("ratio", "EqualInfoAC[b=64;v=256]"): 4.9}),
        ("eqinfo65k_fewer_steps", {("ratio", "EqualInfoAC[b=16;v=65k]"): 4.0}),
        ("byte_matched_significant", {("EqualInfoAC[b=16;v=65k]", "t1", "bytematched"): 1.5}),
        ("bitstream_unlearnable", {("AC[v=2]", "t3"): 1.2}),
    ],
)
def test_claim_fails_when_the_data_contradicts_it(claim, overrides, baseline):
    result = verdicts(overrides)
    assert result[claim] == "does not hold"
    # The perturbation is targeted: most other claims keep their verdict.
    assert (result == baseline).mean() > 0.6


def test_high_variance_fails_variance_low():
    opts = AnalysisOptions.from_config({"m1_size": "t0", "tolerances": {"variance_max_std": 0.001}})
    assert verdicts(options=opts)["variance_low"] == "does not hold"


def test_missing_runs_make_claims_not_testable():
    result = verdicts(drop=["EqualInfoAC[b=16;v=65k]", "AC[v=256]", "AC[v=65k]"])
    for claim in ("ac_unlearnable", "eqinfo65k_beats_bytes", "larger_vocab_helps_eqinfo", "byte_matched_significant"):
        assert result[claim] == "not testable", claim


def test_studies_run_at_one_vocabulary_are_judged_on_it():
    v65k = ["EqualInfoAC[b=16;v=65k;reset=2]", "EqualInfoAC[b=16;v=65k;reset=never]", "GZip[v=65k;noheader]"]
    result = verdicts(drop=v65k)
    assert result["m1_reset_every_window_best"] == "holds"
    assert result["gzip_header_minimal"] == "holds"
    contradicted = verdicts({("EqualInfoAC[b=16;v=256;reset=2]", "t3"): 1.0}, drop=v65k)
    assert contradicted["m1_reset_every_window_best"] == "does not hold"
    none_run = verdicts(drop=v65k + ["EqualInfoAC[b=16;v=256;reset=2]", "GZip[v=256;noheader]"])
    assert none_run["m1_reset_every_window_best"] == "not testable"
    assert none_run["gzip_header_minimal"] == "not testable"


def test_window_and_delay_studies_run_at_one_vocabulary_are_judged_on_it():
    v65k = [f"EqualInfoAC[b={b};v=65k]" for b in (32, 64, 128)] + ["EqualInfoAC[b=16;v=65k;delay]"]
    result = verdicts(drop=v65k)
    assert result["shorter_windows_bits_per_token"] == "holds"
    assert result["delay_tradeoff"] == "holds"
    contradicted = verdicts({("EqualInfoAC[b=64;v=256]", "t2"): 1.3}, drop=v65k)
    assert contradicted["shorter_windows_bits_per_token"] == "does not hold"
    windows = [f"EqualInfoAC[b={b};v={v}]" for b in (32, 64, 128) for v in ("256", "65k")]
    assert verdicts(drop=windows)["shorter_windows_bits_per_token"] == "not testable"


def test_positions_claim_fails_when_late_positions_unlock_first():
    runs, evals, comp = make_frames()
    mask = evals["method"] == "EqualInfoAC[b=64;v=256]"
    evals.loc[mask, "acc_pos_1"] = 0.01  # position 1 never improves
    tables, positions = analysis_frames(make_summary(runs, evals, comp), OPTIONS)
    result = evaluate_claims(Evidence(tables, positions, OPTIONS.tolerances)).set_index("id")["verdict"]
    assert result["positions_unlock_in_order"] == "does not hold"


def test_spelling_order_fails_when_shared_ids_spell_best_and_is_inconclusive_on_few_words():
    swapped = {"SentencePiece (Characters)": 0.9, "EqualInfoAC[b=16;v=256]": 0.4, "SentencePiece (Shared)": 0.6}
    assert verdicts(spelling=spelling_curves(swapped))["spelling_order"] == "does not hold"
    assert verdicts(spelling=spelling_curves(words=5))["spelling_order"] == "inconclusive"


def _table5_welch(eq_p, eq_reverse):
    rows = []
    for method, p, reverse in ((ac(), 0.4, False), (EQ16, eq_p, eq_reverse)):
        rows.append(
            {
                "source": "Table 5 / Section 5.2",
                "a": comparison_name(method, "Decompress"),
                "b": comparison_name(method, "Byte Level LM"),
                "p": p,
                "verdict": "significant" if p < 0.05 else "not significant",
                "reverse_significant": reverse,
            }
        )
    return Evidence({"welch_tests": pd.DataFrame(rows)}, pd.DataFrame(), OPTIONS.tolerances)


def test_decompression_significantly_worse_than_the_byte_lm_does_not_hold():
    assert seq2seq_decompression(_table5_welch(0.001, False)).outcome == "holds"
    assert seq2seq_decompression(_table5_welch(0.3, False)).outcome == "inconclusive"
    worse = seq2seq_decompression(_table5_welch(0.999, True))
    assert worse.outcome == "does not hold" and "significantly worse" in worse.detail
