"""Seeded, stateless data order: which examples make up the batch of a given step.

Example slot ``p = (step - 1) * batch_size + i`` (1-based steps) reads position ``p mod N`` of the
permutation of epoch ``p // N``; each epoch's permutation is drawn from ``(seed, epoch)`` alone.
The order is therefore a pure function of (seed, step), so a resumed run needs no iterator state
and sees exactly the examples an uninterrupted run would, each once per epoch.
"""
from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=4)
def epoch_permutation(num_examples: int, seed: int, epoch: int) -> np.ndarray:
    perm = np.random.default_rng([seed, epoch]).permutation(num_examples)
    perm.setflags(write=False)
    return perm


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
        out[sel] = epoch_permutation(num_examples, seed, int(epoch))[positions[sel]]
    return out
