"""Welch's t-test from summary statistics, as the paper runs it (Appendix D.7).

The paper tests with ``scipy.stats.ttest_ind_from_stats(..., equal_var=False)`` and calls p < 0.05
significant. Its Table 5 statement (p = 0.07 for decompression vs a byte LM) matches the one-sided test
(decompression better) with five seeds; its Table 6 statements hold two-sided.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

ALTERNATIVES = ("two-sided", "less", "greater")


@dataclass(frozen=True)
class WelchResult:
    """t statistic, Welch-Satterthwaite degrees of freedom, p-value and the verdict at ``alpha``."""

    t: float
    dof: float
    p: float
    alpha: float
    alternative: str

    @property
    def significant(self) -> bool:
        return bool(np.isfinite(self.p) and self.p < self.alpha)

    @property
    def reverse_significant(self) -> bool:
        """A one-sided test whose opposite alternative is significant (p of the opposite = 1 - p): the
        difference lies decidedly the other way. False for a two-sided test."""
        return bool(self.alternative != "two-sided" and np.isfinite(self.p) and 1.0 - self.p < self.alpha)

    def as_dict(self) -> dict:
        return {**asdict(self), "significant": self.significant, "reverse_significant": self.reverse_significant}


def welch_dof(std1: float, n1: int, std2: float, n2: int) -> float:
    """Welch-Satterthwaite degrees of freedom of the difference of two means."""
    v1, v2 = std1**2 / n1, std2**2 / n2
    denom = v1**2 / (n1 - 1) + v2**2 / (n2 - 1)
    return float((v1 + v2) ** 2 / denom) if denom > 0 else float("nan")


def welch_test(
    mean1: float,
    std1: float,
    n1: int,
    mean2: float,
    std2: float,
    n2: int,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> WelchResult:
    """Welch's unequal-variance t-test of mean1 vs mean2 from means, sample stds and counts.

    ``alternative='less'`` tests mean1 < mean2. Needs n >= 2 per group; a zero pooled variance gives
    t = +-inf (p = 0) for different means and NaN for equal ones, as scipy does.
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    if n1 < 2 or n2 < 2:
        raise ValueError(f"Welch's test needs at least 2 samples per group, got n1={n1}, n2={n2}")
    if std1 < 0 or std2 < 0:
        raise ValueError(f"standard deviations must be >= 0, got {std1}, {std2}")
    with np.errstate(divide="ignore", invalid="ignore"):
        res = stats.ttest_ind_from_stats(mean1, std1, n1, mean2, std2, n2, equal_var=False, alternative=alternative)
    return WelchResult(
        t=float(res.statistic),
        dof=welch_dof(std1, n1, std2, n2),
        p=float(res.pvalue),
        alpha=alpha,
        alternative=alternative,
    )
