"""Reading the collected summaries (``R/summary/{runs,evals,compression}.csv``) for the analysis.

The loaders check the columns the analysis needs (naming any that are missing), derive the method's
``label`` / ``paper_label`` / ``vocab_size`` from its slug, and map each reproduced model size onto the
paper size it stands for, so tables can join the paper's values on ``paper_size``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nc import metrics
from nc.methods import DEFAULT_VARIANT, parse_method
from nc.models.sizes import model_size
from nc.records import (
    CompressionRecord,
    EvalRecord,
    RunRecord,
    SpellingRecord,
    columns,
    optional_defaults,
    required_columns,
)

from .paper import PAPER_SIZES


@dataclass
class Summary:
    """The summary tables, with derived method columns (``label``, ``paper_label``, ``kind``, ...);
    ``spelling``: Figure 13's fine-tuning curves (empty when none were run)."""

    runs: pd.DataFrame
    evals: pd.DataFrame
    compression: pd.DataFrame
    spelling: pd.DataFrame = field(default_factory=lambda: empty_frame(SpellingRecord))


def empty_frame(record: type) -> pd.DataFrame:
    """A table with ``record``'s columns and no rows."""
    return pd.DataFrame(columns=list(columns(record)))


def require_columns(df: pd.DataFrame, names, what: str) -> None:
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; has {list(df.columns)}")


def read_records(df: pd.DataFrame, record: type, what: str) -> pd.DataFrame:
    """``df`` checked against ``record`` (``nc.records``): every required column present (else an error
    naming ``what`` and the missing ones), absent optional columns added with their default."""
    require_columns(df, required_columns(record), what)
    out = df.copy()
    for name, default in optional_defaults(record).items():
        if name not in out.columns:
            out[name] = np.nan if default is None else default
    return out


def with_method_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``label, paper_label, kind, token_bits, window_bits, uses_m1`` derived from ``slug``."""
    out = df.copy()
    specs = {slug: parse_method(slug) for slug in out["slug"].unique()}
    out["label"] = out["slug"].map(lambda s: specs[s].label)
    out["paper_label"] = out["slug"].map(lambda s: specs[s].paper_label)
    out["kind"] = out["slug"].map(lambda s: specs[s].kind)
    out["token_bits"] = out["slug"].map(lambda s: specs[s].token_bits).astype("float")
    out["window_bits"] = out["slug"].map(lambda s: specs[s].window_bits).astype("float")
    out["uses_m1"] = out["slug"].map(lambda s: specs[s].uses_m1).astype(bool)
    return out


def make_summary(
    runs: pd.DataFrame, evals: pd.DataFrame, compression: pd.DataFrame, spelling: pd.DataFrame | None = None
) -> Summary:
    """Validate and enrich in-memory summary tables (the file loader and the tests share this path)."""
    runs = with_method_columns(read_records(runs, RunRecord, "runs.csv"))
    runs["variant"] = runs["variant"].fillna(DEFAULT_VARIANT).astype(str)
    if runs["nominal_params"].isna().any():
        runs["nominal_params"] = runs["size"].map(lambda s: model_size(s).nominal_params)
    evals = with_method_columns(read_records(evals, EvalRecord, "evals.csv"))
    evals["variant"] = evals["variant"].fillna(DEFAULT_VARIANT).astype(str)
    compression = with_method_columns(read_records(compression, CompressionRecord, "compression.csv"))
    compression["uniform_bits_per_byte"] = metrics.uniform_bits_per_byte(
        compression["vocab_size"].astype(float), compression["compression_ratio"].astype(float)
    )
    spelling = read_records(
        spelling if spelling is not None else empty_frame(SpellingRecord), SpellingRecord, "spelling.csv"
    )
    return Summary(runs=runs, evals=evals, compression=compression, spelling=spelling)


def load_summary(
    runs_csv: str | os.PathLike,
    evals_csv: str | os.PathLike,
    compression_csv: str | os.PathLike,
    spelling_csv: str | os.PathLike | None = None,
) -> Summary:
    """Read the summary CSVs written by the collector (``spelling_csv`` optional)."""
    spelling = pd.read_csv(spelling_csv) if spelling_csv is not None else None
    return make_summary(pd.read_csv(runs_csv), pd.read_csv(evals_csv), pd.read_csv(compression_csv), spelling)


def paper_size_map(sizes, overrides=None) -> dict[str, str]:
    """Which paper size each reproduced size stands for.

    Paper sizes map to themselves; other sizes, ordered by nominal parameters, map onto
    25m, 113m, 403m, 2b in turn (a fifth size maps to none). ``overrides`` wins over both.
    """
    overrides = dict(overrides or {})
    for size, paper in overrides.items():
        if paper not in PAPER_SIZES:
            raise ValueError(f"analysis.paper_size_map.{size}: {paper!r} is not a paper size {PAPER_SIZES}")
    mapping = {s: s for s in sizes if s in PAPER_SIZES}
    others = sorted((s for s in set(sizes) if s not in PAPER_SIZES), key=lambda s: model_size(s).nominal_params)
    mapping.update({s: PAPER_SIZES[i] for i, s in enumerate(others) if i < len(PAPER_SIZES)})
    mapping.update(overrides)
    return mapping


def seed_means(runs: pd.DataFrame, variant: str = DEFAULT_VARIANT) -> pd.DataFrame:
    """One row per (slug, size) of ``variant``: the mean over seeds of every numeric metric, plus ``seeds``
    and ``bits_per_byte_std`` (sample std over seeds; NaN for one seed)."""
    sel = runs[runs["variant"] == variant]
    keys = ["slug", "label", "paper_label", "kind", "token_bits", "window_bits", "uses_m1", "size"]
    numeric = [
        "nominal_params",
        "steps",
        "loss_nats_per_token",
        "accuracy",
        "bits_per_byte",
        "bits_per_byte_se",
        "compression_ratio",
    ]
    if sel.empty:
        return pd.DataFrame(columns=keys + numeric + ["seeds", "bits_per_byte_std"])
    grouped = sel.groupby(keys, dropna=False, sort=False)
    out = grouped[numeric].mean().reset_index()
    out["seeds"] = grouped["seed"].nunique().to_numpy()
    out["bits_per_byte_std"] = grouped["bits_per_byte"].std(ddof=1).to_numpy()
    return out


def seed_stats(runs: pd.DataFrame, value: str, keys=("paper_label", "size", "variant")) -> pd.DataFrame:
    """Mean, sample standard deviation (ddof=1) and count of ``value`` over seeds, per ``keys``."""
    keys = list(keys)
    if runs.empty:
        return pd.DataFrame(columns=keys + ["mean", "std", "n"])
    grouped = runs.groupby(keys, sort=False)[value]
    out = grouped.agg(mean="mean", std=lambda x: float(np.std(x, ddof=1)) if len(x) > 1 else np.nan, n="count")
    return out.reset_index()
