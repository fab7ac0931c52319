"""Per-token cross-entropy, z-loss and accuracy, shared by training and evaluation.

Both start from the model's final-norm hidden states (``model.apply(..., project=False)``) and its
output projection kernel rather than from [B, T, V] logits. The target's logit comes from the target's
own kernel column (on a CPU with a 65,536-token vocabulary, 1.7x faster for a t1 step than 3-D logits
with a gathered target, whose gradient scatters into a zero tensor of the logits' size).

Above ``WHOLE_LOGITS_MAX_VOCAB`` columns the log-partition log Z and the argmax test are taken over the
vocabulary in blocks of ``VOCAB_BLOCK`` columns (a running max and sum of exponentials, as online softmax
does), and the gradient of log Z recomputes each block's logits instead of keeping them: the [B*T, V]
logits are never materialised: the loss's memory does not grow with V, and its working set is one
block's logits. Whole logits are memory-bound at small widths: at v=65,536 blocks make a CPU evaluation ~4x and a
t1 training step ~1.2x faster (benchmarks/train.py, one XLA thread). Values equal the whole-logit ones up to float
rounding (tests/train/test_losses.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

# Output columns per block of the log-partition scan: 2048 x 2048 float32 logits (16 MiB) per block at
# a CPU batch of 8 x 256 tokens.
VOCAB_BLOCK = 2048
# Vocabularies of at most this many columns take whole logits: their logits are small enough (2,000
# columns at tiny: ~16 MB) that blocks would mostly add the backward pass's recomputation.
WHOLE_LOGITS_MAX_VOCAB = 4 * VOCAB_BLOCK


def _vocab_blocks(kernel: jnp.ndarray) -> tuple[jnp.ndarray, int]:
    """(kernel blocks [n, d, block] zero-padded to n * block columns, block): the padding is masked out."""
    width, vocab = kernel.shape
    block = min(VOCAB_BLOCK, vocab)
    count = -(-vocab // block)
    padded = jnp.pad(kernel, ((0, 0), (0, count * block - vocab)))
    return padded.reshape(width, count, block).transpose(1, 0, 2), block


def _block_logits(flat: jnp.ndarray, block_kernel: jnp.ndarray, first: jnp.ndarray, vocab: int) -> jnp.ndarray:
    """float32 logits [N, block] of one block whose first column is ``first``; padding columns -inf (only
    the last block has padding, and at least one real column)."""
    logits = jnp.dot(flat, block_kernel, preferred_element_type=jnp.float32)
    column = first + jnp.arange(block_kernel.shape[1])
    return jnp.where(column[None, :] < vocab, logits, -jnp.inf)


@jax.custom_vjp
def log_partition(flat: jnp.ndarray, kernel: jnp.ndarray, ids: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(log Z [N] float32, correct [N] float32) of hidden states [N, d] against the kernel [d, V] and
    targets ``ids`` [N] (in [0, V)): log Z = logsumexp(flat @ kernel); correct = 1.0 where the target's
    logit is the largest (exact ties count as correct; no gradient). Differentiable in ``flat`` and
    ``kernel``."""
    return _log_partition_forward(flat, kernel, ids)[0]


def _log_partition_forward(flat, kernel, ids):
    vocab = kernel.shape[1]
    blocks, block = _vocab_blocks(kernel)

    def scan_block(carry, indexed):
        running_max, running_sum, target = carry
        index, block_kernel = indexed
        first = index * block
        logits = _block_logits(flat, block_kernel, first, vocab)
        new_max = jnp.maximum(running_max, jnp.max(logits, axis=-1))
        running_sum = running_sum * jnp.exp(running_max - new_max) + jnp.sum(
            jnp.exp(logits - new_max[:, None]), axis=-1
        )
        local = ids - first
        inside = (local >= 0) & (local < block)
        here = jnp.take_along_axis(logits, jnp.clip(local, 0, block - 1)[:, None], axis=-1)[:, 0]
        return (new_max, running_sum, jnp.where(inside, here, target)), None

    # Per row: the running max, the running sum of exponentials, the target's logit.
    lowest = jnp.full_like(flat[:, 0], -jnp.inf, dtype=jnp.float32)
    start = (lowest, jnp.zeros_like(lowest), lowest)
    (top, total, target), _ = jax.lax.scan(scan_block, start, (jnp.arange(blocks.shape[0]), blocks))
    log_z = top + jnp.log(total)
    correct = (target >= top).astype(jnp.float32)
    return (log_z, correct), (flat, kernel, log_z)


def _log_partition_backward(residuals, cotangents):
    flat, kernel, log_z = residuals
    d_log_z = cotangents[0]  # ``correct`` has no gradient
    vocab = kernel.shape[1]
    blocks, block = _vocab_blocks(kernel)

    def scan_block(d_flat, indexed):
        index, block_kernel = indexed
        logits = _block_logits(flat, block_kernel, index * block, vocab)
        # Softmax times the cotangent; the block products are taken and accumulated in float32.
        d_logits = jnp.exp(logits - log_z[:, None]) * d_log_z[:, None]
        d_flat = d_flat + jnp.dot(d_logits, block_kernel.T.astype(jnp.float32))
        return d_flat, jnp.dot(flat.T.astype(jnp.float32), d_logits)

    d_flat, d_blocks = jax.lax.scan(
        scan_block, jnp.zeros(flat.shape, jnp.float32), (jnp.arange(blocks.shape[0]), blocks)
    )
    d_kernel = d_blocks.transpose(1, 0, 2).reshape(kernel.shape[0], -1)[:, :vocab]
    return d_flat.astype(flat.dtype), d_kernel.astype(kernel.dtype), None


log_partition.defvjp(_log_partition_forward, _log_partition_backward)


def _whole_log_partition(flat: jnp.ndarray, kernel: jnp.ndarray, ids: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """``log_partition`` from the whole [N, V] logits (small vocabularies)."""
    logits = jnp.dot(flat, kernel, preferred_element_type=jnp.float32)
    frozen = jax.lax.stop_gradient(logits)
    target = jnp.take_along_axis(frozen, ids[:, None], axis=-1)[:, 0]
    return jax.nn.logsumexp(logits, axis=-1), (target >= jnp.max(frozen, axis=-1)).astype(jnp.float32)


def token_losses(
    hidden: jnp.ndarray, output_kernel: jnp.ndarray, targets: jnp.ndarray
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """Per-token (cross-entropy in nats, log Z, correct), each [B, T], for hidden states [B, T, d],
    the output kernel [d, V] and targets [B, T].

    Logits are accumulated in float32 whatever the compute dtype. ``correct`` is 1.0 where the target's
    logit is the largest (argmax equals the target; exact ties count as correct).
    """
    batch, length, width = hidden.shape
    flat = hidden.reshape(batch * length, width)
    kernel = output_kernel.astype(hidden.dtype)
    ids = targets.reshape(-1).astype(jnp.int32)
    if kernel.shape[1] <= WHOLE_LOGITS_MAX_VOCAB:
        log_z, correct = _whole_log_partition(flat, kernel, ids)
    else:
        log_z, correct = log_partition(flat, kernel, ids)
    target_logit = jnp.sum(flat.astype(jnp.float32) * jnp.take(kernel, ids, axis=1).T.astype(jnp.float32), axis=-1)
    shape = (batch, length)
    return (log_z - target_logit).reshape(shape), log_z.reshape(shape), correct.reshape(shape)


def masked_mean(values: jnp.ndarray, mask: jnp.ndarray) -> jnp.ndarray:
    mask = mask.astype(jnp.float32)
    return jnp.sum(values * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def training_loss(hidden, output_kernel, targets, mask, z_loss: float):
    """Objective = masked mean of cross-entropy + z_loss * log(Z)^2 (the paper's z-loss 1e-4, Section 3.2).

    ``hidden`` / ``output_kernel`` as for ``token_losses``. Returns (objective, metrics) where metrics
    hold the masked-mean cross-entropy ``loss``, ``z_loss`` term, ``accuracy`` and the number of scored
    ``tokens``.
    """
    ce, log_z, correct = token_losses(hidden, output_kernel, targets)
    loss = masked_mean(ce, mask)
    z_term = z_loss * masked_mean(jnp.square(log_z), mask)
    metrics = {
        "loss": loss,
        "z_loss": z_term,
        "accuracy": masked_mean(correct, mask),
        "tokens": jnp.sum(mask.astype(jnp.float32)),
    }
    return loss + z_term, metrics
