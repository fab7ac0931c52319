"""Train state (params, optimizer state, step), the optimizer and the compute dtype."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from nc.models.transformer import DecoderLM, init_params
from nc.train.schedule import rsqrt_schedule

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def resolve_dtype(name: str) -> Any:
    """'auto' -> bfloat16 on GPU/TPU, float32 on CPU; or an explicit 'float32' / 'bfloat16'."""
    if name == "auto":
        return jnp.float32 if jax.default_backend() == "cpu" else jnp.bfloat16
    try:
        return DTYPES[name]
    except KeyError:
        raise ValueError(f"dtype must be 'auto', 'float32' or 'bfloat16', got {name!r}") from None


def make_optimizer(lr_constant: float, warmup_steps: int) -> optax.GradientTransformation:
    """Adafactor (optax defaults match T5X: factored second moments, decay 0.8, update clipping 1.0,
    parameter-scale relative steps) driven by the rsqrt schedule."""
    return optax.adafactor(learning_rate=rsqrt_schedule(lr_constant, warmup_steps))


def init_train_state(model: DecoderLM, optimizer: optax.GradientTransformation, seed: int) -> dict:
    params = init_params(model, seed)
    return {"params": params, "opt_state": optimizer.init(params), "step": jnp.zeros((), jnp.int32)}


def abstract_train_state(model: DecoderLM, optimizer: optax.GradientTransformation, shardings=None) -> Any:
    """Shapes/dtypes of the train state, allocating nothing; with ``shardings`` (one sharding for every
    leaf, or a pytree of them from ``nc.train.sharding.state_shardings``) also where each leaf lives."""
    shapes = jax.eval_shape(lambda: init_train_state(model, optimizer, 0))
    if shardings is None:
        return shapes
    if isinstance(shardings, jax.sharding.Sharding):
        shardings = jax.tree_util.tree_map(lambda _: shardings, shapes)
    return jax.tree_util.tree_map(lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh), shapes, shardings)
