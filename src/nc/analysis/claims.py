"""The paper's claims as data, each with a predicate that weighs the reproduced numbers against their noise.

A predicate takes an ``Evidence`` (the tables of ``build_tables``, Figure 10's position accuracies and
the claim tolerances) and returns a ``Verdict``: **holds**, **does not hold**, **inconclusive** (the
evidence exists but does not decide: a difference within its noise, or a premise of the comparison that
the runs do not meet, e.g. the learners do not beat their unigram baselines) or **not testable** (the
runs or published numbers it needs are absent). Every verdict's detail names the numbers behind it.

Noise: every trained bits/byte carries ``bits_per_byte_noise`` (``nc.analysis.tables``: seed spread and
the evaluation sample's standard error). A difference a - b is *decided* only when it exceeds
``noise_z`` x hypot(noise_a, noise_b); compression ratios are exact measurements of the whole split and
are decided beyond ``ratio_resolution_relative``; per-position accuracies use the binomial standard
error of their evaluation tokens; seed variances a chi-square bound. The claims judge orderings and
trends, not absolute numbers, so they are meaningful at every scale where the models learn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nc.data.spelling import SCHEMES
from nc.methods import (
    BYTES,
    SENTENCEPIECE,
    V65K_BITS,
    V256_BITS,
    MethodSpec,
    ac,
    equal_info,
    gzip,
    static_ac,
)
from nc.models.sizes import model_size

from .tables import M1_PROXY, comparison_name

HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE = "holds", "does not hold", "inconclusive", "not testable"
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE)
LEARNERS = (BYTES, SENTENCEPIECE)  # text tokenizers: an M2 that learns anything beats their unigrams
LEARNER_LABELS = {m.paper_label for m in LEARNERS}
VOCABULARIES = (V256_BITS, V65K_BITS)
EQ16, EQ16_65K = equal_info(16), equal_info(16, V65K_BITS)


@dataclass
class Evidence:
    tables: Mapping[str, pd.DataFrame]
    positions: pd.DataFrame
    tolerances: Mapping[str, float]

    @property
    def z(self) -> float:
        return float(self.tolerances["noise_z"])


@dataclass(frozen=True)
class Verdict:
    """``outcome`` is one of ``VERDICTS``; ``detail`` says which numbers decided it."""

    outcome: str
    detail: str

    def __post_init__(self):
        if self.outcome not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.outcome!r}")

    @property
    def holds(self) -> bool | None:
        return {HOLDS: True, FAILS: False}.get(self.outcome)

    @property
    def text(self) -> str:
        return self.outcome


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    source: str
    evidence: tuple[str, ...]
    predicate: Callable[[Evidence], Verdict]
    needs_learners: bool = True  # judged on trained M2s: inconclusive unless the learners learn


class Missing(Exception):
    """Raised inside a predicate when the runs it needs are absent."""


# ------------------------------------------------------------------------------------------ decisions


def decide(outcomes: Iterable[bool | None]) -> bool | None:
    """All of ``outcomes``: False if any is False, None if any is undecided, else True."""
    outcomes = list(outcomes)
    if any(o is False for o in outcomes):
        return False
    return None if any(o is None for o in outcomes) else True


def below(value: float, noise: float, threshold: float, z: float) -> bool | None:
    """Is ``value`` below ``threshold``? True/False when the gap exceeds z x noise, else None."""
    gap = threshold - value
    margin = z * (0.0 if not np.isfinite(noise) else noise)
    return True if gap > margin else False if gap < -margin else None


def negate(outcome: bool | None) -> bool | None:
    return None if outcome is None else not outcome


def at_least(value: float, noise: float, threshold: float, z: float) -> bool | None:
    """Is ``value`` at or above ``threshold``, beyond noise (the negation of ``below``)?"""
    return negate(below(value, noise, threshold, z))


def less(a: float, a_noise: float, b: float, b_noise: float, z: float) -> bool | None:
    """Is a < b, beyond z x hypot(noise_a, noise_b)?"""
    return below(a, float(np.hypot(np.nan_to_num(a_noise), np.nan_to_num(b_noise))), b, z)


def ratio_less(a: float, b: float, resolution: float) -> bool | None:
    """Is compression ratio a < b, by more than ``resolution`` (relative)?"""
    return below(a, resolution * max(abs(a), abs(b)), b, 1.0)


def verdict(outcome: bool | None, detail: str, undecided: str = "within noise") -> Verdict:
    if outcome is None:
        return Verdict(INCONCLUSIVE, f"{undecided}: {detail}")
    return Verdict(HOLDS if outcome else FAILS, detail)


# ------------------------------------------------------------------------------------------ reading tables


def _series(df: pd.DataFrame, method: MethodSpec | str, value: str = "bits_per_byte") -> pd.DataFrame:
    """``value`` and its ``noise`` (0 where the table has none) of ``method`` (a MethodSpec, or a row's
    ``paper_label`` read from the table) per trained size, ordered by model size."""
    label = method.paper_label if isinstance(method, MethodSpec) else method
    sel = df[(df["paper_label"] == label) & (df["size"] != "uniform") & df["size"].notna() & df[value].notna()]
    if sel.empty:
        raise Missing(f"no runs of {label}")
    noise = sel["bits_per_byte_noise"] if "bits_per_byte_noise" in sel.columns else pd.Series(0.0, index=sel.index)
    if value == "bits_per_token":  # bits/token = bits/byte x bytes/token
        noise = noise * sel["compression_ratio"].astype(float)
    out = pd.DataFrame(
        {"value": sel[value].astype(float).to_numpy(), "noise": noise.astype(float).fillna(0.0).to_numpy()},
        index=sel["size"].to_numpy(),
    )
    return out.loc[sorted(out.index, key=lambda z: model_size(z).nominal_params)]


def _uniform(t15: pd.DataFrame, method: MethodSpec) -> float:
    label = method.paper_label
    sel = t15[(t15["paper_label"] == label) & (t15["size"] == "uniform") & t15["bits_per_byte"].notna()]
    if sel.empty:
        raise Missing(f"no compression stats of {label}")
    return float(sel["bits_per_byte"].iloc[0])


def _ratios(ev: Evidence) -> pd.Series:
    t2 = ev.tables["table02_compression_ratio"].set_index("paper_label")["compression_ratio"]
    t12 = ev.tables["table12_dataset_sizes"].set_index("paper_label")["compression_ratio"]
    return pd.concat([t12, t2]).dropna().groupby(level=0).first()


def _vocab_name(token_bits) -> str:
    return "65k" if int(token_bits) == 16 else str(2 ** int(token_bits))


def _fmt(s: pd.DataFrame) -> str:
    return ", ".join(f"{k}: {r.value:.3f}±{r.noise:.3f}" for k, r in s.iterrows())


def _common(a: pd.DataFrame, b: pd.DataFrame, what: str) -> pd.Index:
    common = a.index.intersection(b.index)
    if common.empty:
        raise Missing(f"no size with both {what}")
    return common


def _less_at(a: pd.DataFrame, b: pd.DataFrame, sizes, z: float) -> list[bool | None]:
    return [less(a.loc[s, "value"], a.loc[s, "noise"], b.loc[s, "value"], b.loc[s, "noise"], z) for s in sizes]


def _majority(outcomes: list[bool | None]) -> bool | None:
    """True when most outcomes hold, False when at least half fail, else None."""
    n = len(outcomes)
    if sum(o is True for o in outcomes) > n / 2:
        return True
    return False if sum(o is False for o in outcomes) >= n / 2 else None


# ------------------------------------------------------------------------------------------ premises


def learners_learn(ev: Evidence) -> tuple[bool | None, str]:
    """Premise of every claim about trained M2s: Bytes and SentencePiece, at their best size, beat their
    unigram baselines (Table 3) by ``learned_margin_relative``."""
    t15, t3 = ev.tables["table15_fig3_values"], ev.tables["table03_trivial_models"].set_index("paper_label")
    margin = ev.tolerances["learned_margin_relative"]
    outcomes, parts = [], []
    for method in LEARNERS:
        label = method.paper_label
        try:
            s = _series(t15, method)
        except Missing:
            continue
        unigram = t3["unigram_bits_per_byte"].get(label, np.nan)
        if not np.isfinite(unigram):
            continue
        best = s.loc[s["value"].idxmin()]
        outcomes.append(below(best.value, best.noise, unigram * (1 - margin), ev.z))
        parts.append(f"{label} {best.value:.3f}±{best.noise:.3f} vs unigram {unigram:.3f}")
    if not outcomes:
        return None, "no Bytes or SentencePiece runs with unigram statistics to tell whether the M2s learn"
    return decide(outcomes), f"learners at least {margin:.0%} below their unigram baselines? " + "; ".join(parts)


def gzip_compresses(ev: Evidence) -> tuple[bool, str]:
    """Premise of the GZip claims: GZip shortens the examples (ratio > 1 + resolution)."""
    label = gzip().paper_label
    ratio = _ratios(ev).get(label, np.nan)
    if not np.isfinite(ratio):
        raise Missing(f"no compression stats of {label}")
    ok = bool(ratio > 1 + ev.tolerances["ratio_resolution_relative"])
    return ok, f"{label} compression ratio {ratio:.2f}" + (
        "" if ok else " (GZip expands these examples: longer examples are needed)"
    )


def _gzip_premise(ev: Evidence) -> Verdict | None:
    ok, detail = gzip_compresses(ev)
    return None if ok else Verdict(INCONCLUSIVE, f"premise unmet: {detail}")


def _m2_beats_m1(ev: Evidence, series: pd.DataFrame, size) -> tuple[bool | None, str]:
    """Premise of "SentencePiece is best": its M2 is stronger than M1 (AC's M2 sits at M1's bits/byte);
    the paper's M2s are 8-700x M1's size."""
    m1 = _uniform(ev.tables["table15_fig3_values"], M1_PROXY)
    row = series.loc[size]
    return below(row.value, row.noise, m1, ev.z), f"SentencePiece {row.value:.3f} vs M1 {m1:.3f}"


# ------------------------------------------------------------------------------------------ predicates


def _unlearnable(ev: Evidence, methods: Iterable[MethodSpec]) -> Verdict:
    t15, tol = ev.tables["table15_fig3_values"], ev.tolerances["uniform_relative"]
    outcomes, details = [], []
    for method in methods:
        s, uni = _series(t15, method), _uniform(t15, method)
        best = s.loc[s["value"].idxmin()]
        # "At the uniform model": no more than tol below it, beyond noise.
        outcomes.append(at_least(best.value, best.noise, uni * (1 - tol), ev.z))
        details.append(f"{method.paper_label}: best {best.value:.3f}±{best.noise:.3f} vs uniform {uni:.3f}")
    return verdict(decide(outcomes), f"every size within {tol:.0%} below uniform or worse? " + "; ".join(details))


def ac_unlearnable(ev):
    return _unlearnable(ev, [ac(bits) for bits in VOCABULARIES])


def static_ac_unlearnable(ev):
    return _unlearnable(ev, [static_ac(bits) for bits in VOCABULARIES])


def _learns(ev, method: MethodSpec) -> tuple[bool | None, str]:
    t15, margin = ev.tables["table15_fig3_values"], ev.tolerances["learned_margin_relative"]
    s, uni = _series(t15, method), _uniform(t15, method)
    last = s.iloc[-1]
    return (
        below(last.value, last.noise, uni * (1 - margin), ev.z),
        f"{method.paper_label} at {s.index[-1]}: {last.value:.3f}±{last.noise:.3f} vs uniform {uni:.3f}",
    )


def eqinfo_learns(ev):
    results = [_learns(ev, m) for m in (EQ16, EQ16_65K)]
    margin = ev.tolerances["learned_margin_relative"]
    return verdict(
        decide(r[0] for r in results),
        f"largest size at least {margin:.0%} below uniform? " + "; ".join(r[1] for r in results),
    )


def eqinfo65k_beats_bytes(ev):
    t15 = ev.tables["table15_fig3_values"]
    eq, by = _series(t15, EQ16_65K), _series(t15, BYTES)
    common = _common(eq, by, f"{EQ16_65K} and {BYTES}")
    return verdict(
        decide(_less_at(eq, by, common, ev.z)),
        f"{EQ16_65K} {_fmt(eq.loc[common])}; {BYTES} {_fmt(by.loc[common])}",
    )


def _best_is_sentencepiece(ev: Evidence, table: pd.DataFrame) -> tuple[bool | None, str]:
    """Per size: SentencePiece beats every other method beyond noise, given that its M2 beats M1."""
    sp = _series(table, SENTENCEPIECE)
    labels = [l for l in table["paper_label"].dropna().unique() if l != SENTENCEPIECE.paper_label]
    others = {}
    for label in labels:
        try:
            others[label] = _series(table, label)
        except Missing:
            pass
    outcomes: list[bool | None] = []
    details: list[str] = []
    for size in sp.index:
        premise, premise_detail = _m2_beats_m1(ev, sp, size)
        rivals = {l: s for l, s in others.items() if size in s.index}
        best = min(rivals, key=lambda l: rivals[l].loc[size, "value"]) if rivals else None
        if premise is not True:
            outcomes.append(None)
            details.append(f"{size}: premise unmet ({premise_detail}: M2 is no stronger than M1 here)")
            continue
        outcome = decide(
            less(sp.loc[size, "value"], sp.loc[size, "noise"], s.loc[size, "value"], s.loc[size, "noise"], ev.z)
            for s in rivals.values()
        )
        outcomes.append(outcome)
        details.append(
            f"{size}: SentencePiece {sp.loc[size, 'value']:.3f}±{sp.loc[size, 'noise']:.3f}, next best "
            f"{best} {rivals[best].loc[size, 'value']:.3f}"
            if best
            else f"{size}: no rival"
        )
    return decide(outcomes), "; ".join(details)


def sentencepiece_best(ev):
    outcome, detail = _best_is_sentencepiece(ev, ev.tables["table15_fig3_values"])
    return verdict(outcome, detail, "undecided")


def sp_gap_narrows(ev):
    t15 = ev.tables["table15_fig3_values"]
    eq, sp = _series(t15, EQ16_65K), _series(t15, SENTENCEPIECE)
    common = _common(eq, sp, f"{EQ16_65K} and {SENTENCEPIECE}")
    if len(common) < 2:
        raise Missing("fewer than two sizes with both methods")
    gap = eq.loc[common, "value"] - sp.loc[common, "value"]
    gap_noise = np.hypot(eq.loc[common, "noise"], sp.loc[common, "noise"])
    outcome = less(gap.iloc[-1], gap_noise.iloc[-1], gap.iloc[0], gap_noise.iloc[0], ev.z)
    return verdict(
        outcome,
        f"{EQ16_65K} - {SENTENCEPIECE}: "
        + ", ".join(f"{k}: {g:.3f}±{n:.3f}" for k, g, n in zip(common, gap, gap_noise)),
    )


def eqinfo65k_fewer_steps(ev):
    ratios = _ratios(ev)
    if not {EQ16_65K.paper_label, SENTENCEPIECE.paper_label} <= set(ratios.index):
        raise Missing(f"compression stats of {EQ16_65K} or {SENTENCEPIECE} missing")
    eq, sp = ratios[EQ16_65K.paper_label], ratios[SENTENCEPIECE.paper_label]
    return verdict(
        ratio_less(sp, eq, ev.tolerances["ratio_resolution_relative"]),
        f"bytes/token: {EQ16_65K} {eq:.2f}, {SENTENCEPIECE} {sp:.2f} "
        f"(SentencePiece sequences {eq / sp - 1:.0%} longer)",
    )


def gzip_learns(ev):
    premise = _gzip_premise(ev)
    if premise:
        return premise
    outcome, detail = _learns(ev, gzip())
    return verdict(outcome, detail)


def gzip_not_competitive(ev):
    premise = _gzip_premise(ev)
    if premise:
        return premise
    t15 = ev.tables["table15_fig3_values"]
    gz, arith = _series(t15, gzip()), _series(t15, ac())
    common = _common(gz, arith, f"{gzip()} and {ac()}")
    return verdict(
        decide(_less_at(arith, gz, common, ev.z)),
        f"{gzip()} {_fmt(gz.loc[common])}; {ac()} (about M1's bits/byte) {_fmt(arith.loc[common])}",
    )


def _improves(s: pd.DataFrame, z: float) -> bool | None:
    """No size decidedly worse than the one before, and the largest decidedly better than the smallest."""
    pairs = zip(s.iloc[:-1].itertuples(), s.iloc[1:].itertuples())
    if any(less(a.value, a.noise, b.value, b.noise, z) for a, b in pairs):
        return False
    return less(s.iloc[-1].value, s.iloc[-1].noise, s.iloc[0].value, s.iloc[0].noise, z)


def learners_improve_with_scale(ev):
    t15 = ev.tables["table15_fig3_values"]
    gzip_ok, gzip_detail = gzip_compresses(ev)
    outcomes: list[bool | None] = []
    details: list[str] = []
    for method in (BYTES, SENTENCEPIECE, EQ16, EQ16_65K, gzip()):
        s = _series(t15, method)
        if len(s) < 2:
            raise Missing(f"{method} has fewer than two sizes")
        if method.kind == "GZip" and not gzip_ok:
            outcomes.append(None)
            details.append(f"{method}: premise unmet ({gzip_detail})")
            continue
        outcomes.append(_improves(s, ev.z))
        details.append(f"{method} {_fmt(s)}")
    return verdict(
        decide(outcomes),
        "no size worse than the one before and the largest better than the smallest? " + "; ".join(details),
    )


def _windows_at(ev, value: str, token_bits: int) -> dict[int, pd.DataFrame]:
    t16 = ev.tables["table16_fig5_values"]
    vocab = _vocab_name(token_bits)
    cols = {}
    for b in (16, 32, 64, 128):
        try:
            cols[b] = _series(t16, equal_info(b, token_bits), value)
        except Missing:
            pass
    if len(cols) < 2:
        raise Missing(f"fewer than two window sizes for v={vocab}")
    sizes = sorted(set.intersection(*(set(c.index) for c in cols.values())), key=lambda s: model_size(s).nominal_params)
    if not sizes:
        raise Missing(f"no size with every window size for v={vocab}")
    return {b: c.loc[sizes] for b, c in cols.items()}


def shorter_windows_bits_per_token(ev):
    """Judged at each vocabulary with two or more window sizes run (a scale may run the window study at
    one vocabulary); not testable when neither has."""
    outcomes, details, missing = [], [], []
    for bits in VOCABULARIES:
        vocab = _vocab_name(bits)
        try:
            table = _windows_at(ev, "bits_per_token", bits)
        except Missing as exc:
            missing.append(str(exc))
            details.append(f"v={vocab}: not run")
            continue
        bs = sorted(table)
        for size in table[bs[0]].index:
            outcomes += [
                less(
                    table[a].loc[size, "value"],
                    table[a].loc[size, "noise"],
                    table[b].loc[size, "value"],
                    table[b].loc[size, "noise"],
                    ev.z,
                )
                for a, b in zip(bs[:-1], bs[1:])
            ]
            details.append(f"v={vocab} {size}: " + " < ".join(f"b{b}={table[b].loc[size, 'value']:.2f}" for b in bs))
    if not outcomes:
        raise Missing("; ".join(missing))
    return verdict(decide(outcomes), "bits/token increases with b at every size? " + " | ".join(details))


def b16_best_bits_per_byte(ev):
    table = _windows_at(ev, "bits_per_byte", V256_BITS)
    if 16 not in table:
        raise Missing("no b=16 runs")
    per_size, details = [], []
    for size in table[16].index:
        b16 = table[16].loc[size]
        per_size.append(
            decide(
                less(b16.value, b16.noise, t.loc[size, "value"], t.loc[size, "noise"], ev.z)
                for b, t in table.items()
                if b != 16
            )
        )
        best = min(table, key=lambda b: table[b].loc[size, "value"])
        details.append(f"{size}: best b={best}, b16 {b16.value:.3f}±{b16.noise:.3f}")
    return verdict(_majority(per_size), "b=16 best (v=256) at most sizes? " + "; ".join(details))


def _vocab_pairs(ev, method: Callable[[int], MethodSpec]):
    """``method(token_bits)`` at v=256 and at v=65k, on the sizes both ran."""
    t = ev.tables["table15_fig3_values"]
    small, large = _series(t, method(V256_BITS)), _series(t, method(V65K_BITS))
    common = _common(small, large, f"{method(V256_BITS)} and {method(V65K_BITS)}")
    return small.loc[common], large.loc[common]


def larger_vocab_helps_eqinfo(ev):
    small, large = _vocab_pairs(ev, lambda bits: equal_info(16, bits))
    return verdict(decide(_less_at(large, small, small.index, ev.z)), f"v=65k {_fmt(large)}; v=256 {_fmt(small)}")


def larger_vocab_hurts_gzip(ev):
    premise = _gzip_premise(ev)
    if premise:
        return premise
    small, large = _vocab_pairs(ev, gzip)
    return verdict(decide(_less_at(small, large, small.index, ev.z)), f"v=65k {_fmt(large)}; v=256 {_fmt(small)}")


def _complete_vocabularies(table: pd.DataFrame, columns: list[str], study: str, details: list[str]):
    """(token_bits, rows) of each vocabulary whose ``columns`` are all present; a vocabulary with a gap is
    noted in ``details`` and left out (a scale may run a study at one vocabulary); Missing when none is
    complete."""
    complete = []
    for bits, group in table.groupby("token_bits"):
        if group[columns].isna().any().any():
            details.append(f"v={_vocab_name(bits)}: not run")
        else:
            complete.append((bits, group))
    if not complete:
        raise Missing(f"{study} runs incomplete for every vocabulary")
    return complete


def m1_reset_every_window_best(ev):
    t9, z, res = ev.tables["table09_m1_reset"], ev.z, ev.tolerances["ratio_resolution_relative"]
    outcomes: list[bool | None] = []
    details: list[str] = []
    for bits, group in _complete_vocabularies(t9, ["bits_per_byte", "compression_ratio"], "M1 reset", details):
        g = group.set_index("m1_reset")
        noise = g["bits_per_byte_noise"].fillna(0.0) if "bits_per_byte_noise" in g else pd.Series(0.0, index=g.index)
        every, other, never = ("every window", "every other window", "never")
        bpb = g["bits_per_byte"]
        outcomes += [less(bpb[every], noise[every], bpb[k], noise[k], z) for k in (other, never)]
        ratio = g["compression_ratio"]
        outcomes += [ratio_less(ratio[every], ratio[other], res), ratio_less(ratio[other], ratio[never], res)]
        details.append(
            f"v={_vocab_name(bits)}: bits/byte every {bpb[every]:.3f}±{noise[every]:.3f}, other "
            f"{bpb[other]:.3f}, never {bpb[never]:.3f}; ratio {ratio[every]:.2f} < {ratio[other]:.2f} "
            f"< {ratio[never]:.2f}"
        )
    return verdict(decide(outcomes), "; ".join(details))


def gzip_header_minimal(ev):
    premise = _gzip_premise(ev)
    if premise:
        return premise
    t10, tol, z = ev.tables["table10_gzip_header"], ev.tolerances["gzip_header_bits_per_byte"], ev.z
    outcomes: list[bool | None] = []
    details: list[str] = []
    for bits, group in _complete_vocabularies(t10, ["bits_per_byte"], "GZip header", details):
        g = group.set_index("header_footer")
        noise = float(np.hypot(*g["bits_per_byte_noise"].fillna(0.0))) if "bits_per_byte_noise" in g else 0.0
        diff = abs(g.loc["kept", "bits_per_byte"] - g.loc["removed", "bits_per_byte"])
        outcomes.append(below(diff, noise, tol, z))
        details.append(f"v={_vocab_name(bits)}: {diff:.3f}±{noise:.3f}")
    return verdict(decide(outcomes), f"|bits/byte kept - removed| <= {tol}? " + ", ".join(details))


def variance_low(ev):
    t11, tol = ev.tables["table11_variance"], ev.tolerances["variance_max_std"]
    rows = t11.dropna(subset=["bits_per_byte_std"])
    if rows.empty:
        raise Missing("no method run over several seeds")
    top = rows.loc[rows["bits_per_byte_std"].astype(float).idxmax()]
    s, dof = float(top["bits_per_byte_std"]), max(int(top["seeds"]) - 1, 1)
    # Two-sided 95% interval of a sample std from dof degrees of freedom (chi-square).
    upper = s * np.sqrt(dof / stats.chi2.ppf(0.025, dof))
    lower = s * np.sqrt(dof / stats.chi2.ppf(0.975, dof))
    outcome = True if upper <= tol else False if lower > tol else None
    return verdict(
        outcome,
        f"largest std {s:.4f} ({top['paper_label']}, {int(top['seeds'])} seeds; 95% interval "
        f"{lower:.4f}-{upper:.4f}) <= {tol}? (paper: 0.0061)",
    )


def _welch_rows(ev, source_prefix):
    w = ev.tables["welch_tests"]
    rows = w[w["source"].str.startswith(source_prefix)]
    if rows.empty or (rows["verdict"] == "not testable").any():
        raise Missing(f"{source_prefix} comparisons lack runs over several seeds")
    return rows


def byte_matched_significant(ev):
    rows = _welch_rows(ev, "Table 6")
    t6 = ev.tables["table06_byte_matched"].fillna({"comparison": ""})
    bpb = dict(zip(zip(t6["tokenization"], t6["comparison"]), t6["bits_per_byte"]))
    v256 = bpb[(EQ16.paper_label, "")]
    byte_m, token_m = (bpb[(EQ16_65K.paper_label, c)] for c in ("byte matched", "token matched"))
    # Each pair (a, b) of the Welch table claims a < b: significant and in that order decides it.
    sig = rows["verdict"] == "significant"
    in_order = (
        rows["a_mean"].fillna(-np.inf) < rows["b_mean"].fillna(np.inf)
        if rows["a_mean"].notna().all()
        else pd.Series(True, index=rows.index)
    )
    pairs = [True if s and o else False if s and not o else None for s, o in zip(sig, in_order)]
    share = (v256 - byte_m) / (v256 - token_m) if v256 != token_m else np.nan
    share_ok = bool(share >= ev.tolerances["byte_matched_gain_share"])
    outcome = decide(pairs + [share_ok if decide(pairs) else None])
    return verdict(
        outcome,
        f"token matched {token_m:.3f} < byte matched {byte_m:.3f} < v=256 {v256:.3f}; "
        f"Welch p = {', '.join(f'{p:.2g}' for p in rows['p'])}; byte-matched share of the gain "
        f"{share:.0%} (paper: 84%)",
        "not significant",
    )


def seq2seq_decompression(ev):
    rows = _welch_rows(ev, "Table 5")
    ac_row, eq_row = (rows[rows["a"] == comparison_name(m, "Decompress")] for m in (ac(), EQ16))
    if ac_row.empty or eq_row.empty:
        raise Missing(f"Table 5 comparisons of {ac()} and {EQ16}")
    ac_cmp, eq_cmp = ac_row.iloc[0], eq_row.iloc[0]
    # A significant AC gain contradicts the claim, and so does EqualInfoAC decompressing significantly worse
    # than the byte LM (the opposite one-sided test); an insignificant EqualInfoAC gain only fails to confirm it.
    reverse = eq_cmp.get("reverse_significant")
    eq_worse = reverse is not None and not pd.isna(reverse) and bool(reverse)
    if ac_cmp["verdict"] == "significant" or eq_worse:
        outcome: bool | None = False
    else:
        outcome = True if eq_cmp["verdict"] == "significant" else None
    return verdict(
        outcome,
        f"{ac()} decompress vs byte LM: p = {ac_cmp['p']:.3g} ({ac_cmp['verdict']}); "
        f"{EQ16}: p = {eq_cmp['p']:.3g} ({eq_cmp['verdict']}"
        + ("; significantly worse than the byte LM" if eq_worse else "")
        + ")",
        "not significant",
    )


def delay_tradeoff(ev):
    t17 = ev.tables["table17_fig14_values"]
    greedy, delay = _series(t17, EQ16), _series(t17, equal_info(16, delay=True))
    common = _common(greedy, delay, "greedy and delayed v=256")
    ratios = t17.groupby("paper_label")["compression_ratio"].first()
    res = ev.tolerances["ratio_resolution_relative"]
    # The ratio half is judged at each vocabulary whose greedy and delayed methods were both compressed.
    pairs = {
        _vocab_name(bits): (
            ratios.get(equal_info(16, bits, delay=True).paper_label, np.nan),
            ratios.get(equal_info(16, bits).paper_label, np.nan),
        )
        for bits in VOCABULARIES
    }
    compressed = [vocab for vocab, pair in pairs.items() if np.isfinite(pair).all()]
    if not compressed:
        raise Missing("compression stats of greedy and delayed b=16 windows")
    lower_ratio = decide(ratio_less(*pairs[vocab], res) for vocab in compressed)
    greedy_better = _majority(_less_at(greedy, delay, common, ev.z))
    return verdict(
        decide([greedy_better, lower_ratio]),
        f"v=256 greedy {_fmt(greedy.loc[common])}, delay {_fmt(delay.loc[common])}; delay lowers the "
        f"compression ratio at v={' and v='.join(compressed)}: {lower_ratio}",
    )


def b24_between(ev):
    ratios, res = _ratios(ev), ev.tolerances["ratio_resolution_relative"]
    r16, r24, r32 = (ratios.get(equal_info(b).paper_label, np.nan) for b in (16, 24, 32))
    if np.isnan([r16, r24, r32]).any():
        raise Missing("compression stats of b=16/24/32 missing")
    return verdict(
        decide([ratio_less(r16, r24, res), ratio_less(r24, r32, res)]),
        f"ratio v=256: b16 {r16:.2f} < b24 {r24:.2f} < b32 {r32:.2f}",
    )


def near_uniform_unigram(ev):
    t3, tol = ev.tables["table03_trivial_models"], ev.tolerances["near_uniform_unigram_delta"]
    t3 = t3.dropna(subset=["delta"]).set_index("paper_label")["delta"]
    compressed = t3[[l for l in t3.index if l not in LEARNER_LABELS]]
    baselines = t3[[l for l in t3.index if l in LEARNER_LABELS]]
    if compressed.empty or baselines.empty:
        raise Missing("trivial-model stats missing")
    ok = bool(compressed.max() <= tol and baselines.min() > tol)
    return verdict(
        ok,
        f"unigram gain of compressed tokenizers max {compressed.max():.3f} ({compressed.idxmax()}; "
        f"<= {tol}); of Bytes/SentencePiece min {baselines.min():.3f}",
    )


def v65k_doubles_tokens(ev):
    t1 = ev.tables["table01_token_vs_bit_ratio"].set_index("paper_label")
    small, large = ac(V256_BITS).paper_label, ac(V65K_BITS).paper_label
    if not {small, large} <= set(t1.dropna(subset=["token_compression_ratio"]).index):
        raise Missing("AC compression stats missing")
    r = t1.loc[large, "token_compression_ratio"] / t1.loc[small, "token_compression_ratio"]
    b = t1.loc[large, "bit_compression_ratio"] / t1.loc[small, "bit_compression_ratio"]
    return verdict(
        bool(abs(r - 2) < 0.05 and abs(b - 1) < 0.025), f"token ratio x{r:.3f}, bit ratio x{b:.3f} from v=256 to v=65k"
    )


def windows_raise_ratio(ev):
    ratios, res = _ratios(ev), ev.tolerances["ratio_resolution_relative"]
    methods = [static_ac(), *(equal_info(b) for b in (16, 32, 64, 128)), ac()]
    labels = [m.paper_label for m in methods]
    vals = ratios.reindex(labels)
    if vals.isna().any():
        raise Missing("compression stats missing for " + ", ".join(vals[vals.isna()].index))
    return verdict(
        decide(ratio_less(a, b, res) for a, b in zip(vals.iloc[:-1], vals.iloc[1:])),
        "ratios: " + ", ".join(f"{k}: {v:.3f}" for k, v in vals.items()),
    )


def scaled_data_trends(ev):
    t13 = ev.tables["table13_scaled_data"]
    if t13.dropna(subset=["bits_per_byte", "size"]).empty:
        raise Missing("no evaluation curves")
    best, best_detail = _best_is_sentencepiece(ev, t13)
    arith = _series(t13, ac())
    uni, tol = _uniform(ev.tables["table15_fig3_values"], ac()), ev.tolerances["uniform_relative"]
    at_uniform = decide(at_least(r.value, r.noise, uni * (1 - tol), ev.z) for _, r in arith.iterrows())
    return verdict(decide([best, at_uniform]), best_detail + f"; {ac()} {_fmt(arith)} (uniform {uni:.3f})")


def bitstream_unlearnable(ev):
    t = ev.tables["section51_bitstream"].dropna(subset=["loss_nats_per_token", "size"])
    if t.empty:
        raise Missing("no M2 runs over AC[v=2]")
    tol = ev.tolerances["uniform_relative"]
    outcomes = [at_least(r.loss_nats_per_token, r.loss_noise, r.uniform_loss * (1 - tol), ev.z) for r in t.itertuples()]
    return verdict(
        decide(outcomes),
        f"every size within {tol:.0%} below ln 2 or worse? "
        + ", ".join(f"{r.size}: {r.loss_nats_per_token:.4f}±{r.loss_noise:.4f}" for r in t.itertuples())
        + " (uniform 0.6931)",
    )


SPELLERS = tuple(SCHEMES[name].label for name in ("characters", "byt5", "shared"))


def spelling_order(ev):
    """Figure 13: after fine-tuning, held-out exact match SentencePiece (Characters) > EqualInfoAC >
    SentencePiece (Shared); each accuracy's noise is binomial over its held-out words."""
    curves = ev.tables["fig13_spelling"].dropna(subset=["held_out_accuracy"])
    final = curves.sort_values("step").groupby("label").last()
    if not set(SPELLERS) <= set(final.index):
        raise Missing("spelling fine-tunes of " + ", ".join(sorted(set(SPELLERS) - set(final.index))))
    acc = final["held_out_accuracy"].astype(float)
    noise = np.sqrt(acc * (1 - acc) / final["held_out_words"].astype(float))
    outcome = decide(less(acc[b], noise[b], acc[a], noise[a], ev.z) for a, b in zip(SPELLERS[:-1], SPELLERS[1:]))
    return verdict(
        outcome,
        "held-out exact match after fine-tuning: "
        + " > ".join(f"{label} {acc[label]:.3f}±{noise[label]:.3f}" for label in SPELLERS),
    )


def positions_unlock_in_order(ev):
    pos, thr, z = ev.positions, ev.tolerances["position_unlock_accuracy"], ev.z
    if pos.empty:
        raise Missing("no per-position accuracy")
    unlock = {}
    for p, group in pos.groupby("position"):
        # A position unlocks at the first evaluation whose gain over trivial exceeds the threshold and
        # the binomial noise of the two accuracies it compares.
        acc = group["accuracy"].clip(1e-6, 1 - 1e-6)
        n = (
            group["position_tokens"].astype(float).fillna(np.inf)
            if "position_tokens" in group
            else pd.Series(np.inf, index=group.index)
        )
        noise = np.sqrt(2 * acc * (1 - acc) / n)
        hit = group[group["increase"] > np.maximum(thr, z * noise)]
        unlock[int(p)] = float(hit["step"].min()) if len(hit) else np.inf
    later = {p: s for p, s in unlock.items() if p >= 4}
    if 1 not in unlock or not later:
        raise Missing("fewer than four window positions")
    first_later = min(later.values())
    if np.isinf(unlock[1]) and np.isinf(first_later):
        outcome = None  # nothing unlocks beyond noise
    else:
        outcome = bool(unlock[1] <= first_later)
    return verdict(
        outcome,
        f"first step with a gain > max({thr}, {z:g} x binomial noise): "
        + ", ".join(f"#{p}: {'never' if np.isinf(s) else int(s)}" for p, s in sorted(unlock.items())),
        "no position gains beyond its noise",
    )


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "ac_unlearnable",
        "AC is unlearnable: M2 over AC[v=256] and AC[v=65k] never beats the uniform model",
        "Section 4, Figure 3",
        ("table15_fig3_values",),
        ac_unlearnable,
    ),
    Claim(
        "static_ac_unlearnable",
        "StaticAC is unlearnable: M2 stays at the uniform model",
        "Section 4, Figure 3",
        ("table15_fig3_values",),
        static_ac_unlearnable,
    ),
    Claim(
        "eqinfo_learns",
        "Equal-Info windows make AC learnable: EqualInfoAC[b=16] beats its uniform model",
        "Section 4, Figure 3",
        ("table15_fig3_values",),
        eqinfo_learns,
    ),
    Claim(
        "eqinfo65k_beats_bytes",
        "EqualInfoAC[b=16;v=65k] beats the Bytes baseline at every size",
        "Section 4, Figure 3",
        ("table15_fig3_values",),
        eqinfo65k_beats_bytes,
    ),
    Claim(
        "sentencepiece_best",
        "SentencePiece has the best bits/byte at every size",
        "Section 4, Figure 3",
        ("table15_fig3_values",),
        sentencepiece_best,
    ),
    Claim(
        "sp_gap_narrows",
        "The gap between EqualInfoAC[b=16;v=65k] and SentencePiece narrows with scale",
        "Section 4, Figure 3",
        ("table15_fig3_values",),
        sp_gap_narrows,
    ),
    Claim(
        "eqinfo65k_fewer_steps",
        "EqualInfoAC[b=16;v=65k] needs fewer tokens (decoder steps) per byte than SentencePiece",
        "Section 4, Figure 4",
        ("table12_dataset_sizes",),
        eqinfo65k_fewer_steps,
        False,
    ),
    Claim(
        "learners_improve_with_scale",
        "Bytes, SentencePiece, EqualInfoAC[b=16] and GZip improve with scale",
        "Section 4, Figure 3",
        ("table15_fig3_values",),
        learners_improve_with_scale,
    ),
    Claim(
        "gzip_learns",
        "GZip learns: M2 over GZip[v=256] beats its uniform model",
        "Section 4",
        ("table15_fig3_values",),
        gzip_learns,
    ),
    Claim(
        "gzip_not_competitive",
        "GZip is not competitive: GZip[v=256] is worse than AC[v=256] (about M1) at every size",
        "Section 4",
        ("table15_fig3_values",),
        gzip_not_competitive,
    ),
    Claim(
        "shorter_windows_bits_per_token",
        "Shorter windows learn better in bits/token (monotonic in b)",
        "Section 4, Figure 5b",
        ("table16_fig5_values",),
        shorter_windows_bits_per_token,
    ),
    Claim(
        "b16_best_bits_per_byte",
        "b=16 has the best bits/byte of the window sizes at most sizes",
        "Section 4, Figure 5a",
        ("table16_fig5_values",),
        b16_best_bits_per_byte,
    ),
    Claim(
        "larger_vocab_helps_eqinfo",
        "A larger vocabulary (v=65k) helps EqualInfoAC[b=16] in bits/byte",
        "Section 4, Figure 6",
        ("table15_fig3_values",),
        larger_vocab_helps_eqinfo,
    ),
    Claim(
        "larger_vocab_hurts_gzip",
        "For GZip, v=65k is worse than v=256",
        "Section 4, Figure 6",
        ("table15_fig3_values",),
        larger_vocab_hurts_gzip,
    ),
    Claim(
        "near_uniform_unigram",
        "Compression-based tokenizers give near-uniform unigram statistics (small "
        "uniform - unigram gain), unlike Bytes and SentencePiece",
        "Section 3.4, Table 3",
        ("table03_trivial_models",),
        near_uniform_unigram,
        False,
    ),
    Claim(
        "v65k_doubles_tokens",
        "16-bit tokens double the token compression ratio and leave the bit ratio unchanged",
        "Section 3.4, Table 1",
        ("table01_token_vs_bit_ratio",),
        v65k_doubles_tokens,
        False,
    ),
    Claim(
        "windows_raise_ratio",
        "Compression ratio: StaticAC < EqualInfoAC b=16 < 32 < 64 < 128 < AC",
        "Section 3.3, Table 2",
        ("table02_compression_ratio",),
        windows_raise_ratio,
        False,
    ),
    Claim(
        "byte_matched_significant",
        "v=65k beats v=256 even byte-matched; most of the gain remains; all three "
        "differences significant (Welch p < 0.05)",
        "Section 5.3, Table 6",
        ("table06_byte_matched", "welch_tests"),
        byte_matched_significant,
    ),
    Claim(
        "seq2seq_decompression",
        "Decompressing AC is not learned (no significant gain over a byte LM, "
        "p = 0.07) while EqualInfoAC decompression is",
        "Section 5.2, Table 5",
        ("table05_seq2seq", "welch_tests"),
        seq2seq_decompression,
    ),
    Claim(
        "positions_unlock_in_order",
        "Window-initial tokens are learned first; later positions unlock later",
        "Section 6.2, Figure 10",
        ("fig10_position_accuracy",),
        positions_unlock_in_order,
    ),
    Claim(
        "spelling_order",
        "Spelling after fine-tuning (held-out words): SentencePiece with its character ids "
        "beats EqualInfoAC[b=16;v=256], which beats SentencePiece with shared ids",
        "Appendix A.3, Figure 13",
        ("fig13_spelling",),
        spelling_order,
    ),
    Claim(
        "bitstream_unlearnable",
        "M2 over AC's raw bitstream (v=2 tokens) stays at the uniform loss ln 2: "
        "tokenization is not the main source of difficulty",
        "Section 5.1",
        ("section51_bitstream",),
        bitstream_unlearnable,
    ),
    Claim(
        "m1_reset_every_window_best",
        "Resetting M1 every window is best in bits/byte, though resetting less often compresses more",
        "Appendix A.2, Table 9, Figure 12",
        ("table09_m1_reset",),
        m1_reset_every_window_best,
    ),
    Claim(
        "b24_between",
        "b=24 windows compress between b=16 and b=32",
        "Appendix A.1",
        ("table02_compression_ratio",),
        b24_between,
        False,
    ),
    Claim(
        "gzip_header_minimal",
        "Removing the GZip header/footer makes minimal difference",
        "Appendix A.4, Table 10",
        ("table10_gzip_header",),
        gzip_header_minimal,
    ),
    Claim(
        "delay_tradeoff",
        "Greedy windows beat delayed ones for v=256; delaying lowers the compression ratio",
        "Appendix A.5, Figure 14",
        ("table17_fig14_values",),
        delay_tradeoff,
    ),
    Claim(
        "variance_low",
        "Variance over seeds is low",
        "Section 3.8, Appendix D.1, Table 11",
        ("table11_variance",),
        variance_low,
    ),
    Claim(
        "scaled_data_trends",
        "With training data scaled with model size the trends persist (SentencePiece best, AC at uniform)",
        "Appendix D.3, Table 13, Figure 15",
        ("table13_scaled_data",),
        scaled_data_trends,
    ),
)


def judge(claim: Claim, evidence: Evidence, premise: tuple[bool | None, str]) -> Verdict:
    """``claim``'s verdict; a claim about trained M2s is inconclusive when ``premise`` (``learners_learn``)
    is not met, whatever its predicate says (the predicate's own reading is kept in the detail)."""
    try:
        result = claim.predicate(evidence)
    except Missing as exc:
        return Verdict(NOT_TESTABLE, f"missing runs: {exc}")
    if claim.needs_learners and premise[0] is not True and result.outcome in (HOLDS, FAILS):
        return Verdict(
            INCONCLUSIVE,
            f"premise unmet ({premise[1]}); the predicate alone would say '{result.outcome}': {result.detail}",
        )
    return result


def evaluate_claims(evidence: Evidence, claims=CLAIMS) -> pd.DataFrame:
    """``id, statement, source, evidence, verdict, holds, detail`` for every claim."""
    premise = learners_learn(evidence)
    rows = []
    for claim in claims:
        v = judge(claim, evidence, premise)
        rows.append(
            {
                "id": claim.id,
                "statement": claim.statement,
                "source": claim.source,
                "evidence": ", ".join(claim.evidence),
                "verdict": v.outcome,
                "holds": v.holds,
                "detail": v.detail,
            }
        )
    return pd.DataFrame(rows)


def verdict_counts(claims: pd.DataFrame) -> dict[str, int]:
    """Number of claims per verdict, in ``VERDICTS`` order."""
    counts = claims["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in VERDICTS}
