"""The paper's claims as data, each with a machine-checkable predicate over the reproduced tables.

A predicate takes an ``Evidence`` (the tables of ``build_tables``, Figure 10's position accuracies and
the claim tolerances) and returns ``Verdict(holds, detail)``; ``holds`` is None when the runs it needs
are missing. The claims judge orderings and trends, not absolute numbers, so they are meaningful at
every scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from nc.models.sizes import model_size


@dataclass
class Evidence:
    tables: Mapping[str, pd.DataFrame]
    positions: pd.DataFrame
    tolerances: Mapping[str, float]


@dataclass(frozen=True)
class Verdict:
    holds: bool | None
    detail: str

    @property
    def text(self) -> str:
        return {True: "holds", False: "does not hold", None: "not testable"}[self.holds]


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    source: str
    evidence: tuple[str, ...]
    predicate: Callable[[Evidence], Verdict]


class Missing(Exception):
    """Raised inside a predicate when the runs it needs are absent."""


def _series(df: pd.DataFrame, label: str, value: str = "bits_per_byte") -> pd.Series:
    """``value`` of ``label`` per reproduced size (trained rows), ordered by model size."""
    sel = df[(df["paper_label"] == label) & (df["size"] != "uniform") & df["size"].notna() & df[value].notna()]
    if sel.empty:
        raise Missing(f"no runs of {label}")
    s = sel.set_index("size")[value].astype(float)
    return s.loc[sorted(s.index, key=lambda z: model_size(z).nominal_params)]


def _uniform(t15: pd.DataFrame, label: str) -> float:
    sel = t15[(t15["paper_label"] == label) & (t15["size"] == "uniform") & t15["bits_per_byte"].notna()]
    if sel.empty:
        raise Missing(f"no compression stats of {label}")
    return float(sel["bits_per_byte"].iloc[0])


def _vocab_name(token_bits) -> str:
    return "65k" if int(token_bits) == 16 else str(2 ** int(token_bits))


def _fmt(s: pd.Series) -> str:
    return ", ".join(f"{k}: {v:.3f}" for k, v in s.items())


# ------------------------------------------------------------------------------------------ predicates

def _unlearnable(ev: Evidence, labels) -> Verdict:
    t15, tol = ev.tables["table15_fig3_values"], ev.tolerances["uniform_relative"]
    details, ok = [], True
    for label in labels:
        bpb, uni = _series(t15, label), _uniform(t15, label)
        best = bpb.min()
        ok &= bool(best >= uni * (1 - tol))
        details.append(f"{label}: best {best:.3f} vs uniform {uni:.3f}")
    return Verdict(ok, f"every size within {tol:.0%} below uniform or worse? " + "; ".join(details))


def ac_unlearnable(ev):
    return _unlearnable(ev, ["AC[v=256]", "AC[v=65k]"])


def static_ac_unlearnable(ev):
    return _unlearnable(ev, ["StaticAC[v=256]", "StaticAC[v=65k]"])


def _learns(ev, label) -> tuple[bool, str]:
    t15, margin = ev.tables["table15_fig3_values"], ev.tolerances["learned_margin_relative"]
    bpb, uni = _series(t15, label), _uniform(t15, label)
    return bool(bpb.iloc[-1] <= uni * (1 - margin)), f"{label} at {bpb.index[-1]}: {bpb.iloc[-1]:.3f} vs uniform {uni:.3f}"


def eqinfo_learns(ev):
    results = [_learns(ev, l) for l in ("EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=16;v=65k]")]
    margin = ev.tolerances["learned_margin_relative"]
    return Verdict(all(r[0] for r in results), f"largest size at least {margin:.0%} below uniform? "
                   + "; ".join(r[1] for r in results))


def eqinfo65k_beats_bytes(ev):
    t15 = ev.tables["table15_fig3_values"]
    eq, by = _series(t15, "EqualInfoAC[b=16;v=65k]"), _series(t15, "Bytes")
    common = eq.index.intersection(by.index)
    if common.empty:
        raise Missing("no size with both EqualInfoAC[b=16;v=65k] and Bytes")
    return Verdict(bool((eq[common] < by[common]).all()), f"EqualInfoAC[b=16;v=65k] {_fmt(eq[common])}; Bytes {_fmt(by[common])}")


def sentencepiece_best(ev):
    t15 = ev.tables["table15_fig3_values"]
    trained = t15[(t15["size"] != "uniform") & t15["bits_per_byte"].notna() & t15["size"].notna()]
    best = trained.loc[trained.groupby("size")["bits_per_byte"].idxmin()].set_index("size")["paper_label"]
    if "SentencePiece" not in set(trained["paper_label"]):
        raise Missing("no SentencePiece runs")
    return Verdict(bool((best == "SentencePiece").all()), "best method per size: " + ", ".join(f"{k}: {v}" for k, v in best.items()))


def sp_gap_narrows(ev):
    t15 = ev.tables["table15_fig3_values"]
    gap = (_series(t15, "EqualInfoAC[b=16;v=65k]") - _series(t15, "SentencePiece")).dropna()
    if len(gap) < 2:
        raise Missing("fewer than two sizes with both methods")
    return Verdict(bool(gap.iloc[-1] < gap.iloc[0]), f"EqualInfoAC[b=16;v=65k] - SentencePiece: {_fmt(gap)}")


def eqinfo65k_fewer_steps(ev):
    t2 = ev.tables["table12_dataset_sizes"].set_index("paper_label")["compression_ratio"].dropna()
    if not {"EqualInfoAC[b=16;v=65k]", "SentencePiece"} <= set(t2.index):
        raise Missing("compression stats of EqualInfoAC[b=16;v=65k] or SentencePiece missing")
    eq, sp = t2["EqualInfoAC[b=16;v=65k]"], t2["SentencePiece"]
    return Verdict(bool(eq > sp), f"bytes/token: EqualInfoAC[b=16;v=65k] {eq:.2f}, SentencePiece {sp:.2f} "
                   f"(SentencePiece sequences {eq / sp - 1:.0%} longer)")


def gzip_learns(ev):
    ok, detail = _learns(ev, "GZip[v=256]")
    return Verdict(ok, detail)


def gzip_not_competitive(ev):
    t15 = ev.tables["table15_fig3_values"]
    gz, ac = _series(t15, "GZip[v=256]"), _series(t15, "AC[v=256]")
    common = gz.index.intersection(ac.index)
    if common.empty:
        raise Missing("no size with both GZip[v=256] and AC[v=256]")
    return Verdict(bool((gz[common] > ac[common]).all()),
                   f"GZip[v=256] {_fmt(gz[common])}; AC[v=256] (about M1's bits/byte) {_fmt(ac[common])}")


def learners_improve_with_scale(ev):
    t15, noise = ev.tables["table15_fig3_values"], ev.tolerances["scaling_noise_bits_per_byte"]
    details, ok = [], True
    for label in ("Bytes", "SentencePiece", "EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=16;v=65k]", "GZip[v=256]"):
        s = _series(t15, label)
        if len(s) < 2:
            raise Missing(f"{label} has fewer than two sizes")
        step_ok = bool((s.diff().dropna() <= noise).all() and s.iloc[-1] < s.iloc[0])
        ok &= step_ok
        details.append(f"{label} {_fmt(s)}")
    return Verdict(ok, "; ".join(details))


def _windows_at(ev, value: str, vocab: str) -> pd.DataFrame:
    t16 = ev.tables["table16_fig5_values"]
    cols = {}
    for b in (16, 32, 64, 128):
        try:
            cols[b] = _series(t16, f"EqualInfoAC[b={b};v={vocab}]", value)
        except Missing:
            pass
    if len(cols) < 2:
        raise Missing(f"fewer than two window sizes for v={vocab}")
    return pd.DataFrame(cols).dropna()


def shorter_windows_bits_per_token(ev):
    details, ok = [], True
    for vocab in ("256", "65k"):
        table = _windows_at(ev, "bits_per_token", vocab)
        mono = bool((table.diff(axis=1).iloc[:, 1:] > 0).all().all())
        ok &= mono
        details.append(f"v={vocab}: " + "; ".join(f"{size}: " + " < ".join(f"b{b}={v:.2f}" for b, v in row.items())
                                                  for size, row in table.iterrows()))
    return Verdict(ok, "bits/token increases with b at every size? " + " | ".join(details))


def b16_best_bits_per_byte(ev):
    table = _windows_at(ev, "bits_per_byte", "256")
    best = table.idxmin(axis=1)
    return Verdict(bool((best == 16).mean() > 0.5), "best window per size (v=256): " + _fmt(best.astype(float)))


def _vocab_pairs(ev, kind_prefix: str, tables=("table15_fig3_values",)):
    t = pd.concat([ev.tables[n] for n in tables], ignore_index=True)
    small, large = _series(t, f"{kind_prefix}v=256]"), _series(t, f"{kind_prefix}v=65k]")
    common = small.index.intersection(large.index)
    if common.empty:
        raise Missing(f"no size with both vocabularies of {kind_prefix}")
    return small[common], large[common]


def larger_vocab_helps_eqinfo(ev):
    small, large = _vocab_pairs(ev, "EqualInfoAC[b=16;")
    return Verdict(bool((large < small).all()), f"v=65k {_fmt(large)}; v=256 {_fmt(small)}")


def larger_vocab_hurts_gzip(ev):
    small, large = _vocab_pairs(ev, "GZip[")
    return Verdict(bool((large > small).all()), f"v=65k {_fmt(large)}; v=256 {_fmt(small)}")


def m1_reset_every_window_best(ev):
    t9 = ev.tables["table09_m1_reset"]
    details, ok = [], True
    for bits, group in t9.groupby("token_bits"):
        g = group.set_index("m1_reset")
        if g["bits_per_byte"].isna().any() or g["compression_ratio"].isna().any():
            raise Missing(f"M1 reset runs incomplete for token_bits={int(bits)}")
        every, other, never = (g.loc[k] for k in ("every window", "every other window", "never"))
        ok &= bool(every["bits_per_byte"] < min(other["bits_per_byte"], never["bits_per_byte"]))
        ok &= bool(every["compression_ratio"] < other["compression_ratio"] < never["compression_ratio"])
        details.append(f"v={_vocab_name(bits)}: bits/byte every {every['bits_per_byte']:.3f}, other "
                       f"{other['bits_per_byte']:.3f}, never {never['bits_per_byte']:.3f}; ratio "
                       f"{every['compression_ratio']:.2f} < {other['compression_ratio']:.2f} < {never['compression_ratio']:.2f}")
    return Verdict(ok, "; ".join(details))


def gzip_header_minimal(ev):
    t10, tol = ev.tables["table10_gzip_header"], ev.tolerances["gzip_header_bits_per_byte"]
    diffs = {}
    for bits, group in t10.groupby("token_bits"):
        g = group.set_index("header_footer")["bits_per_byte"]
        if g.isna().any():
            raise Missing(f"GZip header runs incomplete for token_bits={int(bits)}")
        diffs[f"v={_vocab_name(bits)}"] = abs(g["kept"] - g["removed"])
    return Verdict(all(d <= tol for d in diffs.values()),
                   f"|bits/byte kept - removed| <= {tol}? " + ", ".join(f"{k}: {v:.3f}" for k, v in diffs.items()))


def variance_low(ev):
    t11, tol = ev.tables["table11_variance"], ev.tolerances["variance_max_std"]
    std = t11.dropna(subset=["bits_per_byte_std"]).set_index("paper_label")["bits_per_byte_std"]
    if std.empty:
        raise Missing("no method run over several seeds")
    return Verdict(bool(std.max() <= tol), f"largest std {std.max():.4f} ({std.idxmax()}) <= {tol}? (paper: 0.0061)")


def _welch_rows(ev, source_prefix):
    w = ev.tables["welch_tests"]
    rows = w[w["source"].str.startswith(source_prefix)]
    if rows.empty or (rows["verdict"] == "not testable").any():
        raise Missing(f"{source_prefix} comparisons lack runs over several seeds")
    return rows


def byte_matched_significant(ev):
    rows = _welch_rows(ev, "Table 6")
    t6 = ev.tables["table06_byte_matched"]
    bpb = t6.set_index(t6["tokenization"] + " " + t6["comparison"].fillna("").astype(str))["bits_per_byte"]
    v256 = bpb["EqualInfoAC[b=16;v=256] "]
    byte_m, token_m = bpb["EqualInfoAC[b=16;v=65k] byte matched"], bpb["EqualInfoAC[b=16;v=65k] token matched"]
    ordered = bool(token_m < byte_m < v256)
    share = (v256 - byte_m) / (v256 - token_m) if v256 != token_m else np.nan
    share_ok = bool(share >= ev.tolerances["byte_matched_gain_share"])
    sig = bool((rows["verdict"] == "significant").all())
    return Verdict(ordered and sig and share_ok,
                   f"token matched {token_m:.3f} < byte matched {byte_m:.3f} < v=256 {v256:.3f}: {ordered}; "
                   f"all pairwise Welch p < alpha: {sig} (p = {', '.join(f'{p:.2g}' for p in rows['p'])}); "
                   f"byte-matched share of the gain {share:.0%} (paper: 84%)")


def seq2seq_decompression(ev):
    rows = _welch_rows(ev, "Table 5")
    ac = rows[rows["a"].str.startswith("AC[")].iloc[0]
    eq = rows[rows["a"].str.startswith("EqualInfoAC")].iloc[0]
    ok = ac["verdict"] == "not significant" and eq["verdict"] == "significant"
    return Verdict(bool(ok), f"AC[v=256] decompress vs byte LM: p = {ac['p']:.3g} ({ac['verdict']}); "
                   f"EqualInfoAC[b=16;v=256]: p = {eq['p']:.3g} ({eq['verdict']})")


def delay_tradeoff(ev):
    t17 = ev.tables["table17_fig14_values"]
    greedy, delay = _series(t17, "EqualInfoAC[b=16;v=256]"), _series(t17, "EqualInfoAC[b=16;v=256] Delay")
    common = greedy.index.intersection(delay.index)
    if common.empty:
        raise Missing("no size with both greedy and delayed v=256")
    ratios = t17.groupby("paper_label")["compression_ratio"].first()
    lower_ratio = all(ratios.get(f"{l} Delay", np.nan) < ratios.get(l, np.nan)
                      for l in ("EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=16;v=65k]"))
    greedy_better = bool((greedy[common] < delay[common]).mean() > 0.5)
    return Verdict(greedy_better and lower_ratio, f"v=256 greedy {_fmt(greedy[common])}, delay {_fmt(delay[common])}; "
                   f"delay lowers the compression ratio for both vocabularies: {lower_ratio}")


def b24_between(ev):
    t2 = ev.tables["table02_compression_ratio"].set_index("paper_label")["compression_ratio"]
    details, ok = [], True
    for vocab in ("256",):
        r16, r24, r32 = (t2.get(f"EqualInfoAC[b={b};v={vocab}]", np.nan) for b in (16, 24, 32))
        if np.isnan([r16, r24, r32]).any():
            raise Missing("compression stats of b=16/24/32 missing")
        ok &= bool(r16 < r24 < r32)
        details.append(f"ratio v={vocab}: b16 {r16:.2f} < b24 {r24:.2f} < b32 {r32:.2f}")
    return Verdict(ok, "; ".join(details))


def near_uniform_unigram(ev):
    t3, tol = ev.tables["table03_trivial_models"], ev.tolerances["near_uniform_unigram_delta"]
    t3 = t3.dropna(subset=["delta"]).set_index("paper_label")["delta"]
    compressed = t3[[l for l in t3.index if l not in ("Bytes", "SentencePiece")]]
    baselines = t3[[l for l in t3.index if l in ("Bytes", "SentencePiece")]]
    if compressed.empty or baselines.empty:
        raise Missing("trivial-model stats missing")
    ok = bool(compressed.max() <= tol and baselines.min() > tol)
    return Verdict(ok, f"unigram gain of compressed tokenizers max {compressed.max():.3f} (<= {tol}); "
                   f"of Bytes/SentencePiece min {baselines.min():.3f}")


def v65k_doubles_tokens(ev):
    t1 = ev.tables["table01_token_vs_bit_ratio"].set_index("paper_label")
    if not {"AC[v=256]", "AC[v=65k]"} <= set(t1.dropna(subset=["token_compression_ratio"]).index):
        raise Missing("AC compression stats missing")
    r = t1.loc["AC[v=65k]", "token_compression_ratio"] / t1.loc["AC[v=256]", "token_compression_ratio"]
    b = t1.loc["AC[v=65k]", "bit_compression_ratio"] / t1.loc["AC[v=256]", "bit_compression_ratio"]
    return Verdict(bool(abs(r - 2) < 0.05 and abs(b - 1) < 0.025),
                   f"token ratio x{r:.3f}, bit ratio x{b:.3f} from v=256 to v=65k")


def windows_raise_ratio(ev):
    t2 = ev.tables["table02_compression_ratio"].set_index("paper_label")["compression_ratio"]
    labels = ["StaticAC[v=256]"] + [f"EqualInfoAC[b={b};v=256]" for b in (16, 32, 64, 128)] + ["AC[v=256]"]
    vals = t2.reindex(labels)
    if vals.isna().any():
        raise Missing("compression stats missing for " + ", ".join(vals[vals.isna()].index))
    return Verdict(bool(vals.is_monotonic_increasing and vals.is_unique), "ratios: " + _fmt(vals))


def scaled_data_trends(ev):
    t13 = ev.tables["table13_scaled_data"]
    trained = t13.dropna(subset=["bits_per_byte", "size"])
    if trained.empty:
        raise Missing("no evaluation curves")
    best = trained.loc[trained.groupby("size")["bits_per_byte"].idxmin()].set_index("size")["paper_label"]
    uni = ev.tables["table15_fig3_values"]
    tol = ev.tolerances["uniform_relative"]
    ac = _series(t13, "AC[v=256]")
    ok = bool((best == "SentencePiece").all() and ac.min() >= _uniform(uni, "AC[v=256]") * (1 - tol))
    return Verdict(ok, "best per size: " + ", ".join(f"{k}: {v}" for k, v in best.items())
                   + f"; AC[v=256] {_fmt(ac)}")


def positions_unlock_in_order(ev):
    pos, thr = ev.positions, ev.tolerances["position_unlock_accuracy"]
    if pos.empty:
        raise Missing("no per-position accuracy")
    unlock = {}
    for p, group in pos.groupby("position"):
        hit = group[group["increase"] > thr]
        unlock[int(p)] = float(hit["step"].min()) if len(hit) else np.inf
    later = [unlock[p] for p in unlock if p >= 4]
    if 1 not in unlock or not later:
        raise Missing("fewer than four window positions")
    ok = bool(unlock[1] < np.inf and unlock[1] <= min(later))
    return Verdict(ok, "first step with gain > " + f"{thr}: " + ", ".join(
        f"#{p}: {'never' if np.isinf(s) else int(s)}" for p, s in sorted(unlock.items())))


CLAIMS: tuple[Claim, ...] = (
    Claim("ac_unlearnable", "AC is unlearnable: M2 over AC[v=256] and AC[v=65k] never beats the uniform model",
          "Section 4, Figure 3", ("table15_fig3_values",), ac_unlearnable),
    Claim("static_ac_unlearnable", "StaticAC is unlearnable: M2 stays at the uniform model", "Section 4, Figure 3",
          ("table15_fig3_values",), static_ac_unlearnable),
    Claim("eqinfo_learns", "Equal-Info windows make AC learnable: EqualInfoAC[b=16] beats its uniform model",
          "Section 4, Figure 3", ("table15_fig3_values",), eqinfo_learns),
    Claim("eqinfo65k_beats_bytes", "EqualInfoAC[b=16;v=65k] beats the Bytes baseline at every size",
          "Section 4, Figure 3", ("table15_fig3_values",), eqinfo65k_beats_bytes),
    Claim("sentencepiece_best", "SentencePiece has the best bits/byte at every size", "Section 4, Figure 3",
          ("table15_fig3_values",), sentencepiece_best),
    Claim("sp_gap_narrows", "The gap between EqualInfoAC[b=16;v=65k] and SentencePiece narrows with scale",
          "Section 4, Figure 3", ("table15_fig3_values",), sp_gap_narrows),
    Claim("eqinfo65k_fewer_steps", "EqualInfoAC[b=16;v=65k] needs fewer tokens (decoder steps) per byte than "
          "SentencePiece", "Section 4, Figure 4", ("table12_dataset_sizes",), eqinfo65k_fewer_steps),
    Claim("learners_improve_with_scale", "Bytes, SentencePiece, EqualInfoAC[b=16] and GZip improve with scale",
          "Section 4, Figure 3", ("table15_fig3_values",), learners_improve_with_scale),
    Claim("gzip_learns", "GZip learns: M2 over GZip[v=256] beats its uniform model", "Section 4",
          ("table15_fig3_values",), gzip_learns),
    Claim("gzip_not_competitive", "GZip is not competitive: GZip[v=256] is worse than AC[v=256] (about M1) at "
          "every size", "Section 4", ("table15_fig3_values",), gzip_not_competitive),
    Claim("shorter_windows_bits_per_token", "Shorter windows learn better in bits/token (monotonic in b)",
          "Section 4, Figure 5b", ("table16_fig5_values",), shorter_windows_bits_per_token),
    Claim("b16_best_bits_per_byte", "b=16 has the best bits/byte of the window sizes at most sizes",
          "Section 4, Figure 5a", ("table16_fig5_values",), b16_best_bits_per_byte),
    Claim("larger_vocab_helps_eqinfo", "A larger vocabulary (v=65k) helps EqualInfoAC[b=16] in bits/byte",
          "Section 4, Figure 6", ("table15_fig3_values",), larger_vocab_helps_eqinfo),
    Claim("larger_vocab_hurts_gzip", "For GZip, v=65k is worse than v=256", "Section 4, Figure 6",
          ("table15_fig3_values",), larger_vocab_hurts_gzip),
    Claim("near_uniform_unigram", "Compression-based tokenizers give near-uniform unigram statistics (small "
          "uniform - unigram gain), unlike Bytes and SentencePiece", "Section 3.4, Table 3",
          ("table03_trivial_models",), near_uniform_unigram),
    Claim("v65k_doubles_tokens", "16-bit tokens double the token compression ratio and leave the bit ratio "
          "unchanged", "Section 3.4, Table 1", ("table01_token_vs_bit_ratio",), v65k_doubles_tokens),
    Claim("windows_raise_ratio", "Compression ratio: StaticAC < EqualInfoAC b=16 < 32 < 64 < 128 < AC",
          "Section 3.3, Table 2", ("table02_compression_ratio",), windows_raise_ratio),
    Claim("byte_matched_significant", "v=65k beats v=256 even byte-matched; most of the gain remains; all three "
          "differences significant (Welch p < 0.05)", "Section 5.3, Table 6",
          ("table06_byte_matched", "welch_tests"), byte_matched_significant),
    Claim("seq2seq_decompression", "Decompressing AC is not learned (no significant gain over a byte LM, "
          "p = 0.07) while EqualInfoAC decompression is", "Section 5.2, Table 5",
          ("table05_seq2seq", "welch_tests"), seq2seq_decompression),
    Claim("positions_unlock_in_order", "Window-initial tokens are learned first; later positions unlock later",
          "Section 6.2, Figure 10", ("fig10_position_accuracy",), positions_unlock_in_order),
    Claim("m1_reset_every_window_best", "Resetting M1 every window is best in bits/byte, though resetting less "
          "often compresses more", "Appendix A.2, Table 9, Figure 12", ("table09_m1_reset",),
          m1_reset_every_window_best),
    Claim("b24_between", "b=24 windows compress between b=16 and b=32", "Appendix A.1", ("table02_compression_ratio",),
          b24_between),
    Claim("gzip_header_minimal", "Removing the GZip header/footer makes minimal difference", "Appendix A.4, Table 10",
          ("table10_gzip_header",), gzip_header_minimal),
    Claim("delay_tradeoff", "Greedy windows beat delayed ones for v=256; delaying lowers the compression ratio",
          "Appendix A.5, Figure 14", ("table17_fig14_values",), delay_tradeoff),
    Claim("variance_low", "Variance over seeds is low", "Section 3.8, Appendix D.1, Table 11",
          ("table11_variance",), variance_low),
    Claim("scaled_data_trends", "With training data scaled with model size the trends persist (SentencePiece "
          "best, AC at uniform)", "Appendix D.3, Table 13, Figure 15", ("table13_scaled_data",), scaled_data_trends),
)


def evaluate_claims(evidence: Evidence, claims=CLAIMS) -> pd.DataFrame:
    """``id, statement, source, evidence, verdict, holds, detail`` for every claim."""
    rows = []
    for claim in claims:
        try:
            verdict = claim.predicate(evidence)
        except Missing as exc:
            verdict = Verdict(None, f"missing runs: {exc}")
        except KeyError as exc:
            verdict = Verdict(None, f"missing value: {exc}")
        rows.append({"id": claim.id, "statement": claim.statement, "source": claim.source,
                     "evidence": ", ".join(claim.evidence), "verdict": verdict.text, "holds": verdict.holds,
                     "detail": verdict.detail})
    return pd.DataFrame(rows)
