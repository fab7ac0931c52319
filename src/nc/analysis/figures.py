"""Every reproduced figure (3, 4, 5, 6, 10, 12, 14, 15), drawn from the same frames as the tables.

Each ``figNN_*`` function takes the tables of ``nc.analysis.tables.build_tables`` (Figure 10 also the
long evaluation curves) and returns a matplotlib Figure with a title, unit-bearing axis labels and a
legend, so it reads without the paper. Panels without data say so instead of failing: a partial
configuration still yields every file.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from nc.io import atomic_path
from nc.methods import V65K_BITS, V256_BITS, equal_info, parse_method
from nc.models.sizes import model_size
from nc.records import POSITION_ACCURACY_PREFIX

from .names import FIGURE_NAMES, FIGURE_TITLES  # noqa: F401
from .options import AnalysisOptions
from .summary import DEFAULT_VARIANT

BPB_LABEL = "bits/byte (lower is better)"
FLOPS_LABEL = "inference MFLOPs/byte (log scale, lower is better)"


def _palette(labels) -> dict[str, tuple]:
    labels = list(dict.fromkeys(labels))
    return dict(zip(labels, sns.color_palette("tab10" if len(labels) <= 10 else "tab20", len(labels))))


def _no_data(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"no runs for {what}", ha="center", va="center", transform=ax.transAxes, color="gray")


def _trained(df: pd.DataFrame) -> pd.DataFrame:
    return df[(df["size"] != "uniform") & df["bits_per_byte"].notna() & df["size"].notna()]


def _curves(ax, df: pd.DataFrame, x: str, y: str, colors: dict, styles: dict | None = None) -> bool:
    """One line per ``paper_label`` through its sizes (sorted by x); returns whether anything was drawn."""
    drawn = False
    if df.empty:
        return drawn
    for label, group in df.groupby("paper_label", sort=False):
        group = group.dropna(subset=[x, y]).sort_values(x)
        if group.empty:
            continue
        ax.plot(
            group[x], group[y], marker="o", color=colors[label], linestyle=(styles or {}).get(label, "-"), label=label
        )
        drawn = True
    return drawn


def _finish(fig, ax_list, title: str) -> plt.Figure:
    fig.suptitle(title)
    for ax in ax_list:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small", loc="best")
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def fig03_scaling(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """Bits/byte vs MFLOPs/byte per method across sizes; dashed lines: each method's uniform model."""
    t15 = tables["table15_fig3_values"]
    trained = _trained(t15)
    colors = _palette(t15["paper_label"])
    fig, ax = plt.subplots(figsize=(8, 5.5))
    if _curves(ax, trained, "mflops_per_byte", "bits_per_byte", colors):
        ax.set_xscale("log")
        for _, row in t15[(t15["size"] == "uniform") & t15["bits_per_byte"].notna()].iterrows():
            if row["paper_label"] in set(trained["paper_label"]):
                ax.axhline(row["bits_per_byte"], color=colors[row["paper_label"]], linestyle="--", linewidth=0.8)
        ax.plot([], [], color="gray", linestyle="--", label="uniform model (per method)")
    else:
        _no_data(ax, "the scaling study")
    ax.set_xlabel(FLOPS_LABEL)
    ax.set_ylabel(BPB_LABEL)
    return _finish(fig, [ax], FIGURE_TITLES["fig03_scaling"])


def pareto_frontier(df: pd.DataFrame, x: str = "compression_ratio", y: str = "bits_per_byte") -> pd.DataFrame:
    """Points no other point beats on both axes (higher ``x`` is better, lower ``y`` is better), by x."""
    pts = df.dropna(subset=[x, y]).sort_values([x, y], ascending=[False, True])
    best, keep = np.inf, []
    for idx, row in pts.iterrows():
        if row[y] < best:
            keep.append(idx)
            best = row[y]
    return pts.loc[keep].sort_values(x)


def fig04_bytes_per_step(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """Bits/byte vs bytes/step (the token compression ratio), all sizes; dash-dot: the Pareto frontier."""
    trained = _trained(tables["table15_fig3_values"])
    colors = _palette(tables["table15_fig3_values"]["paper_label"])
    fig, ax = plt.subplots(figsize=(8, 5.5))
    if trained.empty:
        _no_data(ax, "the scaling study")
    else:
        ranks = {
            s: i for i, s in enumerate(sorted(trained["size"].unique(), key=lambda s: model_size(s).nominal_params))
        }
        for label, group in trained.groupby("paper_label", sort=False):
            ax.scatter(
                group["compression_ratio"],
                group["bits_per_byte"],
                s=20 + 60 * group["size"].map(ranks),
                color=colors[label],
                label=label,
                alpha=0.8,
            )
        front = pareto_frontier(trained)
        ax.plot(
            front["compression_ratio"], front["bits_per_byte"], linestyle="-.", color="black", label="Pareto frontier"
        )
    ax.set_xlabel("raw bytes per decoder step = token compression ratio (higher is better)")
    ax.set_ylabel(BPB_LABEL)
    ax.text(
        0.99,
        0.01,
        "marker area grows with model size",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize="x-small",
        color="gray",
    )
    return _finish(fig, [ax], FIGURE_TITLES["fig04_bytes_per_step"])


def _vocab_styles(labels) -> dict[str, str]:
    return {l: ("--" if parse_method(l).token_bits == 16 else "-") for l in labels}


def fig05_window_sizes(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """EqualInfoAC b in {16, 32, 64, 128}: bits/byte (left) and bits/token (right) vs MFLOPs/byte."""
    t16 = _trained(tables["table16_fig5_values"])
    labels = list(dict.fromkeys(tables["table16_fig5_values"]["paper_label"]))
    windows = sorted({parse_method(l).fixed_window_bits for l in labels})
    win_colors = dict(zip(windows, sns.color_palette("viridis", len(windows))))
    colors = {l: win_colors[parse_method(l).fixed_window_bits] for l in labels}
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, y, ylabel in (
        (axes[0], "bits_per_byte", BPB_LABEL),
        (axes[1], "bits_per_token", "bits/token (lower is better)"),
    ):
        if _curves(ax, t16, "mflops_per_byte", y, colors, _vocab_styles(labels)):
            ax.set_xscale("log")
        else:
            _no_data(ax, "the window study")
        ax.set_xlabel(FLOPS_LABEL)
        ax.set_ylabel(ylabel)
    axes[0].set_title("(a) bits/byte", fontsize="small")
    axes[1].set_title("(b) bits/token; solid v=256, dashed v=65k", fontsize="small")
    return _finish(fig, axes, FIGURE_TITLES["fig05_window_sizes"])


def fig06_vocab_size(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """AC, StaticAC, EqualInfoAC[b=16] and GZip with v=256 (solid) and v=65k (dashed)."""
    t15 = tables["table15_fig3_values"]
    trained = _trained(t15)
    trained = trained.loc[trained["paper_label"].map(lambda l: parse_method(l).is_bitstream).astype(bool)]
    kinds = {l: parse_method(l).kind for l in t15["paper_label"].unique() if parse_method(l).is_bitstream}
    kind_colors = _palette(dict.fromkeys(kinds.values()))
    colors = {l: kind_colors[k] for l, k in kinds.items()}
    fig, ax = plt.subplots(figsize=(8, 5.5))
    if _curves(ax, trained, "mflops_per_byte", "bits_per_byte", colors, _vocab_styles(kinds)):
        ax.set_xscale("log")
    else:
        _no_data(ax, "the scaling study")
    ax.set_xlabel(FLOPS_LABEL)
    ax.set_ylabel(BPB_LABEL)
    ax.set_title("solid: v=256 (8-bit tokens), dashed: v=65k (16-bit tokens)", fontsize="small")
    return _finish(fig, [ax], FIGURE_TITLES["fig06_vocab_size"])


def position_accuracy(evals: pd.DataFrame, options: AnalysisOptions, size_map: dict[str, str]) -> pd.DataFrame:
    """Long frame ``step, position, accuracy, trivial, increase, position_tokens`` of Figure 10's run (mean
    over seeds; ``position_tokens``: evaluation tokens behind each accuracy, over all seeds, NaN when the
    summary does not record them).

    The run: ``options.position_method`` at ``options.position_size`` (default: the size standing for
    403m, else the largest). Trivial accuracy = max accuracy within ``trivial_accuracy_fraction`` of
    training (at least the first evaluation)."""
    label = parse_method(options.position_method).label
    sel = evals[(evals["label"] == label) & (evals["variant"] == DEFAULT_VARIANT)]
    pos_cols = sorted(
        (c for c in sel.columns if c.startswith(POSITION_ACCURACY_PREFIX)), key=lambda c: int(c.rsplit("_", 1)[1])
    )
    sel = sel.dropna(subset=pos_cols, how="all") if pos_cols else sel.iloc[0:0]
    cols = ["size", "step", "position", "accuracy", "trivial", "increase", "position_tokens"]
    if sel.empty:
        return pd.DataFrame(columns=cols)
    size = options.position_size or next(
        (s for s, p in size_map.items() if p == "403m" and s in set(sel["size"])), None
    )
    if size is None:
        size = max(sel["size"].unique(), key=lambda s: model_size(s).nominal_params)
    curve = sel[sel["size"] == size].groupby("step")[pos_cols].mean().sort_index()
    if curve.empty:
        return pd.DataFrame(columns=cols)
    horizon = max(options.trivial_accuracy_fraction * curve.index.max(), curve.index.min())
    trivial = curve[curve.index <= horizon].max()
    long = curve.reset_index().melt(id_vars="step", var_name="column", value_name="accuracy").dropna()
    long["position"] = long["column"].str.rsplit("_", n=1).str[1].astype(int)
    long["trivial"] = long["column"].map(trivial)
    long["increase"] = long["accuracy"] - long["trivial"]
    long["size"] = size
    # min_count: a summary that does not record the tokens gives NaN, not a sum of zero tokens.
    at_size = sel[sel["size"] == size]
    tokens = pd.to_numeric(at_size["tokens"], errors="coerce").groupby(at_size["step"]).sum(min_count=1)
    long["position_tokens"] = long["step"].map(tokens / len(pos_cols))
    return long[cols].sort_values(["position", "step"]).reset_index(drop=True)


def fig10_position_accuracy(positions: pd.DataFrame, method_label: str) -> plt.Figure:
    """Per-position accuracy over training (left) and its increase over trivial accuracy (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    if positions.empty:
        for ax in axes:
            _no_data(ax, method_label)
    else:
        colors = dict(
            zip(sorted(positions["position"].unique()), sns.color_palette("rocket_r", positions["position"].nunique()))
        )
        for pos, group in positions.groupby("position"):
            axes[0].plot(group["step"], 100 * group["accuracy"], color=colors[pos], label=f"token #{pos}")
            axes[1].plot(group["step"], 100 * group["increase"], color=colors[pos], label=f"token #{pos}")
    for ax, ylabel in ((axes[0], "accuracy (%)"), (axes[1], "accuracy increase over trivial (percentage points)")):
        ax.set_xlabel("training step")
        ax.set_ylabel(ylabel)
    size = "" if positions.empty else f" (size {positions['size'].iloc[0]})"
    axes[0].set_title(f"{method_label}{size}: raw accuracy", fontsize="small")
    axes[1].set_title("increase over trivial = max accuracy early in training", fontsize="small")
    return _finish(fig, axes, FIGURE_TITLES["fig10_position_accuracy"])


def fig12_m1_reset(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """EqualInfoAC[b=16] scaling curves with the M1-reset-every-other-window and never-reset runs as points."""
    t16 = _trained(tables["table16_fig5_values"])
    labels = [equal_info(16, bits).paper_label for bits in (V256_BITS, V65K_BITS)]
    t16 = t16[t16["paper_label"].isin(labels)]
    t9 = tables["table09_m1_reset"]
    t9 = t9[(t9["m1_reset"] != "every window") & t9["bits_per_byte"].notna()]
    colors = dict(zip(labels, sns.color_palette("tab10", 2)))
    fig, ax = plt.subplots(figsize=(8, 5.5))
    drawn = _curves(ax, t16, "mflops_per_byte", "bits_per_byte", colors)
    markers = {"every other window": "s", "never": "X"}
    for _, row in t9.iterrows():
        label = labels[0] if row["token_bits"] == V256_BITS else labels[1]
        ax.scatter(
            row["mflops_per_byte"],
            row["bits_per_byte"],
            marker=markers[row["m1_reset"]],
            s=70,
            color=colors[label],
            edgecolor="black",
            label=f"{label}, M1 reset {row['m1_reset']}",
        )
        drawn = True
    if drawn:
        ax.set_xscale("log")
    else:
        _no_data(ax, "the M1 reset study")
    ax.set_xlabel(FLOPS_LABEL)
    ax.set_ylabel(BPB_LABEL)
    ax.set_title("lines: M1 reset every window (default); points: reset less often", fontsize="small")
    return _finish(fig, [ax], FIGURE_TITLES["fig12_m1_reset"])


def fig14_delay(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    t17 = tables["table17_fig14_values"]
    labels = list(dict.fromkeys(t17["paper_label"]))
    colors = {l: sns.color_palette("tab10", 2)[parse_method(l).token_bits == 16] for l in labels}
    styles = {l: (":" if parse_method(l).delay else "-") for l in labels}
    fig, ax = plt.subplots(figsize=(8, 5.5))
    if _curves(ax, _trained(t17), "mflops_per_byte", "bits_per_byte", colors, styles):
        ax.set_xscale("log")
    else:
        _no_data(ax, "the delay study")
    ax.set_xlabel(FLOPS_LABEL)
    ax.set_ylabel(BPB_LABEL)
    ax.set_title("solid: greedy windows (default), dotted: delayed window-final zeros", fontsize="small")
    return _finish(fig, [ax], FIGURE_TITLES["fig14_delay"])


def fig15_scaled_data(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    t13 = tables["table13_scaled_data"]
    trained = t13[t13["bits_per_byte"].notna() & t13["size"].notna()]
    colors = _palette(t13["paper_label"])
    fig, ax = plt.subplots(figsize=(8, 5.5))
    if _curves(ax, trained, "mflops_per_byte", "bits_per_byte", colors):
        ax.set_xscale("log")
    else:
        _no_data(ax, "the scaling study's evaluation curves")
    ax.set_xlabel(FLOPS_LABEL)
    ax.set_ylabel(BPB_LABEL)
    ax.set_title("each size read at a training step proportional to its parameter count", fontsize="small")
    return _finish(fig, [ax], FIGURE_TITLES["fig15_scaled_data"])


def fig13_spelling(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """Exact-match spelling accuracy over fine-tuning steps: (a) held-out words, (b) training words."""
    curves = tables["fig13_spelling"].dropna(subset=["step"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, column, title in (
        (axes[0], "held_out_accuracy", "(a) held-out words"),
        (axes[1], "train_accuracy", "(b) training words"),
    ):
        if curves.empty:
            _no_data(ax, "the spelling fine-tunes")
        for label, group in curves.groupby("label"):
            group = group.sort_values("step")
            ax.plot(group["step"], 100 * group[column].astype(float), marker="o", markersize=3, label=label)
        ax.set_xlabel("fine-tuning step")
        ax.set_ylabel("exact-match accuracy (%)")
        ax.set_title(title, fontsize="small")
    return _finish(fig, list(axes), FIGURE_TITLES["fig13_spelling"])


def build_figures(tables: dict[str, pd.DataFrame], positions: pd.DataFrame, options: AnalysisOptions) -> dict:
    """Every figure of ``FIGURE_NAMES``."""
    label = parse_method(options.position_method).label
    return {
        "fig03_scaling": fig03_scaling(tables),
        "fig04_bytes_per_step": fig04_bytes_per_step(tables),
        "fig05_window_sizes": fig05_window_sizes(tables),
        "fig06_vocab_size": fig06_vocab_size(tables),
        "fig10_position_accuracy": fig10_position_accuracy(positions, label),
        "fig12_m1_reset": fig12_m1_reset(tables),
        "fig13_spelling": fig13_spelling(tables),
        "fig14_delay": fig14_delay(tables),
        "fig15_scaled_data": fig15_scaled_data(tables),
    }


MEASURED_FIG04_TITLE = "Figure 4, measured: bits/byte against the bytes each decoder step generated (nc generate)"


def fig04_measured_bytes_per_step(measured: pd.DataFrame) -> plt.Figure:
    """Figure 4 from generation: bits/byte against the bytes/step M2 produced when sampling through its
    method (``benchmarks/generation.py``: columns method, bits_per_byte, compression_ratio,
    bytes_per_step), each beside the ratio-based point of the paper's Figure 4 (hollow)."""
    colors = _palette(measured["method"]) if len(measured) else {}
    fig, ax = plt.subplots(figsize=(8, 5.5))
    if measured.empty:
        _no_data(ax, "generation")
    for label, row in measured.set_index("method").iterrows():
        color = colors[label]
        ax.scatter(row["bytes_per_step"], row["bits_per_byte"], color=color, label=label, s=40)
        ax.scatter(row["compression_ratio"], row["bits_per_byte"], facecolors="none", edgecolors=color, s=40)
        ax.plot([row["compression_ratio"], row["bytes_per_step"]], [row["bits_per_byte"]] * 2, color=color, lw=0.6)
    ax.scatter([], [], facecolors="none", edgecolors="gray", label="token compression ratio (Figure 4)")
    ax.set_xlabel("raw bytes per decoder step, measured while generating (higher is better)")
    ax.set_ylabel(BPB_LABEL)
    return _finish(fig, [ax], MEASURED_FIG04_TITLE)


def save_figure(fig: plt.Figure, pdf_path: str | os.PathLike, png_path: str | os.PathLike) -> None:
    """Atomically save ``fig`` as PDF and PNG, then close it (also when saving fails)."""
    try:
        for path, fmt in ((pdf_path, "pdf"), (png_path, "png")):
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight")
    finally:
        plt.close(fig)


def write_figures(figures: dict, out_dir: str | os.PathLike) -> list[Path]:
    out_dir = Path(out_dir)
    written = []
    for name, fig in figures.items():
        pdf, png = out_dir / f"{name}.pdf", out_dir / f"{name}.png"
        save_figure(fig, pdf, png)
        written += [pdf, png]
    return written
