"""Plain Markdown rendering of DataFrames (no optional dependency), used by tables and the audit."""

from __future__ import annotations

import math

import pandas as pd


def format_cell(value) -> str:
    """Numbers to at most 4 decimals (integers unchanged), NaN/None to an empty cell, '|' escaped."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}" if abs(value) >= 1e4 or abs(value) < 1e-3 else f"{value:.4f}".rstrip("0").rstrip(".")
    if hasattr(value, "item"):  # numpy scalar
        return format_cell(value.item())
    return str(value).replace("|", "\\|").replace("\n", " ")


def dataframe_to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``df`` (index dropped)."""
    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(format_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"
