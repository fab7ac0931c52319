"""Simple probability sources implementing the ``ProbabilitySource`` protocol (docs/ARCHITECTURE.md).

``probs(segments uint8 [B, T]) -> float32 [B, T, 256]``; row t is the distribution of byte t given
segments[b, :t]. These context-free and one-byte-context sources let the coders be tested and used
without M1; M1 plugs into the same protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

ALPHABET_SIZE = 256


class ProbabilitySource(Protocol):
    alphabet_size: int

    def probs(self, segments: np.ndarray) -> np.ndarray: ...


def call_source(source: ProbabilitySource, segments: np.ndarray) -> np.ndarray:
    """source.probs with a shape check (float32 [B, T, 256])."""
    probs = source.probs(segments)
    b, t = segments.shape
    if not isinstance(probs, np.ndarray) or probs.shape != (b, t, ALPHABET_SIZE):
        raise ValueError(
            f"source.probs returned shape {getattr(probs, 'shape', None)}, expected {(b, t, ALPHABET_SIZE)}"
        )
    return probs


# Context extensions (Equal-Info window contexts). A source with prefix states (M1, ``nc.models.m1``: ``prefix_pool``,
# ``start``, ``extend``) computes a longer context on top of the states of its first positions, kept in the
# slots of a pool; any other source is called on the whole longer context, and its new rows are kept. Both
# sides of the coder go through these functions.
def context_pool(source, length: int, capacity: int = 0):
    """A pool for the prefix states of contexts of at most ``length`` positions, or None (the source keeps none)."""
    return source.prefix_pool(length, capacity) if hasattr(source, "prefix_pool") else None


def start_context(source, segments: np.ndarray, pool, slots: np.ndarray) -> np.ndarray:
    """Rows [B, T, 256] of contexts ``segments`` [B, T]; their prefix states go to ``slots`` of ``pool``."""
    if pool is None:
        return call_source(source, segments)
    return source.start(segments, pool, slots)


def extend_context(
    source, segments: np.ndarray, from_length: int, pool, slots: np.ndarray, from_slots: np.ndarray | None = None
) -> np.ndarray:
    """Rows from_length..T-1 [B, T - from_length, 256] of contexts ``segments`` [B, T] whose first
    ``from_length`` positions ``start_context`` / ``extend_context`` computed into ``from_slots`` (default
    ``slots``) of ``pool``; the longer contexts' states go to ``slots``."""
    if pool is None:
        return call_source(source, segments)[:, from_length:]
    return source.extend(segments, from_length, pool, slots, from_slots)


def chained_probs(source, segments: np.ndarray, rungs: Sequence[int]) -> np.ndarray:
    """Rows [B, rungs[-1], 256] of contexts ``segments`` computed as the encoder computes a context that
    climbed ``rungs``: rows below rungs[0] from ``start_context``, rows rungs[j-1]..rungs[j]-1 from
    ``extend_context`` (the decoder's side of the chain)."""
    pool = context_pool(source, rungs[-1], segments.shape[0] + 1)
    slots = pool.allocate(segments.shape[0]) if pool is not None else np.zeros(0, np.int32)
    parts = [start_context(source, segments[:, : rungs[0]], pool, slots)]
    for previous, rung in zip(rungs, rungs[1:]):
        parts.append(extend_context(source, segments[:, :rung], previous, pool, slots))
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


def _check_segments(segments: np.ndarray) -> np.ndarray:
    segments = np.asarray(segments)
    if segments.ndim != 2 or segments.dtype != np.uint8:
        raise ValueError(f"segments must be uint8 [B, T], got {segments.dtype} {segments.shape}")
    return segments


def _check_distribution(p: np.ndarray, name: str) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.shape[-1] != ALPHABET_SIZE or not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p.sum(-1) <= 0):
        raise ValueError(
            f"{name} must be finite, non-negative, positive-sum rows of {ALPHABET_SIZE}, got shape {p.shape}"
        )
    return p / p.sum(-1, keepdims=True)


class UnigramSource:
    """The same byte distribution at every position (StaticAC's model)."""

    alphabet_size = ALPHABET_SIZE

    def __init__(self, probs: np.ndarray):
        p = _check_distribution(probs, "UnigramSource probs")
        if p.ndim != 1:
            raise ValueError(f"UnigramSource probs must be 1-D [256], got {p.shape}")
        self.unigram = p.astype(np.float32)

    def probs(self, segments: np.ndarray) -> np.ndarray:
        b, t = _check_segments(segments).shape
        return np.broadcast_to(self.unigram, (b, t, ALPHABET_SIZE))  # read-only view: no copy


class BigramSource:
    """Distribution of byte t given byte t-1 (``table[prev]``); ``initial`` at t = 0."""

    alphabet_size = ALPHABET_SIZE

    def __init__(self, table: np.ndarray, initial: np.ndarray):
        table = _check_distribution(table, "BigramSource table")
        if table.shape != (ALPHABET_SIZE, ALPHABET_SIZE):
            raise ValueError(f"BigramSource table must be [256, 256], got {table.shape}")
        self.table = table.astype(np.float32)
        self.initial = _check_distribution(initial, "BigramSource initial").astype(np.float32)

    @classmethod
    def fit(cls, examples: Sequence[bytes], smoothing: float = 0.5) -> BigramSource:
        """Add-``smoothing`` bigram counts over ``examples`` (every byte pair keeps some mass)."""
        if smoothing <= 0:
            raise ValueError(f"smoothing must be > 0, got {smoothing}")
        counts = np.full((ALPHABET_SIZE, ALPHABET_SIZE), smoothing)
        first = np.full(ALPHABET_SIZE, smoothing)
        for ex in examples:
            x = np.frombuffer(bytes(ex), dtype=np.uint8)
            if x.size:
                first[x[0]] += 1
                np.add.at(counts, (x[:-1], x[1:]), 1)
        return cls(counts, first)

    def probs(self, segments: np.ndarray) -> np.ndarray:
        segments = _check_segments(segments)
        b, t = segments.shape
        out = np.empty((b, t, ALPHABET_SIZE), dtype=np.float32)
        if t:
            out[:, 0] = self.initial
            out[:, 1:] = self.table[segments[:, :-1]]
        return out
