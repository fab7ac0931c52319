"""StaticAC's model (Section 3.3): one byte-unigram distribution estimated from training text."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from nc.coding.sources import ALPHABET_SIZE, UnigramSource


def fit_byte_unigram(examples: Sequence[bytes], smoothing: float = 1.0) -> np.ndarray:
    """Add-``smoothing`` byte frequencies over ``examples``: float64 [256] summing to 1, no zero mass."""
    if smoothing <= 0:
        raise ValueError(f"smoothing must be > 0 so every byte stays encodable, got {smoothing}")
    counts = np.full(ALPHABET_SIZE, float(smoothing))
    for ex in examples:
        counts += np.bincount(np.frombuffer(bytes(ex), dtype=np.uint8), minlength=ALPHABET_SIZE)
    return counts / counts.sum()


def static_source(examples: Sequence[bytes], smoothing: float = 1.0) -> UnigramSource:
    """The StaticAC probability source fitted on ``examples``."""
    return UnigramSource(fit_byte_unigram(examples, smoothing))
