"""The paper's published values, loaded from the CSVs shipped in ``nc.analysis.paper_values``.

Every table builder sets its reproduced numbers beside these. Labels are normalised to
``MethodSpec.paper_label`` (e.g. ``EqualInfoAC[b=16;v=65k]``, ``EqualInfoAC[b=16;v=256] Delay``) so
reproduced and published rows join on one key.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources

import pandas as pd

from nc.methods import MethodSpec, parse_method
from nc.models.sizes import PAPER_M2_SIZES

PAPER_SIZES = PAPER_M2_SIZES  # ("25m", "113m", "403m", "2b")


@cache
def _read(name: str) -> pd.DataFrame:
    path = resources.files("nc.analysis.paper_values") / f"{name}.csv"
    if not path.is_file():
        known = sorted(
            p.name[:-4] for p in resources.files("nc.analysis.paper_values").iterdir() if p.name.endswith(".csv")
        )
        raise KeyError(f"no paper table {name!r}; known: {', '.join(known)}")
    with path.open(encoding="utf-8") as f:
        return pd.read_csv(f)


def paper_table(name: str) -> pd.DataFrame:
    """A copy of the paper's table ``name`` (file stem, e.g. ``table15_fig3_values``)."""
    return _read(name).copy()


def paper_scalar(quantity: str) -> float:
    """One number from ``scalars.csv`` (e.g. ``m1_validation_bits_per_byte``)."""
    table = _read("scalars")
    row = table[table["quantity"] == quantity]
    if row.empty:
        raise KeyError(f"no paper scalar {quantity!r}")
    return float(row["value"].iloc[0])


def spec_label(kind: str, token_bits=None, window_bits=None, **extra) -> str:
    """``paper_label`` of the method with these fields; NaN fields count as absent."""

    def clean(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else int(x)

    fields = {"kind": kind, "token_bits": clean(token_bits), "window_bits": clean(window_bits), **extra}
    if kind == "Bytes":
        fields["token_bits"] = 8
    return MethodSpec(**fields).paper_label


def canonical_label(text: str) -> str:
    """Normalise any label the paper's CSVs use (``EqualInfoAC[b=16;v=256] Delay`` too) to ``paper_label``."""
    return parse_method(text).paper_label


def figure3_methods() -> list[MethodSpec]:
    """The methods of the paper's Figure 3 (Table 15's settings), in its order."""
    labels = dict.fromkeys(paper_table("table15_fig3_values")["setting"].map(canonical_label))
    return [parse_method(label) for label in labels]
