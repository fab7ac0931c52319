"""A trained byte-level model M1 as the ``ProbabilitySource`` the arithmetic coders consume.

Encoding and decoding must see bit-identical probabilities (Section 3.7). ``M1Source.probs`` makes
each output row independent of how the caller batches: rows are processed in chunks of a fixed
``chunk_rows`` (the last chunk zero-padded), through one jitted float32 function per sequence
length T, so the compiled program and its inputs for a row never depend on the batch size.
Causal masking makes row t depend on ``segments[b, :t]`` only (masked logits contribute exact zeros).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from nc.models.transformer import DecoderLM

ALPHABET_SIZE = 256
DEFAULT_CHUNK_ROWS = 64


class M1Source:
    """``probs(segments uint8 [B, T]) -> float32 [B, T, 256]``; row t is p(byte t | bytes < t)."""

    alphabet_size = ALPHABET_SIZE

    def __init__(self, model: DecoderLM, params: Any, chunk_rows: int = DEFAULT_CHUNK_ROWS):
        if model.vocab_size != ALPHABET_SIZE:
            raise ValueError(f"M1 must model bytes (vocab_size 256), got vocab_size {model.vocab_size}")
        if model.dtype != jnp.float32:
            raise ValueError(f"M1 probabilities are computed in float32, got model dtype {model.dtype}")
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        self.model = model
        self.chunk_rows = int(chunk_rows)
        self._params = jax.device_put(params, jax.local_devices()[0])
        self._probs = jax.jit(lambda p, x: jax.nn.softmax(model.apply({"params": p}, x).astype(jnp.float32), axis=-1))

    def probs(self, segments: np.ndarray) -> np.ndarray:
        segments = np.asarray(segments)
        if segments.ndim != 2 or segments.dtype != np.uint8:
            raise ValueError(f"segments must be uint8 [B, T], got {segments.dtype} {segments.shape}")
        batch, length = segments.shape
        out = np.empty((batch, length, ALPHABET_SIZE), np.float32)
        if batch == 0 or length == 0:
            return out
        for start in range(0, batch, self.chunk_rows):
            rows = segments[start : start + self.chunk_rows]
            block = np.zeros((self.chunk_rows, length), np.int32)
            block[: len(rows)] = rows
            out[start : start + len(rows)] = np.asarray(self._probs(self._params, block))[: len(rows)]
        return out


def load_probability_source(run_dir: str | Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> M1Source:
    """M1 from a ``train_lm`` run directory (latest checkpoint), evaluated in float32.

    Encoder and decoder must load it with the same ``chunk_rows`` on the same kind of device.
    """
    from nc.train.run import load_trained  # nc.train builds on nc.models: import on use

    run = load_trained(run_dir, dtype="float32")
    return M1Source(run.model, run.params, chunk_rows)
