"""StaticAC's model (Section 3.3): one byte-unigram distribution estimated from training text."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from nc.coding.sources import ALPHABET_SIZE, UnigramSource


def count_bytes(examples: Iterable[bytes]) -> np.ndarray:
    """int64 [256]: occurrences of each byte value in ``examples``."""
    counts = np.zeros(ALPHABET_SIZE, np.int64)
    for ex in examples:
        counts += np.bincount(np.frombuffer(bytes(ex), dtype=np.uint8), minlength=ALPHABET_SIZE)
    return counts


def unigram_from_counts(counts: np.ndarray, smoothing: float = 1.0) -> np.ndarray:
    """Add-``smoothing`` byte frequencies from byte ``counts``: float64 [256] summing to 1, no zero mass."""
    if smoothing <= 0:
        raise ValueError(f"smoothing must be > 0 so every byte stays encodable, got {smoothing}")
    counts = np.asarray(counts, dtype=np.float64)
    if counts.shape != (ALPHABET_SIZE,) or np.any(counts < 0):
        raise ValueError(f"byte counts must be {ALPHABET_SIZE} non-negative numbers, got shape {counts.shape}")
    counts = counts + smoothing
    return counts / counts.sum()


def fit_byte_unigram(examples: Iterable[bytes], smoothing: float = 1.0) -> np.ndarray:
    """Add-``smoothing`` byte frequencies over ``examples``: float64 [256] summing to 1, no zero mass."""
    return unigram_from_counts(count_bytes(examples), smoothing)


def static_source(
    examples: Iterable[bytes] | None = None, smoothing: float = 1.0, *, counts: np.ndarray | None = None
) -> UnigramSource:
    """The StaticAC probability source fitted on ``examples``, or on precomputed byte ``counts``."""
    if (examples is None) == (counts is None):
        raise ValueError("static_source needs exactly one of examples or counts")
    if counts is None:
        assert examples is not None
        counts = count_bytes(examples)
    return UnigramSource(unigram_from_counts(counts, smoothing))
