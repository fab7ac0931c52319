"""Evaluation of a model's parameters on a validation TokenDataset (Section 3.8, Appendix D.4, Fig. 10):
the kernel both the training loop (periodic evaluations) and ``nc.eval.evaluate_run`` (a finished run)
use.

The validation set is read in order, ``eval_batches`` batches of ``batch_size`` examples (the paper:
20 batches of 256 x 512 tokens, ~2.6M tokens); a short final batch is padded with unscored rows so
every batch has one shape. Per-token loss is the masked mean cross-entropy in nats; bits/byte
divides it by the dataset's measured compression ratio and ln 2 (``nc.metrics``).
With ``window_tokens=k``, accuracy is also split by position ``t mod k`` inside Equal-Info windows
(reported 1-based as ``acc_pos_1 .. acc_pos_k``).

The evaluation sample's own noise is reported beside the means: ``loss_se`` / ``bits_per_byte_se`` is the
standard error of the per-token loss over the evaluated examples (the ratio estimator
sum(loss) / sum(tokens) with examples as the sampling unit, i.e. the large-sample limit of a bootstrap
over examples), so the analysis never reads a difference smaller than the sample resolves.
"""

from __future__ import annotations

import functools
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from nc import metrics
from nc.data.dataset import TokenRows
from nc.models.transformer import DecoderLM
from nc.records import POSITION_ACCURACY_PREFIX
from nc.train.losses import token_losses
from nc.train.sharding import check_batch_divisible, data_mesh, place_params, process_rows, shard_batch


def padded_batch(ds: TokenRows, rows: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(tokens int32 [batch_size, T], loss mask bool) for ``rows``, padded with unscored zero rows."""
    part = ds.rows(rows)
    tokens = np.zeros((batch_size, ds.seq_len), np.int32)
    mask = np.zeros((batch_size, ds.seq_len), bool)
    tokens[: len(rows)] = part.tokens
    mask[: len(rows)] = part.loss_mask()
    return tokens, mask


def process_batch(ds: TokenRows, rows: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """This process's share (``process_rows``) of the padded batch of ``rows``: in a multi-process job
    each process reads only its own examples."""
    slots = np.full(batch_size, -1, np.int64)
    slots[: len(rows)] = rows
    mine = process_rows(slots)
    return padded_batch(ds, mine[mine >= 0], len(mine))


POSITION_SUMS = ("loss", "correct", "count")
# Sums over examples i of (L_i, n_i): an example's summed loss and scored tokens; they give the loss's
# standard error without gathering per-example values across processes.
EXAMPLE_SUMS = ("loss_sq", "loss_count", "count_sq", "examples")


@functools.lru_cache(maxsize=16)
def make_eval_step(model: DecoderLM):
    """jit(params, tokens, mask) -> per-position sums over the batch (loss [T], correct [T], count [T])
    and per-example moments summed over the batch (sum L_i^2, L_i n_i, n_i^2, examples scored)."""

    @jax.jit
    def eval_step(params, tokens, mask):
        hidden = cast(jnp.ndarray, model.apply({"params": params}, tokens, project=False))
        ce, _, correct = token_losses(hidden, params["output_proj"]["kernel"], tokens)
        m = mask.astype(jnp.float32)
        row_loss, row_count = jnp.sum(ce * m, axis=1), jnp.sum(m, axis=1)
        return {
            "loss": jnp.sum(ce * m, axis=0),
            "correct": jnp.sum(correct * m, axis=0),
            "count": jnp.sum(m, axis=0),
            "loss_sq": jnp.sum(row_loss**2),
            "loss_count": jnp.sum(row_loss * row_count),
            "count_sq": jnp.sum(row_count**2),
            "examples": jnp.sum(row_count > 0),
        }

    return eval_step


def make_exact_match_step(model: DecoderLM):
    """jit(params, tokens, mask) -> (rows whose every scored token is the argmax, rows with a scored token).

    Under teacher forcing a row is all correct exactly when greedy decoding reproduces it, so this is
    the exact-match accuracy of greedy generation (Appendix A.3's spelling accuracy)."""

    @jax.jit
    def exact_match_step(params, tokens, mask):
        hidden = cast(jnp.ndarray, model.apply({"params": params}, tokens, project=False))
        _, _, correct = token_losses(hidden, params["output_proj"]["kernel"], tokens)
        scored = jnp.any(mask, axis=1)
        all_correct = jnp.all((correct > 0) | ~mask, axis=1) & scored
        return jnp.sum(all_correct), jnp.sum(scored)

    return exact_match_step


def exact_match_accuracy(step_fn, params: Any, data: TokenRows, batch_size: int) -> float:
    """Share of ``data``'s rows that ``make_exact_match_step``'s function gets entirely right (one process)."""
    hits = rows = 0
    for start in range(0, len(data), batch_size):
        tokens, mask = padded_batch(data, np.arange(start, min(start + batch_size, len(data))), batch_size)
        h, n = jax.device_get(step_fn(params, tokens, mask))
        hits, rows = hits + int(h), rows + int(n)
    if rows == 0:
        raise ValueError("no scored rows to take the exact-match accuracy of")
    return hits / rows


def evaluate_params(
    eval_step,
    params: Any,
    valid: TokenRows,
    *,
    eval_batches: int,
    batch_size: int,
    window_tokens: int | None = None,
    mesh: Mesh | None = None,
) -> dict[str, float]:
    """Loss, accuracy, bits/byte (and per-window-position accuracy) of ``params`` on ``valid``.

    ``eval_step`` comes from ``make_eval_step``; ``params`` may be laid out on ``mesh`` (replicated or
    sharded), other arrays are replicated onto it. Padding rows come last, so a process's scored rows
    are a prefix of its share.
    """
    if eval_batches < 1 or batch_size < 1:
        raise ValueError(f"eval_batches ({eval_batches}) and batch_size ({batch_size}) must be >= 1")
    if window_tokens is not None and window_tokens < 1:
        raise ValueError(f"window_tokens must be >= 1, got {window_tokens}")
    if len(valid) == 0:
        raise ValueError("the validation dataset is empty")
    mesh = data_mesh() if mesh is None else mesh
    check_batch_divisible(batch_size, mesh, "eval batch_size")
    params = place_params(params, mesh)
    num_examples = min(len(valid), eval_batches * batch_size)
    totals: dict[str, Any] = {k: np.zeros(valid.seq_len, np.float64) for k in POSITION_SUMS}
    totals.update({k: np.float64(0.0) for k in EXAMPLE_SUMS})
    for start in range(0, num_examples, batch_size):
        rows = np.arange(start, min(start + batch_size, num_examples))
        tokens, mask = shard_batch(mesh, *process_batch(valid, rows, batch_size))
        sums = jax.device_get(eval_step(params, tokens, mask))
        for key in totals:
            totals[key] += sums[key]
    return summarize(totals, valid.compression_ratio, window_tokens)


def summarize(totals: dict[str, np.ndarray], compression_ratio: float, window_tokens: int | None) -> dict[str, float]:
    """Per-position sums -> the reported metrics."""
    count = totals["count"].sum()
    if count == 0:
        raise ValueError("no scored tokens in the evaluated validation examples")
    loss = float(totals["loss"].sum() / count)
    loss_se = loss_standard_error(totals, loss)
    out = {
        "loss": loss,
        "loss_se": loss_se,
        "accuracy": float(totals["correct"].sum() / count),
        "tokens": int(count),
        "compression_ratio": float(compression_ratio),
        "bits_per_byte": float(metrics.bits_per_byte(loss, compression_ratio)),
        "bits_per_byte_se": float(metrics.bits_per_byte(loss_se, compression_ratio)),
    }
    if window_tokens:
        out.update(per_position_accuracy(totals["correct"], totals["count"], window_tokens))
    return out


def loss_standard_error(totals: dict[str, np.ndarray], loss: float) -> float:
    """Standard error of ``loss`` = sum L_i / sum n_i over the m scored examples:
    sqrt(sum (L_i - loss n_i)^2 / (m (m - 1))) / mean(n_i); NaN with fewer than two examples (or sums
    from an eval step without the per-example moments)."""
    if not all(k in totals for k in EXAMPLE_SUMS):
        return float("nan")
    m = float(totals["examples"])
    if m < 2:
        return float("nan")
    squares = float(totals["loss_sq"] - 2 * loss * totals["loss_count"] + loss**2 * totals["count_sq"])
    mean_count = float(totals["count"].sum()) / m
    return float(np.sqrt(max(squares, 0.0) / (m * (m - 1))) / mean_count)


def per_position_accuracy(correct: np.ndarray, count: np.ndarray, window_tokens: int) -> dict[str, float]:
    """{'acc_pos_1': ..., 'acc_pos_k': ...}: accuracy over sequence positions t with t mod k == i - 1.

    NaN for a window position with no scored tokens.
    """
    slot = np.arange(len(correct)) % window_tokens
    hits = np.bincount(slot, weights=correct, minlength=window_tokens)
    seen = np.bincount(slot, weights=count, minlength=window_tokens)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = hits / seen
    return {f"{POSITION_ACCURACY_PREFIX}{i + 1}": float(acc[i]) for i in range(window_tokens)}
