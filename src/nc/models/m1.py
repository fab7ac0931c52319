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

**Context extensions** (Equal-Info window contexts, ``nc.coding.engine``): ``start(segments [B, T0], pool,
slots)`` gives the rows of a call over T0 positions and puts each row's *prefix state* (every layer's keys
and values) in a slot of a ``PrefixPool`` on the device; ``extend(segments [B, T1], T0, pool, slots)``
evaluates positions T0..T1-1 on top of those states, so a context that needs more rows pays only for the
new ones. Gathering and scattering states are exact copies with fixed shapes (one compilation per chunk
shape). A row's probabilities then depend on the chain of lengths it was computed through (T0, T1, ...),
as they depend on T for ``probs``: encoder and decoder follow the same chain
(``nc.coding.sources.chained_probs``). Chunks of a fixed number of rows per shape keep every row
independent of the batching here too.
"""

from __future__ import annotations

import logging
from functools import partial
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
        self._start = jax.jit(lambda p, x: _with_prefix_state(model.apply({"params": p}, x, return_kv=True)))
        self._extend = jax.jit(
            lambda p, state, x: _with_prefix_state(
                model.apply({"params": p}, x, past=_layers(state), return_kv=True)  # type: ignore[arg-type]
            )
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
        batch, length = _check_segments(segments).shape
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

    def prefix_pool(self, length: int, capacity: int = 0) -> PrefixPool:
        """An empty pool for the prefix states of contexts of at most ``length`` positions, with room for at
        least ``capacity`` contexts (a power of two >= 64: few pool shapes, few compilations)."""
        size = self.model.size
        rounded = 1 << max(6, (max(int(capacity), 1) - 1).bit_length())
        return PrefixPool((size.num_layers, 2, int(length), size.num_heads, size.head_dim), rounded)

    def start(self, segments: np.ndarray, pool: PrefixPool, slots: np.ndarray) -> np.ndarray:
        """Rows float32 [B, T, 256] of contexts ``segments`` [B, T]; their prefix states go to ``slots`` of
        ``pool``."""
        _check_segments(segments)
        return self._chunked(segments, 0, pool, slots)

    def extend(
        self,
        segments: np.ndarray,
        from_length: int,
        pool: PrefixPool,
        slots: np.ndarray,
        from_slots: np.ndarray | None = None,
    ) -> np.ndarray:
        """Rows ``from_length``..T-1 [B, T - from_length, 256] of contexts ``segments`` [B, T] whose first
        ``from_length`` positions have their prefix states in ``from_slots`` (default ``slots``) of ``pool``;
        the states of all T positions go to ``slots``."""
        batch, length = _check_segments(segments).shape
        from_slots = slots if from_slots is None else from_slots
        if len(slots) != batch or len(from_slots) != batch or not 0 < from_length < length:
            raise ValueError(f"extend: {len(slots)} slots for {batch} rows, from {from_length} to {length}")
        return self._chunked(segments, from_length, pool, slots, from_slots)

    def _chunked(
        self,
        segments: np.ndarray,
        from_length: int,
        pool: PrefixPool,
        slots: np.ndarray,
        from_slots: np.ndarray | None = None,
    ) -> np.ndarray:
        """Whole chunks of rows through ``_start`` / ``_extend``; prefix states are gathered from and scattered
        to the pool with the chunk's shape (padding rows use the pool's scratch slot)."""
        batch, length = segments.shape
        rows_per_call = self.rows_for(length)
        out = np.empty((batch, length - from_length, ALPHABET_SIZE), np.float32)
        for first in range(0, batch, rows_per_call):
            rows = segments[first : first + rows_per_call]
            block = np.zeros((rows_per_call, length), np.int32)
            block[: len(rows)] = rows
            chunk_slots = _chunk_slots(slots, first, rows_per_call)
            if from_length == 0:
                probs, state = self._start(self._params, block)
            else:
                past = _gather(pool.array, _chunk_slots(from_slots, first, rows_per_call), from_length)
                probs, state = self._extend(self._params, past, block)
            pool.array = _scatter(pool.array, chunk_slots, state)
            out[first : first + len(rows)] = np.asarray(probs)[: len(rows)]
            self.positions_evaluated += rows_per_call * (length - from_length)
        return out


class PrefixPool:
    """Prefix states (each layer's keys and values) of contexts, one slot each, on the device:
    ``array`` [capacity, layers, 2, length, heads, head_dim]. Slot 0 is scratch for padding rows.

    ``allocate`` hands out free slots, growing the pool by doubling when it is full; ``release`` frees them.
    """

    SCRATCH = 0

    def __init__(self, shape: tuple[int, ...], capacity: int):
        self.shape = shape
        self.array = jnp.zeros((max(int(capacity), 2), *shape), jnp.float32)
        self._free = list(range(self.array.shape[0] - 1, 0, -1))

    def allocate(self, n: int) -> np.ndarray:
        while len(self._free) < n:
            old = self.array.shape[0]
            self.array = jnp.concatenate([self.array, jnp.zeros_like(self.array)])
            self._free = list(range(2 * old - 1, old - 1, -1)) + self._free
        slots = [self._free.pop() for _ in range(n)]
        return np.asarray(slots, dtype=np.int32)

    def release(self, slots) -> None:
        self._free.extend(int(s) for s in slots)


def _chunk_slots(slots, first: int, rows: int) -> np.ndarray:
    """``rows`` slots from ``first``; past the end, the pool's scratch slot (padding rows)."""
    out = np.full(rows, PrefixPool.SCRATCH, np.int32)
    part = slots[first : first + rows]
    out[: len(part)] = part
    return out


@partial(jax.jit, static_argnums=2)
def _gather(pool: jnp.ndarray, slots: np.ndarray, length: int) -> jnp.ndarray:
    return pool[slots, :, :, :length]


@partial(jax.jit, donate_argnums=0)
def _scatter(pool: jnp.ndarray, slots: np.ndarray, state: jnp.ndarray) -> jnp.ndarray:
    return pool.at[slots, :, :, : state.shape[3]].set(state)


def _check_segments(segments: np.ndarray) -> np.ndarray:
    segments = np.asarray(segments)
    if segments.ndim != 2 or segments.dtype != np.uint8:
        raise ValueError(f"segments must be uint8 [B, T], got {segments.dtype} {segments.shape}")
    return segments


def _with_prefix_state(result: Any) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(softmax probabilities, keys and values stacked [B, layers, 2, T, H, D]) of an incremental apply."""
    logits, kvs = result
    probs = jax.nn.softmax(logits.astype(jnp.float32), axis=-1)
    return probs, jnp.stack([jnp.stack(kv, axis=1) for kv in kvs], axis=1)


def _layers(state: jnp.ndarray) -> list[tuple[jnp.ndarray, jnp.ndarray]]:
    return [(state[:, i, 0], state[:, i, 1]) for i in range(state.shape[1])]
