"""Seeded, stateless data order: which examples make up the batch of a given step.

Example slot ``p = (step - 1) * batch_size + i`` (1-based steps) reads position ``p mod N`` of the
permutation of epoch ``p // N``. Each epoch's permutation is a keyed pseudo-random permutation drawn
from ``(seed, epoch)`` alone: a six-round Feistel network on the smallest even-bit domain holding N, with
cycle walking back into ``[0, N)`` (Black & Rogaway, 2002). Position -> example is computed on demand,
so the order costs no memory however large the dataset (51.2M M2 examples, ~800M packed M1 rows), a
resumed run needs no iterator state, and every example is read once per epoch.
"""

from __future__ import annotations

import numpy as np

FEISTEL_ROUNDS = 6
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective 64-bit hash."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _round_keys(seed: int, epoch: int) -> np.ndarray:
    return np.random.SeedSequence(seed, spawn_key=(epoch,)).generate_state(FEISTEL_ROUNDS, np.uint64)


def _feistel(x: np.ndarray, half_bits: int, keys: np.ndarray) -> np.ndarray:
    mask = np.uint64((1 << half_bits) - 1)
    left, right = x >> np.uint64(half_bits), x & mask
    for key in keys:
        left, right = right, left ^ (_mix(right ^ key) & mask)
    return (left << np.uint64(half_bits)) | right


def permuted_positions(positions: np.ndarray, num_examples: int, seed: int, epoch: int) -> np.ndarray:
    """int64: the examples at ``positions`` (each in ``[0, num_examples)``) of epoch ``epoch``'s permutation."""
    if num_examples < 1:
        raise ValueError("cannot permute an empty dataset")
    positions = np.asarray(positions, dtype=np.int64)
    if positions.size and (positions.min() < 0 or positions.max() >= num_examples):
        raise ValueError(f"positions must lie in [0, {num_examples})")
    half_bits = max(1, (int(num_examples - 1).bit_length() + 1) // 2)
    keys = _round_keys(seed, epoch)
    out = _feistel(positions.astype(np.uint64), half_bits, keys)
    outside = out >= np.uint64(num_examples)
    while outside.any():  # cycle walking: the domain is < 4 N, so few steps are expected
        out[outside] = _feistel(out[outside], half_bits, keys)
        outside = out >= np.uint64(num_examples)
    return out.astype(np.int64)


def epoch_permutation(num_examples: int, seed: int, epoch: int) -> np.ndarray:
    """The whole permutation of one epoch (for tests and small datasets)."""
    return permuted_positions(np.arange(num_examples), num_examples, seed, epoch)


def batch_indices(step: int, batch_size: int, num_examples: int, seed: int) -> np.ndarray:
    """int64 [batch_size]: example indices of 1-based training step ``step``."""
    if step < 1:
        raise ValueError(f"training steps count from 1, got {step}")
    if num_examples < 1:
        raise ValueError("cannot draw batches from an empty dataset")
    slots = (step - 1) * batch_size + np.arange(batch_size, dtype=np.int64)
    epochs, positions = np.divmod(slots, num_examples)
    out = np.empty(batch_size, dtype=np.int64)
    for epoch in np.unique(epochs):
        sel = epochs == epoch
        out[sel] = permuted_positions(positions[sel], num_examples, seed, int(epoch))
    return out
