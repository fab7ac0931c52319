"""A trained byte-level model M1 as the ``ProbabilitySource`` the arithmetic coders consume.

Encoding and decoding must see bit-identical probabilities (Section 3.7). ``M1Source.probs`` makes
each output row independent of how the caller batches: rows are processed in chunks of a fixed
number of rows per sequence length T (the last chunk zero-padded), through one jitted float32
function per T, so the compiled program and its inputs for a row never depend on the batch size.
Causal masking makes row t depend on ``segments[b, :t]`` only (masked logits contribute exact zeros).

Rows per chunk are ``chunk_rows``, or, with ``call_memory_mb``, as many as that memory budget holds for
T (``call_bytes_per_row``), at most ``max_rows``: short contexts (Equal-Info windows) run thousands of
rows per call, whole 10 KB examples a few. Encoder and decoder must use the same settings (compression
records them). ``positions_evaluated`` counts the positions computed, padding rows included.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from nc.models.sizes import ModelSize
from nc.models.transformer import DecoderLM

log = logging.getLogger(__name__)

ALPHABET_SIZE = 256
DEFAULT_CHUNK_ROWS = 64


def call_bytes_per_row(size: ModelSize, length: int) -> int:
    """Working memory of one row of an M1 call over ``length`` positions (float32), an upper estimate.

    Per layer the attention scores dominate (heads x T x T, kept as logits, masked logits and weights);
    then the activations (T x (8 d + 3 mlp)) and the output logits and probabilities (T x 3 x 256).
    Only one layer's temporaries are alive at a time. ``tests/models/test_m1.py`` checks it against the
    memory XLA reports for the compiled call.
    """
    t = int(length)
    attention = 3 * size.num_heads * t * t
    activations = t * (8 * size.embed_dim + 3 * size.mlp_dim + 3 * ALPHABET_SIZE)
    return 4 * (attention + activations)


class M1Source:
    """``probs(segments uint8 [B, T]) -> float32 [B, T, 256]``; row t is p(byte t | bytes < t)."""

    alphabet_size = ALPHABET_SIZE

    def __init__(
        self,
        model: DecoderLM,
        params: Any,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        *,
        call_memory_mb: float | None = None,
        max_rows: int | None = None,
    ):
        if model.vocab_size != ALPHABET_SIZE:
            raise ValueError(f"M1 must model bytes (vocab_size 256), got vocab_size {model.vocab_size}")
        if model.dtype != jnp.float32:
            raise ValueError(f"M1 probabilities are computed in float32, got model dtype {model.dtype}")
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        if call_memory_mb is not None and call_memory_mb <= 0:
            raise ValueError(f"call_memory_mb must be > 0, got {call_memory_mb}")
        if max_rows is not None and max_rows < 1:
            raise ValueError(f"max_rows must be >= 1, got {max_rows}")
        self.model = model
        self.chunk_rows = int(chunk_rows)
        self.call_memory_mb = call_memory_mb
        self.max_rows = max_rows
        self._over_budget: set[int] = set()  # lengths already warned about
        self.positions_evaluated = 0
        self._params = jax.device_put(params, jax.local_devices()[0])
        self._probs = jax.jit(
            lambda p, x: jax.nn.softmax(cast(jnp.ndarray, model.apply({"params": p}, x)).astype(jnp.float32), axis=-1)
        )

    @property
    def params(self) -> Any:
        """M1's parameters (on the first local device)."""
        return self._params

    def rows_for(self, length: int) -> int:
        """Rows per call of ``length`` positions: ``chunk_rows``, or what ``call_memory_mb`` holds (a multiple
        of 8 when at least 8), at most ``max_rows``."""
        if self.call_memory_mb is None:
            rows = self.chunk_rows
        else:
            per_row = call_bytes_per_row(self.model.size, max(length, 1))
            if per_row > self.call_memory_mb * 2**20 and length not in self._over_budget:
                self._over_budget.add(length)
                log.warning(
                    "M1 call of %d positions: one row needs ~%.0f MB, over coding.m1_call_mb=%g; "
                    "calling one row at a time",
                    length,
                    per_row / 2**20,
                    self.call_memory_mb,
                )
            rows = max(1, int(self.call_memory_mb * 2**20) // per_row)
            rows = rows - rows % 8 if rows >= 8 else rows
        return max(1, min(rows, self.max_rows)) if self.max_rows is not None else rows

    def probs(self, segments: np.ndarray) -> np.ndarray:
        segments = np.asarray(segments)
        if segments.ndim != 2 or segments.dtype != np.uint8:
            raise ValueError(f"segments must be uint8 [B, T], got {segments.dtype} {segments.shape}")
        batch, length = segments.shape
        out = np.empty((batch, length, ALPHABET_SIZE), np.float32)
        if batch == 0 or length == 0:
            return out
        rows_per_call = self.rows_for(length)
        for start in range(0, batch, rows_per_call):
            rows = segments[start : start + rows_per_call]
            block = np.zeros((rows_per_call, length), np.int32)
            block[: len(rows)] = rows
            out[start : start + len(rows)] = np.asarray(self._probs(self._params, block))[: len(rows)]
            self.positions_evaluated += rows_per_call * length
        return out
