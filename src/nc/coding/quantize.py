"""Deterministic quantisation of probability rows to integer CDFs (total ``2**precision``).

Rule: count_i = 1 + floor(p_i / sum(p) * (2**precision - A)); the few counts left over by flooring
go to the most probable symbol (lowest index on ties). Every symbol keeps a count of at least 1, so
every symbol stays encodable (minimum probability ``2**-precision``, Section 2.4).

The sum runs in 8 interleaved float64 lanes combined in a fixed order, without fastmath: every
operation is one exactly specified IEEE operation, so the same float32 row always gives the same
CDF whatever kernel, batch or machine quantises it (encoder and decoder agree bit for bit).

Speed: all passes but the lane sum (a fixed-order chain of float adds) and the CDF prefix sum are
branch-free loops that LLVM vectorises. The most probable symbol is found by comparing float32 bit
patterns as int32 (for the non-negative values of a valid row their order is the float order, and
an integer max reduction vectorises where a float one would need fastmath). ``symbol_interval``
gives one symbol's [c_lo, c_hi) without building the CDF, which is all an encoder needs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from nc.methods import PAPER_PRECISION

MIN_PRECISION = 8
MAX_PRECISION = 30  # range * count products must fit in int64

BAD_ROW = -1  # status: a row with a negative, non-finite or all-zero probability
LANES = 8  # float64 lanes of the row sum (part of the quantisation rule)
_NO_BITS = np.int32(-(2**31))  # below every non-negative float32 bit pattern


def check_precision(precision: int, alphabet_size: int = 256) -> int:
    """Validate ``precision``: integer in [MIN_PRECISION, MAX_PRECISION] with 2**precision >= alphabet."""
    if not isinstance(precision, (int, np.integer)) or not MIN_PRECISION <= precision <= MAX_PRECISION:
        raise ValueError(f"precision must be an integer in {MIN_PRECISION}..{MAX_PRECISION}, got {precision!r}")
    if 2 ** int(precision) < alphabet_size:
        raise ValueError(f"precision {precision} cannot give {alphabet_size} symbols a count >= 1")
    return int(precision)


@njit(cache=True, inline="always")
def widen_row(row, wide):
    """wide[:A] = float64(row): one vectorised conversion instead of one per later read."""
    for i in range(row.shape[0]):
        wide[i] = np.float64(row[i])


@njit(cache=True, inline="always")
def lane_sum(values, n):
    """Sum of values[:n] in 8 float64 lanes (lane j holds i = j mod 8), combined pairwise."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    full = n - n % LANES
    for i in range(0, full, LANES):
        s0 += np.float64(values[i])
        s1 += np.float64(values[i + 1])
        s2 += np.float64(values[i + 2])
        s3 += np.float64(values[i + 3])
        s4 += np.float64(values[i + 4])
        s5 += np.float64(values[i + 5])
        s6 += np.float64(values[i + 6])
        s7 += np.float64(values[i + 7])
    for i in range(full, n):
        s0 += np.float64(values[i])
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(cache=True, inline="always")
def count_scale(row, values, precision):
    """(scale, max_bits) of a row: count_i = 1 + int(values[i] * scale); scale < 0 for a bad row.

    ``values`` is ``row`` itself or its float64 copy (``widen_row``); both give the same sum.
    ``max_bits`` is the largest float32 bit pattern of the row (as int32), i.e. its maximum.
    """
    n = row.shape[0]
    bits = row.view(np.int32)
    max_bits = _NO_BITS
    negative = False
    for i in range(n):
        max_bits = max(max_bits, bits[i])
        negative |= row[i] < np.float32(0.0)
    s = lane_sum(values, n)
    # NaN or inf entries make the sum NaN/inf.
    if not (s > 0.0) or s == np.inf or negative:
        return -1.0, max_bits
    return ((np.int64(1) << precision) - n) / s, max_bits


@njit(cache=True, inline="always")
def quantize_values_into(row, values, precision, cdf):
    """Quantise ``row`` (float32 [A]) into ``cdf`` (int [A+1]); ``values`` as in ``count_scale``.

    Returns 0 or BAD_ROW. cdf[0] = 0, cdf[A] = 2**precision.
    """
    n = row.shape[0]
    total = np.int64(1) << precision
    scale, max_bits = count_scale(row, values, precision)
    if scale < 0.0:
        return BAD_ROW
    bits = row.view(np.int32)
    floors = np.int64(0)
    top = n
    for i in range(n):
        c = np.int64(np.float64(values[i]) * scale)  # truncation == floor for non-negative values
        cdf[i + 1] = 1 + c
        floors += c
        top = min(top, i if bits[i] == max_bits else n)  # first index of the maximum
    # Flooring leaves a small non-negative remainder; float rounding can at worst overshoot by a
    # few counts, which the largest count absorbs (it is >= 1 + spare / A).
    cdf[top + 1] += total - n - floors
    cdf[0] = 0
    for i in range(n):
        cdf[i + 1] += cdf[i]
    return 0


@njit(cache=True)
def quantize_row_into(row, precision, cdf):
    """Quantise one probability row (float32 [A]) into ``cdf`` (int [A+1]); returns 0 or BAD_ROW."""
    return quantize_values_into(row, row, precision, cdf)


@njit(cache=True, inline="always")
def symbol_interval(row, wide, symbol, precision):
    """[c_lo, c_hi) of ``symbol`` in the CDF ``quantize_row_into`` would build; (-1, -1) for a bad row.

    Same counts, without the CDF: c_lo sums the counts below ``symbol``. ``wide`` is scratch
    (float64 [>= A]) that receives the widened row.
    """
    n = row.shape[0]
    widen_row(row, wide)
    scale, max_bits = count_scale(row, wide, precision)
    if scale < 0.0:
        return np.int64(-1), np.int64(-1)
    bits = row.view(np.int32)
    floors = np.int64(0)
    floors_below = np.int64(0)
    max_below = False
    for i in range(n):
        c = np.int64(wide[i] * scale)
        below = i < symbol
        floors += c
        floors_below += c if below else 0
        max_below |= below & (bits[i] == max_bits)
    remainder = (np.int64(1) << precision) - n - floors
    c_lo = symbol + floors_below
    count = 1 + np.int64(wide[symbol] * scale)
    if max_below:  # the remainder sits in a count below the symbol
        c_lo += remainder
    elif bits[symbol] == max_bits:  # first maximum is the symbol itself
        count += remainder
    return c_lo, c_lo + count


@njit(cache=True)
def _quantize_rows(probs, precision, cdfs):
    wide = np.empty(probs.shape[1], dtype=np.float64)
    for r in range(probs.shape[0]):
        widen_row(probs[r], wide)
        if quantize_values_into(probs[r], wide, precision, cdfs[r]) != 0:
            return r
    return -1


def quantize_cdfs(probs: np.ndarray, precision: int = PAPER_PRECISION) -> np.ndarray:
    """Quantise float32 probabilities [N, A] to int32 CDFs [N, A+1] with total 2**precision.

    Rows need not be normalised; a row with a negative, NaN/inf or all-zero entry raises ValueError.
    """
    probs = np.ascontiguousarray(probs, dtype=np.float32)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"probs must have shape [N, A] with A >= 2, got {probs.shape}")
    precision = check_precision(precision, probs.shape[1])
    cdfs = np.empty((probs.shape[0], probs.shape[1] + 1), dtype=np.int32)
    bad = _quantize_rows(probs, precision, cdfs)
    if bad >= 0:
        raise ValueError(f"probability row {bad} is not a valid distribution (negative, non-finite or all zero)")
    return cdfs
