"""Every reproduced table, each with the paper's value in the column beside the reproduced one.

``build_tables`` turns a ``Summary`` into ``{name: DataFrame}`` (names in ``TABLE_NAMES``); figures and
the audit read the same frames, so each number is computed in one place. A reproduced column ``x`` is
followed by ``paper_x``. Rows the paper lists but the runs lack stay, with empty reproduced cells.
Derived quantities go through ``nc.metrics`` (uniform bits/byte, MFLOPs/byte, bits/token).

Every reproduced bits/byte of a trained model carries ``bits_per_byte_noise`` (the standard deviation
of that number were the runs repeated), from the seed spread and the evaluation sample's standard error.
The claims never decide on a difference smaller than it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nc import metrics
from nc.io import write_text
from nc.methods import V65K_BITS, MethodSpec, ac, equal_info, parse_method
from nc.models.sizes import model_size
from nc.records import CompressionRecord, EvalRecord, RunRecord

from .markdown import dataframe_to_markdown
from .names import TABLE_NAMES, TABLE_TITLES
from .options import AnalysisOptions
from .paper import PAPER_SIZES, canonical_label, paper_scalar, paper_table, spec_label
from .stats import welch_test
from .summary import (
    DEFAULT_VARIANT,
    Summary,
    empty_frame,
    make_summary,
    paper_size_map,
    seed_means,
    seed_stats,
)

SEQ2SEQ_TASKS = {"seq2seq-decompress": "Decompress", "seq2seq-bytelm": "Byte Level LM", "seq2seq-compress": "Compress"}
RESET_TEXT = {1: "every window", 2: "every other window", 0: "never"}
# Table 5's claim matches a one-sided test with five seeds (p = 0.074); the paper does not state its n.
PAPER_SEEDS = 5
EQ16, EQ16_65K = equal_info(16), equal_info(16, V65K_BITS)
# Table 6's settings: (comparison, variant) of EqualInfoAC[b=16;v=256], then of the two v=65k runs.
TABLE06_ROWS = ((np.nan, DEFAULT_VARIANT), ("byte matched", "bytematched"), ("token matched", DEFAULT_VARIANT))
PAPER_SENTENCEPIECE_VOCAB = 32000  # T5's cc_all.32000 (Section 3.2)


@dataclass
class TableContext:
    """What every builder needs: the summary, the options, the size mapping and M1's parameter count."""

    summary: Summary
    options: AnalysisOptions
    size_map: dict[str, str]
    m1_params: float
    seed_spread: dict[str, float]

    @classmethod
    def create(cls, summary: Summary, options: AnalysisOptions) -> TableContext:
        sizes = summary.runs["size"].unique().tolist()
        return cls(
            summary,
            options,
            paper_size_map(sizes, options.paper_size_map),
            m1_parameter_count(summary, options),
            seed_spreads(summary.runs),
        )

    def paper_size(self, size) -> str | None:
        return self.size_map.get(size)

    def size_standing_for(self, paper_size: str) -> str | None:
        return next((s for s, p in self.size_map.items() if p == paper_size), None)


def m1_parameter_count(summary: Summary, options: AnalysisOptions) -> float:
    """M1's nominal parameters: from ``options.m1_size``; else what the runs over M1 record (runs.csv
    ``m1_params``, from their eval.json); 0 when no run uses M1."""
    if options.m1_size:
        return model_size(options.m1_size).nominal_params
    recorded = summary.runs.loc[summary.runs["uses_m1"], "m1_params"].dropna().astype(float)
    if summary.runs["uses_m1"].any() and recorded.empty:
        raise ValueError("analysis.m1_size is not set and runs.csv records no m1_params for the runs over M1")
    if recorded.nunique() > 1:
        raise ValueError(f"runs.csv: the runs over M1 record different m1_params {sorted(recorded.unique())}")
    return float(recorded.iloc[0]) if len(recorded) else 0.0


def seed_spreads(runs: pd.DataFrame) -> dict[str, float]:
    """Per ``paper_label``: the largest sample std (ddof=1) of bits/byte over seeds at any size of the
    default variant (methods run over one seed only are absent)."""
    sel = runs[runs["variant"] == DEFAULT_VARIANT]
    std = sel.groupby(["paper_label", "size"])["bits_per_byte"].std(ddof=1).dropna()
    return {label: float(v) for label, v in std.groupby(level=0).max().items()}


def pooled_spread(spreads: dict[str, float]) -> float:
    """The spread assumed for a method never run over several seeds: the root mean square of the
    measured ones (0 when no method was)."""
    values = np.array(list(spreads.values()), float)
    return float(np.sqrt(np.mean(values**2))) if len(values) else 0.0


def bits_per_byte_noise(labels, seeds, own_std, eval_se, spreads: dict[str, float]) -> np.ndarray:
    """Standard deviation of a (seed-mean) bits/byte: hypot(seed spread, evaluation standard error) / sqrt(seeds).

    The seed spread is the row's own std over its seeds when it has several, else its method's
    (``seed_spreads``), else ``pooled_spread``; a missing evaluation standard error counts as 0."""
    pooled = pooled_spread(spreads)
    seeds = np.maximum(np.asarray(seeds, float), 1.0)
    own = np.asarray(own_std, float)
    fallback = np.array([spreads.get(label, pooled) for label in labels], float)
    spread = np.where((seeds > 1) & np.isfinite(own), own, fallback)
    se = np.nan_to_num(np.asarray(eval_se, float), nan=0.0)
    return np.hypot(spread, se) / np.sqrt(seeds)


def _noise_column(ctx: TableContext, means: pd.DataFrame) -> np.ndarray:
    if means.empty:
        return np.array([], float)
    return bits_per_byte_noise(
        means["paper_label"], means["seeds"], means["bits_per_byte_std"], means["bits_per_byte_se"], ctx.seed_spread
    )


def mflops_column(df: pd.DataFrame, m1_params: float) -> np.ndarray:
    """MFLOPs/byte of each row (``nominal_params``, ``compression_ratio``, ``uses_m1``) via nc.metrics."""
    return metrics.mflops_per_byte(
        df["nominal_params"].astype(float),
        df["compression_ratio"].astype(float),
        np.where(df["uses_m1"].astype(bool), m1_params, 0.0),
    )


# ------------------------------------------------------------------------------------------ joining


def with_paper(
    repro: pd.DataFrame, paper: pd.DataFrame, on: list[str], values: list[str], paper_values: list[str] | None = None
) -> pd.DataFrame:
    """Outer-join reproduced ``values`` with the paper's (renamed ``paper_<value>``), rows in the paper's
    order first; each reproduced column is followed by its paper column."""
    paper_values = paper_values or values
    paper = paper[on + paper_values].rename(columns={p: f"paper_{v}" for p, v in zip(paper_values, values)})
    paper = paper.assign(_paper_order=np.arange(len(paper)))
    repro = repro.assign(_repro_order=np.arange(len(repro)))
    for key in on:  # the join keys must agree in dtype (e.g. token_bits float vs int)
        if pd.api.types.is_numeric_dtype(paper[key]) or pd.api.types.is_numeric_dtype(repro[key]):
            paper[key] = pd.to_numeric(paper[key], errors="coerce").astype(float)
            repro[key] = pd.to_numeric(repro[key], errors="coerce").astype(float)
        else:
            paper[key] = paper[key].astype(object)
            repro[key] = repro[key].astype(object)
    merged = repro.merge(paper, on=on, how="outer")
    merged = merged.sort_values(["_paper_order", "_repro_order"], na_position="last").drop(
        columns=["_paper_order", "_repro_order"]
    )
    extra = [c for c in repro.columns if c not in on and c not in values and not c.startswith("_")]
    ordered = list(on) + extra
    for v in values:
        ordered += [v, f"paper_{v}"]
    return merged[ordered].reset_index(drop=True)


def _size_order(sizes) -> list:
    return sorted(set(s for s in sizes if isinstance(s, str)), key=lambda s: model_size(s).nominal_params)


def _per_size(
    ctx: TableContext,
    paper: pd.DataFrame,
    setting_col: str,
    value_map: dict[str, str],
    methods: list[str] | None = None,
    variant: str = DEFAULT_VARIANT,
) -> pd.DataFrame:
    """Seed-mean rows per (method, size) joined with a paper table keyed by (setting, paper size)."""
    paper = paper.copy()
    paper["paper_label"] = paper[setting_col].map(canonical_label)
    methods = methods or list(dict.fromkeys(paper["paper_label"]))
    means = seed_means(ctx.summary.runs, variant)
    means = means[means["paper_label"].isin(methods)].copy()
    means["paper_size"] = means["size"].map(ctx.paper_size)
    means["mflops_per_byte"] = mflops_column(means, ctx.m1_params) if len(means) else []
    means["bits_per_token"] = metrics.bits_per_token(means["loss_nats_per_token"].astype(float))
    means["bits_per_byte_noise"] = _noise_column(ctx, means)
    means = means.sort_values(["paper_label", "nominal_params"])
    paper = paper[paper["size"].isin(PAPER_SIZES)].rename(columns={"size": "paper_size"})
    repro = means[
        ["paper_label", "paper_size", "size", "seeds", "compression_ratio", "bits_per_token", "bits_per_byte_noise"]
        + list(value_map)
    ]
    return with_paper(repro, paper, ["paper_label", "paper_size"], list(value_map), list(value_map.values()))


# ------------------------------------------------------------------------------------------ tables


def table01_token_vs_bit_ratio(ctx: TableContext) -> pd.DataFrame:
    paper = paper_table("table01_token_vs_bit_ratio")
    paper["paper_label"] = [spec_label(m, b) for m, b in zip(paper["method"], paper["token_bits"])]
    comp = ctx.summary.compression.rename(columns={"compression_ratio": "token_compression_ratio"})
    repro = comp[comp["paper_label"].isin(paper["paper_label"])][
        ["paper_label", "token_compression_ratio", "bit_compression_ratio"]
    ]
    return with_paper(repro, paper, ["paper_label"], ["token_compression_ratio", "bit_compression_ratio"])


def table02_compression_ratio(ctx: TableContext) -> pd.DataFrame:
    paper = paper_table("table02_compression_ratio")
    paper["paper_label"] = [
        spec_label(m, t, w) for m, t, w in zip(paper["method"], paper["token_bits"], paper["window_bits"])
    ]
    comp = ctx.summary.compression
    repro = comp[comp["paper_label"].isin(paper["paper_label"])][["paper_label", "compression_ratio"]]
    return with_paper(repro, paper, ["paper_label"], ["compression_ratio"])


def table03_trivial_models(ctx: TableContext) -> pd.DataFrame:
    """Uniform bits/byte = log2(V) / ratio (nc.metrics), unigram from the compression stats."""
    paper = paper_table("table03_trivial_models")
    paper["paper_label"] = [
        spec_label(m, t, w) for m, t, w in zip(paper["method"], paper["token_bits"], paper["window_bits"])
    ]
    comp = ctx.summary.compression
    repro = comp[comp["paper_label"].isin(paper["paper_label"])][
        ["paper_label", "vocab_size", "compression_ratio", "uniform_bits_per_byte", "unigram_bits_per_byte"]
    ].copy()
    repro["delta"] = repro["uniform_bits_per_byte"] - repro["unigram_bits_per_byte"]
    return with_paper(repro, paper, ["paper_label"], ["uniform_bits_per_byte", "unigram_bits_per_byte", "delta"])


def table05_seq2seq(ctx: TableContext) -> pd.DataFrame:
    paper = paper_table("table05_seq2seq")
    paper["paper_label"] = paper["compression"].map(canonical_label)
    runs = ctx.summary.runs[ctx.summary.runs["variant"].isin(SEQ2SEQ_TASKS)].copy()
    runs["task"] = runs["variant"].map(SEQ2SEQ_TASKS)
    # Accuracy in percent, as the paper prints it.
    runs["accuracy_percent"] = runs["accuracy"].astype(float) * 100.0
    keys = ["paper_label", "task"]
    acc = seed_stats(runs, "accuracy_percent", keys)
    ce = seed_stats(runs, "loss_nats_per_token", keys)
    repro = acc.rename(columns={"mean": "accuracy"})[keys + ["accuracy"]].merge(
        ce.rename(columns={"mean": "cross_entropy", "std": "cross_entropy_std", "n": "seeds"}), on=keys, how="outer"
    )
    sizes = runs.groupby(keys)["size"].first().reset_index()
    repro = repro.merge(sizes, on=keys, how="left")[
        keys + ["size", "seeds", "accuracy", "cross_entropy", "cross_entropy_std"]
    ]
    return with_paper(repro, paper, keys, ["accuracy", "cross_entropy", "cross_entropy_std"])


def _byte_matched_stats(ctx: TableContext) -> pd.DataFrame:
    """bits/byte mean/std/n of the three Table 6 settings at the byte-matched runs' size."""
    runs = ctx.summary.runs
    bm = runs[runs["variant"] == "bytematched"]
    size = bm["size"].mode().iloc[0] if len(bm) else ctx.size_standing_for("25m")
    rows = [(EQ16.paper_label, comparison, variant) for comparison, variant in TABLE06_ROWS[:1]] + [
        (EQ16_65K.paper_label, comparison, variant) for comparison, variant in TABLE06_ROWS[1:]
    ]
    out = []
    for label, comparison, variant in rows:
        sel = runs[(runs["paper_label"] == label) & (runs["variant"] == variant) & (runs["size"] == size)]
        vals = sel["bits_per_byte"].astype(float)
        out.append(
            {
                "tokenization": label,
                "comparison": comparison,
                "size": size,
                "seeds": len(vals),
                "bits_per_byte": vals.mean() if len(vals) else np.nan,
                "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else np.nan,
            }
        )
    return pd.DataFrame(out)


def table06_byte_matched(ctx: TableContext) -> pd.DataFrame:
    paper = paper_table("table06_byte_matched")
    paper["comparison"] = paper["comparison"].fillna("")
    repro = _byte_matched_stats(ctx)
    repro["comparison"] = repro["comparison"].fillna("")
    return with_paper(repro, paper, ["tokenization", "comparison"], ["bits_per_byte", "std"])


def _study_size(runs: pd.DataFrame, mask, fallback: str | None) -> str | None:
    sel = runs[mask]
    return sel["size"].mode().iloc[0] if len(sel) else fallback


def table09_m1_reset(ctx: TableContext) -> pd.DataFrame:
    """Compression ratio and bits/byte of EqualInfoAC[b=16] with M1 reset every window / every other / never."""
    paper = paper_table("table09_m1_reset")
    runs, comp = ctx.summary.runs, ctx.summary.compression
    resets = runs["slug"].map(lambda s: parse_method(s).m1_reset if parse_method(s).kind == "EqualInfoAC" else 1)
    size = _study_size(runs, resets != 1, ctx.size_standing_for("403m"))
    means = seed_means(runs)
    means["bits_per_byte_noise"] = _noise_column(ctx, means)
    rows = []
    for token_bits in (8, 16):
        for reset, text in RESET_TEXT.items():
            label = spec_label("EqualInfoAC", token_bits, 16, m1_reset=reset)
            ratio = comp.loc[comp["paper_label"] == label, "compression_ratio"]
            run = means.loc[(means["paper_label"] == label) & (means["size"] == size)]
            rows.append(
                {
                    "method": paper["method"].iloc[0],  # the paper's name of the b=16 family
                    "token_bits": token_bits,
                    "m1_reset": text,
                    "size": size,
                    "paper_label": label,
                    "compression_ratio": ratio.iloc[0] if len(ratio) else np.nan,
                    "bits_per_byte_noise": run["bits_per_byte_noise"].iloc[0] if len(run) else np.nan,
                    "bits_per_byte": run["bits_per_byte"].iloc[0] if len(run) else np.nan,
                }
            )
    repro = pd.DataFrame(rows)
    # MFLOPs/byte places these runs on Figure 12 beside the scaling curves.
    repro["mflops_per_byte"] = metrics.mflops_per_byte(
        model_size(size).nominal_params if size else np.nan, repro["compression_ratio"], ctx.m1_params
    )
    return with_paper(repro, paper, ["method", "token_bits", "m1_reset"], ["compression_ratio", "bits_per_byte"])


def table10_gzip_header(ctx: TableContext) -> pd.DataFrame:
    paper = paper_table("table10_gzip_header")
    runs, comp = ctx.summary.runs, ctx.summary.compression
    noheader = runs["slug"].map(lambda slug: not parse_method(slug).gzip_header)
    size = _study_size(runs, noheader, ctx.size_standing_for("25m"))
    means = seed_means(runs)
    means["bits_per_byte_noise"] = _noise_column(ctx, means)
    rows = []
    for token_bits in (8, 16):
        for header, text in ((True, "kept"), (False, "removed")):
            label = spec_label("GZip", token_bits, gzip_header=header)
            ratio = comp.loc[comp["paper_label"] == label, "compression_ratio"]
            run = means.loc[(means["paper_label"] == label) & (means["size"] == size)]
            rows.append(
                {
                    "method": "GZip",
                    "token_bits": token_bits,
                    "header_footer": text,
                    "size": size,
                    "compression_ratio": ratio.iloc[0] if len(ratio) else np.nan,
                    "bits_per_byte_noise": run["bits_per_byte_noise"].iloc[0] if len(run) else np.nan,
                    "bits_per_byte": run["bits_per_byte"].iloc[0] if len(run) else np.nan,
                }
            )
    return with_paper(
        pd.DataFrame(rows), paper, ["method", "token_bits", "header_footer"], ["compression_ratio", "bits_per_byte"]
    )


def variance_size(runs: pd.DataFrame) -> str | None:
    """The size with the most methods run over several seeds (the variance study's size)."""
    sel = runs[runs["variant"] == DEFAULT_VARIANT]
    counts = sel.groupby(["size", "slug"])["seed"].nunique().reset_index()
    counts = counts[counts["seed"] > 1]
    return None if counts.empty else counts.groupby("size")["slug"].count().idxmax()


def table11_variance(ctx: TableContext) -> pd.DataFrame:
    paper = paper_table("table11_variance_25m")
    paper["paper_label"] = paper["method"].map(canonical_label)
    runs = ctx.summary.runs
    size = variance_size(runs)
    sel = runs[(runs["variant"] == DEFAULT_VARIANT) & (runs["size"] == size)]
    st = seed_stats(sel, "bits_per_byte", ["paper_label", "size"]).rename(
        columns={"mean": "bits_per_byte_mean", "std": "bits_per_byte_std", "n": "seeds"}
    )
    st = st[st["seeds"] > 1]
    return with_paper(st, paper, ["paper_label"], ["bits_per_byte_mean", "bits_per_byte_std"])


def table12_dataset_sizes(ctx: TableContext) -> pd.DataFrame:
    paper = paper_table("table12_dataset_sizes")
    paper["paper_label"] = paper["method"].map(canonical_label)
    comp = ctx.summary.compression
    repro = comp[comp["paper_label"].isin(paper["paper_label"])][
        ["paper_label", "compression_ratio", "tokens", "bytes"]
    ]
    return with_paper(repro, paper, ["paper_label"], ["compression_ratio", "tokens", "bytes"])


def scaled_data_steps(ctx: TableContext, evals: pd.DataFrame) -> dict[str, float]:
    """Per size, the fraction of training at which Table 13 / Figure 15 read it."""
    sizes = _size_order(evals["size"].unique())
    if not sizes:
        return {}
    largest = model_size(sizes[-1]).nominal_params
    fractions = {s: model_size(s).nominal_params / largest for s in sizes}
    fractions.update({s: float(f) for s, f in ctx.options.scaled_data_fraction.items()})
    return fractions


def read_at_fraction(curve: pd.DataFrame, fraction: float) -> pd.Series:
    """The evaluation row whose step is nearest ``fraction`` of the run's last step (ties: earlier)."""
    curve = curve.sort_values("step")
    target = fraction * curve["step"].max()
    return curve.iloc[int(np.argmin(np.abs(curve["step"].to_numpy(dtype=float) - target)))]


def table13_scaled_data(ctx: TableContext) -> pd.DataFrame:
    paper = paper_table("table13_scaled_data")
    paper["paper_label"] = paper["method"].map(canonical_label)
    paper = paper.rename(columns={"size": "paper_size"})
    evals = ctx.summary.evals
    evals = evals[(evals["variant"] == DEFAULT_VARIANT) & evals["paper_label"].isin(paper["paper_label"])]
    fractions = scaled_data_steps(ctx, evals)
    rows = []
    for (label, size), group in evals.groupby(["paper_label", "size"], sort=False):
        # Mean over seeds of the curve, read at the step nearest the size's fraction of training.
        curve = group.groupby("step", as_index=False).agg(
            bits_per_byte=("bits_per_byte", "mean"),
            bits_per_byte_se=("bits_per_byte_se", "mean"),
            bits_per_byte_std=("bits_per_byte", lambda x: x.std(ddof=1)),
            seeds=("seed", "nunique"),
        )
        row = read_at_fraction(curve, fractions[size])
        noise = bits_per_byte_noise(
            [label], [row["seeds"]], [row["bits_per_byte_std"]], [row["bits_per_byte_se"]], ctx.seed_spread
        )[0]
        rows.append(
            {
                "paper_label": label,
                "paper_size": ctx.paper_size(size),
                "size": size,
                "fraction": fractions[size],
                "step": int(row["step"]),
                "bits_per_byte_noise": noise,
                "bits_per_byte": float(row["bits_per_byte"]),
            }
        )
    repro = pd.DataFrame(
        rows, columns=["paper_label", "paper_size", "size", "fraction", "step", "bits_per_byte_noise", "bits_per_byte"]
    )
    ratios = ctx.summary.compression.set_index("paper_label")["compression_ratio"]
    repro["compression_ratio"] = repro["paper_label"].map(ratios)
    repro["nominal_params"] = repro["size"].map(lambda s: model_size(s).nominal_params)
    repro["uses_m1"] = repro["paper_label"].map(lambda l: parse_method(l).uses_m1).astype(bool)
    repro["mflops_per_byte"] = mflops_column(repro, ctx.m1_params) if len(repro) else []
    repro = repro.drop(columns=["nominal_params", "uses_m1"])
    return with_paper(repro, paper, ["paper_label", "paper_size"], ["step", "bits_per_byte"])


def _uniform_rows(ctx: TableContext, paper: pd.DataFrame, labels) -> pd.DataFrame:
    comp = ctx.summary.compression
    comp = comp[comp["paper_label"].isin(labels)]
    repro = pd.DataFrame(
        {
            "paper_label": comp["paper_label"],
            "paper_size": "uniform",
            "size": "uniform",
            "compression_ratio": comp["compression_ratio"],
            "bits_per_byte": comp["uniform_bits_per_byte"],
        }
    )
    paper = paper[paper["size"] == "uniform"].rename(columns={"size": "paper_size"})
    return with_paper(repro, paper, ["paper_label", "paper_size"], ["bits_per_byte"])


def table15_fig3_values(ctx: TableContext) -> pd.DataFrame:
    """Figure 3: per method and size, bits/byte and MFLOPs/byte; plus each method's uniform model."""
    paper = paper_table("table15_fig3_values")
    paper["paper_label"] = paper["setting"].map(canonical_label)
    trained = _per_size(ctx, paper, "setting", {"bits_per_byte": "bits_per_byte", "mflops_per_byte": "mflops_per_byte"})
    uniform = _uniform_rows(ctx, paper, paper["paper_label"].unique())
    out = pd.concat([trained, uniform], ignore_index=True)
    order = {l: i for i, l in enumerate(dict.fromkeys(paper["paper_label"]))}
    out["_o"] = out["paper_label"].map(order)
    return out.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)


def table16_fig5_values(ctx: TableContext) -> pd.DataFrame:
    """Figure 5: EqualInfoAC window sizes; b=16 rows are added from the scaling runs (paper: Table 15)."""
    paper = paper_table("table16_fig5_values")
    b16 = paper_table("table15_fig3_values")
    b16 = b16[b16["setting"].map(lambda setting: parse_method(canonical_label(setting)).window_bits == 16)]
    paper = pd.concat([b16, paper], ignore_index=True)
    return _per_size(ctx, paper, "setting", {"bits_per_byte": "bits_per_byte", "mflops_per_byte": "mflops_per_byte"})


def table17_fig14_values(ctx: TableContext) -> pd.DataFrame:
    paper = paper_table("table17_fig14_values")
    paper = paper.rename(columns={"compression_ratio": "paper_ratio_in"})
    out = _per_size(ctx, paper, "setting", {"bits_per_byte": "bits_per_byte", "mflops_per_byte": "mflops_per_byte"})
    ratio = (
        paper.assign(paper_label=paper["setting"].map(canonical_label)).groupby("paper_label")["paper_ratio_in"].first()
    )
    out.insert(out.columns.get_loc("compression_ratio") + 1, "paper_compression_ratio", out["paper_label"].map(ratio))
    return out


def fig13_spelling(ctx: TableContext) -> pd.DataFrame:
    """Figure 13's curves: exact-match spelling accuracy on held-out and training words per fine-tune step
    (the paper publishes the figure only, so there is no paper column)."""
    columns = ["label", "size", "step", "held_out_accuracy", "train_accuracy", "held_out_words", "train_words"]
    return ctx.summary.spelling.reindex(columns=columns).sort_values(["label", "step"]).reset_index(drop=True)


BITSTREAM = ac(1)  # Section 5.1: AC's raw bits
M1_PROXY = ac()  # AC's uniform bits/byte is M1's own bits/byte on the data (Section 3.4)


def section51_bitstream(ctx: TableContext) -> pd.DataFrame:
    """Section 5.1: per size, M2's loss (nats per 1-bit token) over AC's raw bitstream beside the uniform
    model's ln 2 and the paper's 0.693 (25m) / 0.6928 (403m); ``loss_noise`` is bits/byte noise in nats/token."""
    paper = pd.DataFrame(
        {
            "paper_size": ["25m", "403m"],
            "loss_nats_per_token": [paper_scalar(f"bitstream_{s}_cross_entropy") for s in ("25m", "403m")],
        }
    )
    means = seed_means(ctx.summary.runs)
    means = means[means["paper_label"] == BITSTREAM.paper_label].copy()
    means["paper_size"] = means["size"].map(ctx.paper_size)
    noise = _noise_column(ctx, means)
    means["loss_noise"] = noise * means["compression_ratio"].astype(float) * metrics.LN2 if len(means) else []
    means["uniform_loss"] = metrics.LN2
    means = means.sort_values("nominal_params")
    repro = means[
        ["paper_size", "size", "seeds", "compression_ratio", "uniform_loss", "loss_noise", "loss_nats_per_token"]
    ]
    return with_paper(repro, paper, ["paper_size"], ["loss_nats_per_token"])


# ------------------------------------------------------------------------------------------ Welch tests


def comparison_name(method: MethodSpec, setting: str) -> str:
    """Name of one side of a Welch comparison: the method's paper label and the setting, e.g.
    ``EqualInfoAC[b=16;v=65k] byte matched`` or ``AC[v=256] Decompress``."""
    return f"{method.paper_label} {setting}".strip()


def welch_comparisons(ctx: TableContext) -> list[dict]:
    """The paper's significance statements as (a, b, metric, alternative, claim, paper stats) records,
    each with reproduced stats (mean, sample std, n over seeds)."""
    comps = []
    t6 = _byte_matched_stats(ctx).set_index(["tokenization", "comparison"], drop=False)
    p6 = paper_table("table06_byte_matched").fillna({"comparison": ""})
    t6["comparison"] = t6["comparison"].fillna("")
    settings = [(EQ16, ""), (EQ16_65K, "byte matched"), (EQ16_65K, "token matched")]
    names = {(m.paper_label, cmp_): comparison_name(m, cmp_) for m, cmp_ in settings}
    stats6 = {}
    for (tok, cmp_), name in names.items():
        r = t6[(t6["tokenization"] == tok) & (t6["comparison"] == cmp_)].iloc[0]
        p = p6[(p6["tokenization"] == tok) & (p6["comparison"] == cmp_)].iloc[0]
        stats6[name] = ((r["bits_per_byte"], r["std"], r["seeds"]), (p["bits_per_byte"], p["std"], PAPER_SEEDS))
    byte_matched, token_matched, v256 = (
        comparison_name(m, c) for m, c in ((EQ16_65K, "byte matched"), (EQ16_65K, "token matched"), (EQ16, ""))
    )
    pairs = [(byte_matched, v256), (token_matched, v256), (token_matched, byte_matched)]
    for a, b in pairs:
        comps.append(
            {
                "source": "Table 6 / Section 5.3",
                "metric": "bits_per_byte",
                "a": a,
                "b": b,
                "alternative": "two-sided",
                "paper_claim": "significant (p < 0.05)",
                "paper_significant": True,
                "repro": (stats6[a][0], stats6[b][0]),
                "paper": (stats6[a][1], stats6[b][1]),
            }
        )
    t5 = table05_seq2seq(ctx)
    for method, claim, sig in (
        (ac(), "not significant (p = 0.07)", False),
        (EQ16, "significant: decompression leverages the input", True),
    ):
        label = method.paper_label

        def row(task, label=label):
            r = t5[(t5["paper_label"] == label) & (t5["task"] == task)].iloc[0]
            return (
                (r["cross_entropy"], r["cross_entropy_std"], r["seeds"]),
                (r["paper_cross_entropy"], r["paper_cross_entropy_std"], PAPER_SEEDS),
            )

        dec, lm = row("Decompress"), row("Byte Level LM")
        comps.append(
            {
                "source": "Table 5 / Section 5.2",
                "metric": "cross_entropy",
                "a": comparison_name(method, "Decompress"),
                "b": comparison_name(method, "Byte Level LM"),
                "alternative": "less",
                "paper_claim": claim,
                "paper_significant": sig,
                "repro": (dec[0], lm[0]),
                "paper": (dec[1], lm[1]),
            }
        )
    return comps


def _welch_or_none(a, b, alpha, alternative):
    (m1, s1, n1), (m2, s2, n2) = a, b
    values = [m1, s1, n1, m2, s2, n2]
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values) or min(n1, n2) < 2:
        return None
    return welch_test(
        float(m1), float(s1), int(n1), float(m2), float(s2), int(n2), alpha=alpha, alternative=alternative
    )


def welch_tests(ctx: TableContext) -> pd.DataFrame:
    """One row per stated comparison: reproduced t, dof, p and verdict; the same test on the paper's
    published mean/std (n = 5); the paper's claim; whether the reproduction agrees with it."""
    rows = []
    for c in welch_comparisons(ctx):
        res = _welch_or_none(c["repro"][0], c["repro"][1], ctx.options.alpha, c["alternative"])
        paper_res = _welch_or_none(c["paper"][0], c["paper"][1], ctx.options.alpha, c["alternative"])
        (am, as_, an), (bm, bs, bn) = c["repro"]
        rows.append(
            {
                "source": c["source"],
                "metric": c["metric"],
                "a": c["a"],
                "b": c["b"],
                "alternative": c["alternative"],
                "a_mean": am,
                "a_std": as_,
                "a_n": an,
                "b_mean": bm,
                "b_std": bs,
                "b_n": bn,
                "t": res.t if res else np.nan,
                "dof": res.dof if res else np.nan,
                "p": res.p if res else np.nan,
                "verdict": ("significant" if res.significant else "not significant") if res else "not testable",
                "reverse_significant": res.reverse_significant if res else np.nan,
                "paper_claim": c["paper_claim"],
                "paper_t": paper_res.t if paper_res else np.nan,
                "paper_p": paper_res.p if paper_res else np.nan,
                "agrees_with_paper": (res.significant == c["paper_significant"]) if res else np.nan,
            }
        )
    return pd.DataFrame(rows)


BUILDERS = {
    "table01_token_vs_bit_ratio": table01_token_vs_bit_ratio,
    "table02_compression_ratio": table02_compression_ratio,
    "table03_trivial_models": table03_trivial_models,
    "table05_seq2seq": table05_seq2seq,
    "table06_byte_matched": table06_byte_matched,
    "table09_m1_reset": table09_m1_reset,
    "table10_gzip_header": table10_gzip_header,
    "table11_variance": table11_variance,
    "table12_dataset_sizes": table12_dataset_sizes,
    "table13_scaled_data": table13_scaled_data,
    "table15_fig3_values": table15_fig3_values,
    "table16_fig5_values": table16_fig5_values,
    "table17_fig14_values": table17_fig14_values,
    "fig13_spelling": fig13_spelling,
    "section51_bitstream": section51_bitstream,
    "welch_tests": welch_tests,
}
assert tuple(BUILDERS) == TABLE_NAMES


def build_tables(summary: Summary, options: AnalysisOptions) -> dict[str, pd.DataFrame]:
    """Every table of ``TABLE_NAMES`` from the summaries."""
    ctx = TableContext.create(summary, options)
    return {name: builder(ctx) for name, builder in BUILDERS.items()}


def empty_summary() -> Summary:
    """A summary without runs or compression stats: the tables it gives hold the paper's rows only."""
    return make_summary(empty_frame(RunRecord), empty_frame(EvalRecord), empty_frame(CompressionRecord))


def paper_value_tables(options: AnalysisOptions) -> dict[str, pd.DataFrame]:
    """Every table with the paper's published numbers in the reproduced columns (``x := paper_x``), sizes
    named by the paper's, and each bits/byte's noise from the paper's own seed spread (Table 11; methods it
    does not list get the root mean square of its stds). The claims judged on these tables test the
    predicates against the paper itself (``python -m nc.analysis.audit --paper-values``)."""
    tables = build_tables(empty_summary(), options)
    t11 = paper_table("table11_variance_25m")
    spreads = dict(zip(t11["method"].map(canonical_label), t11["bits_per_byte_std"].astype(float)))
    ratios = tables["table02_compression_ratio"].set_index("paper_label")["paper_compression_ratio"].to_dict()
    ratios.update(tables["table12_dataset_sizes"].set_index("paper_label")["paper_compression_ratio"].to_dict())
    out = {}
    for name, df in tables.items():
        df = df.copy()
        for col in [c for c in df.columns if f"paper_{c}" in df.columns]:
            df[col] = df[f"paper_{col}"]
        if {"size", "paper_size"} <= set(df.columns):
            df["size"] = df["size"].astype(object).where(df["size"].notna(), df["paper_size"])
        if "compression_ratio" in df.columns and "paper_label" in df.columns:
            df["compression_ratio"] = df["compression_ratio"].fillna(df["paper_label"].map(ratios))
        if name == "table15_fig3_values":
            # The uniform rows by the formula log2(V) / ratio: Table 15 prints three 16-bit rows shifted by
            # one row and SentencePiece's without a digit (tests/eval/test_paper_formulas.py).
            uniform = df["size"] == "uniform"
            vocab = df.loc[uniform, "paper_label"].map(
                lambda l: parse_method(l).vocab_size or PAPER_SENTENCEPIECE_VOCAB
            )
            df.loc[uniform, "bits_per_byte"] = metrics.uniform_bits_per_byte(
                vocab.astype(float), df.loc[uniform, "compression_ratio"]
            )
        if "bits_per_token" in df.columns:
            df["bits_per_token"] = df["bits_per_byte"] * df["compression_ratio"]
        if "bits_per_byte_noise" in df.columns:
            label = df["paper_label"] if "paper_label" in df.columns else df["method"]
            trained = df["size"] != "uniform" if "size" in df.columns else True
            df["bits_per_byte_noise"] = np.where(
                trained,
                bits_per_byte_noise(
                    label, np.ones(len(df)), np.full(len(df), np.nan), np.full(len(df), np.nan), spreads
                ),
                0.0,
            )
        if "seeds" in df.columns:
            df["seeds"] = PAPER_SEEDS
        out[name] = df
    bitstream = out["section51_bitstream"]
    bitstream["uniform_loss"] = metrics.LN2
    # AC[v=256]'s seed spread, in nats per 1-bit token (8 of them per AC byte of the 8-bit stream).
    bitstream["loss_noise"] = spreads[M1_PROXY.paper_label] * ratios[M1_PROXY.paper_label] / 8 * metrics.LN2
    welch = out["welch_tests"]
    welch["p"] = welch["paper_p"]
    welch["t"] = welch["paper_t"]
    welch["verdict"] = np.where(welch["paper_p"] < options.alpha, "significant", "not significant")
    return out


def write_table(df: pd.DataFrame, csv_path: str | os.PathLike, md_path: str | os.PathLike, title: str) -> None:
    """Atomically write ``df`` as CSV and as Markdown under a ``# title`` heading."""
    write_text(csv_path, df.to_csv(index=False))
    write_text(md_path, f"# {title}\n\n" + dataframe_to_markdown(df))


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | os.PathLike) -> list[Path]:
    """Write each table as ``out_dir/<name>.{csv,md}``; returns the paths written."""
    out_dir = Path(out_dir)
    written = []
    for name, df in tables.items():
        csv, md = out_dir / f"{name}.csv", out_dir / f"{name}.md"
        write_table(df, csv, md, TABLE_TITLES[name])
        written += [csv, md]
    return written
