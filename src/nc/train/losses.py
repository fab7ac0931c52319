"""Per-token cross-entropy, z-loss and accuracy, shared by training and evaluation."""
from __future__ import annotations

import jax
import jax.numpy as jnp


def token_losses(logits: jnp.ndarray, targets: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """Per-token (cross-entropy in nats, log Z, correct) for logits [B, T, V] and targets [B, T].

    Computed in float32 whatever the logits' dtype. ``correct`` is 1.0 where argmax equals the target.
    """
    logits = logits.astype(jnp.float32)
    log_z = jax.nn.logsumexp(logits, axis=-1)
    target_logit = jnp.take_along_axis(logits, targets[..., None].astype(jnp.int32), axis=-1)[..., 0]
    correct = (jnp.argmax(logits, axis=-1) == targets).astype(jnp.float32)
    return log_z - target_logit, log_z, correct


def masked_mean(values: jnp.ndarray, mask: jnp.ndarray) -> jnp.ndarray:
    mask = mask.astype(jnp.float32)
    return jnp.sum(values * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def training_loss(logits, targets, mask, z_loss: float):
    """Objective = masked mean of cross-entropy + z_loss * log(Z)^2 (the paper's z-loss 1e-4, Section 3.2).

    Returns (objective, metrics) where metrics hold the masked-mean cross-entropy ``loss``, ``z_loss``
    term, ``accuracy`` and the number of scored ``tokens``.
    """
    ce, log_z, correct = token_losses(logits, targets)
    loss = masked_mean(ce, mask)
    z_term = z_loss * masked_mean(jnp.square(log_z), mask)
    metrics = {"loss": loss, "z_loss": z_term, "accuracy": masked_mean(correct, mask),
               "tokens": jnp.sum(mask.astype(jnp.float32))}
    return loss + z_term, metrics
