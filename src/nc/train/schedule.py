"""The paper's learning-rate schedule (Section 3.2): rsqrt decay with a constant warm-up plateau."""

from __future__ import annotations

import jax.numpy as jnp


def rsqrt_learning_rate(step, lr_constant: float = 1.0, warmup_steps: int = 10_000):
    """``lr_constant / sqrt(max(step, warmup_steps))`` for 1-based training step ``step``.

    With the paper's values (1.0, 10,000) the rate is 0.01 for the first 10k steps, then decays as 1/sqrt(step).
    """
    if warmup_steps < 1:
        raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}")
    return lr_constant / jnp.sqrt(jnp.maximum(jnp.asarray(step, jnp.float32), float(warmup_steps)))


def rsqrt_schedule(lr_constant: float = 1.0, warmup_steps: int = 10_000):
    """An optax schedule: optax counts updates from 0, the update at count c is training step c + 1."""
    if warmup_steps < 1:
        raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}")
    return lambda count: rsqrt_learning_rate(count + 1, lr_constant, warmup_steps)
