"""The encoder behind ``encode_examples`` for probability-source methods: M1 runs only on the context the
kept tokens need, and the host coder works in parallel threads while the next M1 call computes.

**Context lengths.** Every source call has one sequence length T (M1 compiles one program per shape and
its probabilities depend, in the last float bits, on T: the decoder must use the T the encoder used).

* AC / StaticAC / EqualInfoAC with ``reset=never`` (*stream* contexts, M1 reads the example from byte 0):
  an example is coded from a call over its first T bytes (zero-padded past its end), T taken from a
  *ladder* of lengths. It is accepted once the kept tokens are settled inside the prefix (for AC: the
  coder has emitted ``max_tokens * token_bits`` bits before the prefix ends; windows: every kept window
  closed inside it); otherwise it is coded again from the next rung. The final T is side information, as
  the example length was before. Bits settled inside a prefix never depend on later bytes, so with a
  source whose rows do not depend on T (a unigram, a bigram) the tokens are those of the whole example.
* EqualInfoAC with ``reset=k`` (*window* contexts, M1 restarts every k windows): a context starts with the
  rows of its first rung and is *extended* rung by rung, each extension computing only its new positions on
  top of the prefix states kept in a pool (``nc.models.m1``; sources without states are called on the whole
  longer context). A window that runs past the rows computed waits for its context's next rung and is
  coded again from its start. Row r is the row of the chain of calls up to the smallest rung > r; the
  decoder computes the same chain (``nc.coding.sources.chained_probs``), reading the ladder from the side
  information (its last rung, ``2 b k``, is implied). Calibrated ladders begin with a rung of one position
  (the BOS input alone), computed once per group and shared by every context.

Without a plan (``ContextPlan.NONE``) the ladders have one rung: the example length (stream) or the
window cap times k (windows), exactly the shapes of a single whole-context call.

``plan_context_lengths`` (stream contexts, each rung recomputing its whole context) and
``plan_extension_ladder`` (window contexts, extended) pick a ladder from the context lengths a calibration
sample needed, minimising the expected positions computed per example; ``Encoder`` calibrates on the first
examples it codes.

**Rows per call.** A source may say how many rows it computes per call of length T (``rows_for``); the
encoder fills calls to a multiple of it so that padding rows are rare, and counts the positions it asks
for. **Overlap.** M1 calls run on one worker thread (``M1Worker``); the host codes the previous call's
rows meanwhile, in numba threads (``encode_stream_batch``, ``encode_window_batch``). Window contexts
alternate between two groups of examples so that one group's call overlaps the other group's coding.
**Streams.** ``Encoder.encode_chunks`` codes a job's chunks of examples as one stream: the next chunk's
examples join a window group while it still has examples to admit, so calls stay whole until the end.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ClassVar

import numba
import numpy as np

from nc.coding.arithmetic import encode_stream_batch, max_stream_bits, prefix_covered_symbols
from nc.coding.sources import ALPHABET_SIZE, context_pool, extend_context, start_context
from nc.coding.windows import (
    BAD_PROBS,
    DOES_NOT_FIT,
    NEEDS_ROWS,
    encode_window_batch,
    fill_segments,
)
from nc.methods import MethodSpec

# Calibration: examples coded with a long context to measure what the kept tokens need: at most this many
# of the first chunk (the calibrated ladder serves all later chunks).
CALIBRATION_EXAMPLES = 64
MAX_RUNGS = 3
# Window contexts: calibration codes this many windows per context window (x m1_reset) of each sampled example.
CALIBRATION_WINDOWS = 8
# Window ladders extend contexts (only new positions are computed), so they may have more rungs; each call
# also costs its dispatch and a pass over the prefix states, counted as this many positions when planning.
MAX_EXTENSION_RUNGS = 8
EXTENSION_CALL_POSITIONS = 1.0


# ------------------------------------------------------------------------------------------- ladders
def plan_context_lengths(
    needed: np.ndarray, candidates: Sequence[int] | np.ndarray, max_rungs: int = MAX_RUNGS
) -> tuple[int, ...]:
    """The ladder (increasing lengths ending at ``candidates[-1]``) minimising the mean positions computed
    when each sample i climbs the ladder until a rung reaches ``needed[i]``.

    A sample costs the sum of the rungs it visits (each rung recomputes its whole context).
    """
    lengths = np.unique(np.asarray(candidates, dtype=np.int64))
    needed = np.asarray(needed, dtype=np.int64)
    top = int(lengths[-1])
    if needed.size == 0:
        return (top,)
    if needed.max() > top:
        raise ValueError(f"a sample needs {int(needed.max())} positions, more than the largest length {top}")

    def cost(rungs: tuple[int, ...]) -> float:
        total = np.zeros(needed.size)
        reached = np.zeros(needed.size, dtype=bool)
        for rung in rungs:
            total += np.where(reached, 0, rung)
            reached |= needed <= rung
        return float(total.mean())

    best: tuple[int, ...] = (top,)
    best_cost = cost(best)
    lower = [int(c) for c in lengths[:-1] if c >= needed.min()]
    frontier: list[tuple[int, ...]] = [()]
    for _ in range(max_rungs - 1):  # add free rungs one at a time, keeping every increasing prefix
        frontier = [prefix + (c,) for prefix in frontier for c in lower if not prefix or c > prefix[-1]]
        for prefix in frontier:
            c = cost(prefix + (top,))
            if c < best_cost - 1e-9:
                best, best_cost = prefix + (top,), c
    return best


def plan_extension_ladder(
    needed: np.ndarray,
    top: int,
    call_positions: float = EXTENSION_CALL_POSITIONS,
    max_rungs: int = MAX_EXTENSION_RUNGS,
) -> tuple[int, ...]:
    """The ladder (increasing lengths ending at ``top``) minimising the mean cost of contexts that start at
    the first rung and are extended rung by rung until one reaches ``needed[i]``: the last rung reached
    (an extension computes only its new positions) plus ``call_positions`` per call.

    A rung below ``top`` is best placed at some sample's need (lowering it to the largest need below it
    serves the same samples for less), so the candidates are the distinct needs; dynamic programming over
    (rung, number of rungs so far).
    """
    needed = np.asarray(needed, dtype=np.int64)
    top = int(top)
    if needed.size == 0:
        return (top,)
    if needed.max() > top:
        raise ValueError(f"a sample needs {int(needed.max())} positions, more than the largest length {top}")
    candidates = np.unique(np.append(needed[needed < top], top))
    served = np.searchsorted(np.sort(needed), candidates, side="right")  # samples needing <= each candidate
    m, inf = len(candidates), np.inf
    cost = np.full((max_rungs + 1, m), inf)
    back = np.full((max_rungs + 1, m), -1, dtype=np.int64)
    cost[1] = served * (candidates + call_positions)
    for r in range(2, max_rungs + 1):
        for j in range(1, m):  # rung j after rung i < j serves the samples in (candidates[i], candidates[j]]
            options = cost[r - 1, :j] + (served[j] - served[:j]) * (candidates[j] + r * call_positions)
            i = int(np.argmin(options))
            cost[r, j], back[r, j] = options[i], i
    r, j = int(np.argmin(cost[1:, m - 1])) + 1, m - 1
    ladder = []
    while j >= 0 and r >= 1:
        ladder.append(int(candidates[j]))
        j, r = int(back[r, j]), r - 1
    return tuple(reversed(ladder))


def escalation_ladder(rungs: Sequence[int], length: int, top: int) -> tuple[int, ...]:
    """The context lengths an example of ``length`` bytes climbs: the planned ``rungs`` below its length,
    then doubling from the last of them while that stays below its length, then ``top`` (its whole context).

    An example needing more than calibration foresaw computes at most ~2x what it needs, not its whole
    context: a whole 10,240-byte row costs ~100x a 1,024-byte one in attention memory (T**2).
    """
    ladder = [int(r) for r in rungs if r < length]
    while ladder and 2 * ladder[-1] < length:
        ladder.append(2 * ladder[-1])
    return tuple(ladder) + (top,)


@dataclass(frozen=True)
class ContextPlan:
    """How the encoder picks context lengths: ``NONE`` (whole contexts), ``AUTO`` (calibrate) or fixed rungs.

    ``length_step``: stream contexts are multiples of it (fewer shapes to compile).
    """

    NONE: ClassVar[ContextPlan]

    mode: str = "none"
    rungs: tuple[int, ...] = ()
    length_step: int = 256

    def __post_init__(self) -> None:
        if self.mode not in ("none", "auto", "fixed"):
            raise ValueError(f"ContextPlan.mode must be 'none', 'auto' or 'fixed', got {self.mode!r}")
        if self.length_step < 1:
            raise ValueError(f"ContextPlan.length_step must be >= 1, got {self.length_step}")
        if self.mode == "fixed" and (not self.rungs or list(self.rungs) != sorted(set(self.rungs))):
            raise ValueError(f"a fixed ContextPlan needs increasing rungs, got {self.rungs}")


ContextPlan.NONE = ContextPlan()


def round_up(n: int, step: int) -> int:
    return -(-int(n) // step) * step


# -------------------------------------------------------------------------------------- M1 worker
class M1Worker:
    """Runs source calls on one background thread and keeps the time it spends computing.

    ``busy_s`` over ``wall_s`` (first submission to last completion) is the share of time the source
    was busy; the rest it waited for the host (the coder, or preparing inputs).
    """

    def __init__(self, overlap: bool = True):
        self.overlap = overlap
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="m1")
        self.busy_s = 0.0
        self.calls = 0
        self._first: float | None = None
        self._last = 0.0
        self._lock = threading.Lock()

    def submit(self, call: Callable, *args) -> Future:
        """The future of ``call(*args)``; without ``overlap`` the call runs now, on the caller's thread."""
        if self._first is None:
            self._first = time.perf_counter()
        if self.overlap:
            return self._pool.submit(self._run, call, *args)
        done: Future = Future()
        done.set_result(self._run(call, *args))
        return done

    def _run(self, call: Callable, *args):
        start = time.perf_counter()
        result = call(*args)
        end = time.perf_counter()
        with self._lock:
            self.busy_s += end - start
            self.calls += 1
            self._last = max(self._last, end)
        return result

    @property
    def wall_s(self) -> float:
        return 0.0 if self._first is None else max(self._last - self._first, 0.0)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def rows_per_call(source, length: int, default: int) -> int:
    """Rows a source computes per call of ``length`` positions (its own chunking), else ``default``."""
    rows_for = getattr(source, "rows_for", None)
    return int(rows_for(length)) if rows_for is not None else int(default)


# ------------------------------------------------------------------------------------------ results
@dataclass
class StreamResult:
    """What the API needs to build an ``Encoded`` of an AC / StaticAC example."""

    bits: np.ndarray  # the stream's bits (trimmed to the kept bits)
    num_bytes: int  # bytes the bits determine
    context_length: int  # T of the call the probabilities came from
    finished: np.ndarray  # finished-now lengths of the covered bytes
    settled_at: int | None = None  # prefix length in which the kept bits were settled
    emitted_bits: int = 0  # bits emitted after the last covered byte, before the termination


@dataclass
class WindowResult:
    """What the API needs to build an ``Encoded`` of an EqualInfoAC example."""

    windows: np.ndarray  # uint8 [n_windows, b]
    counts: np.ndarray  # int64 [n_windows]
    kinds: np.ndarray  # int64 [n_windows]: exception kinds
    starts: np.ndarray  # int64 [n_windows]: window start bytes
    symbol_bits: list = field(default_factory=list)  # per window, finished-now lengths (on request)
    context_length: int = 0  # reset=never: T of the example's call
    settled_at: int | None = None  # reset=never: rows the kept windows used


@dataclass
class EncoderStats:
    positions: int = 0  # source positions asked for (rows x T of every call, padding rows included)
    escalations: int = 0  # examples or windows coded again from a longer context
    busy_s: float = 0.0
    wall_s: float = 0.0


class EncodeError(ValueError):
    pass


# ------------------------------------------------------------------------------------------ encoder
class Encoder:
    """Codes batches of examples of one method with one source; keeps its ladder and counters between calls.

    ``batch_size``: rows per source call when the source does not choose (``rows_for``). ``threads``: numba
    threads for host coding (None: numba's default). ``overlap=False`` runs every source call on the
    calling thread, between coding steps (for measuring what the overlap buys).
    """

    def __init__(
        self,
        method: MethodSpec,
        source,
        call_source: Callable,
        *,
        precision: int,
        kept_bits: int | None,
        batch_size: int,
        cap: int,
        plan: ContextPlan = ContextPlan.NONE,
        threads: int | None = None,
        return_symbol_bits: bool = False,
        overlap: bool = True,
    ):
        self.method, self.source, self.precision = method, source, precision
        self.kept_bits, self.batch_size, self.cap = kept_bits, batch_size, cap
        self.plan, self.threads, self.return_symbol_bits, self.overlap = plan, threads, return_symbol_bits, overlap
        self.call_source = call_source
        self.stats = EncoderStats()
        self.rungs: tuple[int, ...] | None = plan.rungs if plan.mode == "fixed" else None
        self.stream = method.kind != "EqualInfoAC" or method.m1_reset == 0

    # ------------------------------------------------------------------ public
    def encode(self, arrays: list[np.ndarray], on_done: Callable[[int], object] | None = None) -> list:
        """StreamResult (AC, StaticAC, reset=never: windows via ``WindowResult`` too) or ``WindowResult``
        (EqualInfoAC window contexts) per example."""
        if not arrays:
            return []
        if not self.stream:
            return next(iter(list(self.encode_chunks([arrays], on_done))))
        with self._running() as worker:
            return self._encode_stream(*_flatten(arrays), worker, on_done)

    def encode_chunks(
        self, chunks: Iterable[list[np.ndarray]], on_done: Callable[[int], object] | None = None
    ) -> Iterator[list]:
        """``encode`` of each chunk, in order. Window contexts stream: the next chunk's examples join a group
        as soon as it has none left to admit, so source calls stay whole until the stream ends (one tail
        of partly filled calls per stream, not per chunk)."""
        if self.stream:
            for arrays in chunks:
                yield self.encode(arrays, on_done)
            return
        with self._running() as worker:
            yield from self._stream_windows(iter(chunks), worker, on_done)

    @contextmanager
    def _running(self) -> Iterator[M1Worker]:
        """The M1 worker of one encoding pass, with the host coder's numba threads; adds up its times."""
        previous = numba.get_num_threads()
        if self.threads:
            numba.set_num_threads(max(1, min(self.threads, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
        worker = M1Worker(self.overlap)
        try:
            yield worker
        finally:
            worker.close()
            numba.set_num_threads(previous)
            self.stats.busy_s += worker.busy_s
            self.stats.wall_s += worker.wall_s

    def _count(self, segments: np.ndarray, from_length: int = 0) -> None:
        """Count the positions a call over ``segments`` computes (whole chunks of rows, padding included)."""
        rows = rows_per_call(self.source, segments.shape[1], segments.shape[0])
        if not hasattr(self.source, "extend"):
            from_length = 0  # a source without prefix states computes the whole context again
        self.stats.positions += round_up(segments.shape[0], rows) * (segments.shape[1] - from_length)

    def _probs(self, segments: np.ndarray) -> np.ndarray:
        self._count(segments)
        return self.call_source(self.source, segments)

    def _start(self, segments: np.ndarray, pool, slots: np.ndarray) -> np.ndarray:
        self._count(segments)
        return start_context(self.source, segments, pool, slots)

    def _extend(self, segments: np.ndarray, from_length: int, pool, slots: np.ndarray, from_slots=None) -> np.ndarray:
        self._count(segments, from_length)
        return extend_context(self.source, segments, from_length, pool, slots, from_slots)

    # ------------------------------------------------------------------ stream contexts
    def _stream_lengths(self, lengths: np.ndarray, rungs: tuple[int, ...] | None) -> list[tuple[int, ...]]:
        """The ladder each example climbs from the planned ``rungs`` (None: whole contexts)."""
        step = self.plan.length_step
        if rungs is None and self.plan.mode == "none":
            return [(int(n),) for n in lengths]
        out: list[tuple[int, ...]] = []
        for n in lengths:
            top = max(round_up(n, step), step)
            if self.kept_bits is None or rungs is None:
                out.append((top,))
                continue
            out.append(escalation_ladder([r for r in rungs if r < n], int(n), top))
        return out

    def _calibrate_stream(self, flat, offsets, worker, on_done) -> dict[int, object]:
        """Code the first examples up a doubling ladder from ``kept_bits / 2`` positions (every text takes
        more than half a bit per byte) and pick the ladder from the prefixes they needed.

        Their encodings are kept: each records its own context length.
        """
        lengths = np.diff(offsets)
        step = self.plan.length_step
        top = max(round_up(int(lengths.max()), step), step)
        assert self.kept_bits is not None, "calibration needs kept_bits"
        first = (min(round_up(max(self.kept_bits // 2, 1), step), top),)  # escalation_ladder doubles from it
        sample = list(range(min(len(lengths), CALIBRATION_EXAMPLES)))
        done = self._climb(flat, offsets, sample, self._stream_lengths(lengths, first), worker, on_done)
        needed = [self._stream_needed(result, int(lengths[i]), step) for i, result in done.items()]
        self.rungs = plan_context_lengths(np.array(needed), np.arange(step, top + 1, step))
        return done

    def _stream_needed(self, result, length: int, step: int) -> int:
        """Positions an example needed: the prefix in which its kept part settled (rounded up to ``step``)."""
        return max(round_up(result.settled_at if result.settled_at is not None else length, step), step)

    def _encode_stream(self, flat, offsets, worker, on_done) -> list:
        lengths = np.diff(offsets)
        done: dict[int, object] = {}
        if self.plan.mode == "auto" and self.rungs is None and self.kept_bits is not None:
            done = self._calibrate_stream(flat, offsets, worker, on_done)
        ladders = self._stream_lengths(lengths, self.rungs)
        done.update(
            self._climb(flat, offsets, [i for i in range(len(lengths)) if i not in done], ladders, worker, on_done)
        )
        return [done[i] for i in range(len(lengths))]

    def _climb(self, flat, offsets, indices, ladders, worker, on_done) -> dict[int, object]:
        """Code examples ``indices``, each up its ladder until accepted; calls of one length go together."""
        done: dict[int, object] = {}
        level = {i: 0 for i in indices}
        while level:
            by_length: dict[int, list[int]] = {}
            for i, k in level.items():
                by_length.setdefault(ladders[i][k], []).append(i)
            next_level = {}
            for length in sorted(by_length):
                results = self._stream_pass(flat, offsets, np.array(by_length[length]), length, worker)
                for i in by_length[length]:
                    if i in results:
                        done[i] = results[i]
                        on_done and on_done(1)
                    else:
                        next_level[i] = level[i] + 1
                        self.stats.escalations += 1
            level = next_level
        return done

    def _stream_pass(self, flat, offsets, idx, length: int, worker) -> dict:
        """Code examples ``idx`` from calls of ``length`` positions; the accepted results by example.

        Calls are submitted one ahead: the worker computes the next while the host codes the last.
        """
        rows = max(1, rows_per_call(self.source, length, self.batch_size))
        out: dict[int, object] = {}
        pending: deque[tuple[np.ndarray, Future]] = deque()
        for first in range(0, len(idx), rows):
            batch = idx[first : first + rows]
            pending.append((batch, worker.submit(self._probs, self._segments(flat, offsets, batch, length))))
            if len(pending) > 1:
                self._finish_stream_batch(flat, offsets, *pending.popleft(), length, out)
        while pending:
            self._finish_stream_batch(flat, offsets, *pending.popleft(), length, out)
        return out

    def _segments(self, flat, offsets, batch, length: int) -> np.ndarray:
        segments = np.empty((len(batch), length), dtype=np.uint8)
        fill_segments(flat, offsets[batch].astype(np.int64), offsets[batch + 1].astype(np.int64), segments)
        return segments

    def _finish_stream_batch(self, flat, offsets, batch, future, length, out) -> None:
        probs = future.result()
        if self.method.kind == "EqualInfoAC":
            return self._finish_never_batch(flat, offsets, batch, probs, length, out)
        used = np.minimum(offsets[batch + 1] - offsets[batch], length).astype(np.int64)
        width = max(int(used.max()), 1)
        bits = np.zeros((len(batch), max_stream_bits(width, self.precision)), dtype=np.uint8)
        num_bits = np.zeros(len(batch), dtype=np.int64)
        finished = np.zeros((len(batch), width), dtype=np.int64)
        states = np.zeros((len(batch), width, 4), dtype=np.int64)
        encode_stream_batch(
            flat,
            offsets[batch].astype(np.int64),
            used,
            np.ascontiguousarray(probs, np.float32),
            self.precision,
            bits,
            num_bits,
            finished,
            states,
        )
        for r, i in enumerate(batch):
            if num_bits[r] < 0:
                raise EncodeError(f"probability row {-num_bits[r] - 1} is not a valid distribution")
            n, total = int(used[r]), int(offsets[i + 1] - offsets[i])
            result = _stream_result(
                bits[r, : num_bits[r]], finished[r, :n], states[r, :n], n, total, length, self.kept_bits, self.precision
            )
            if result is not None:
                out[int(i)] = result

    # ------------------------------------------------------------------ reset=never
    def _finish_never_batch(self, flat, offsets, batch, probs, length, out) -> None:
        """EqualInfoAC reset=never: the batch's windows in lock-step from one call's rows each; an example is
        accepted when its kept windows closed inside its rows (always, when the call covers it whole)."""
        group = _WindowGroup(flat, offsets, np.asarray(batch), self.kept_bits, self.method)
        used = np.minimum(group.stop - group.start, length)
        stalled = np.zeros(len(batch), dtype=bool)
        while True:
            active = group.active()
            active = active[~stalled[active]]
            if not active.size:
                break
            rel = group.pos[active] - group.start[active]
            res = self._code_windows(
                flat, group.pos[active], group.stop[active], probs, rel, used[active] - rel, active
            )
            short = res[2] == NEEDS_ROWS
            stalled[active[short]] = True
            out_bits, counts, kinds, symbol_bits = (a[~short] for a in res)
            group.advance(active[~short], out_bits, counts, kinds, symbol_bits, self.return_symbol_bits)
        for k, i in enumerate(batch):
            if not stalled[k]:
                result = group.result(k)
                end = int(group.pos[k] - group.start[k])
                result.settled_at = end + (0 if group.pos[k] >= group.stop[k] else 1)
                result.context_length = length
                out[int(i)] = result

    # ------------------------------------------------------------------ window contexts
    def window_ladder(self) -> tuple[int, ...]:
        top = self.cap * self.method.m1_reset
        if self.rungs is None:
            return (top,)
        return tuple(r for r in self.rungs if r < top) + (top,)

    def _code_windows(
        self, flat, starts, stops, probs, first_row, rows_avail, which=None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(window bits, symbol counts, exception kinds, per-symbol bits) of one window per start; start r
        reads rows ``probs[which[r]]`` (default: ``probs[r]``)."""
        n = len(starts)
        b = self.method.fixed_window_bits
        out_bits = np.zeros((n, b), dtype=np.uint8)
        counts = np.zeros(n, dtype=np.int64)
        kinds = np.zeros(n, dtype=np.int64)
        symbol_bits = np.zeros((n, self.cap if self.return_symbol_bits else 0), dtype=np.int64)
        encode_window_batch(
            flat,
            starts.astype(np.int64),
            stops.astype(np.int64),
            np.ascontiguousarray(probs, np.float32),
            np.arange(n, dtype=np.int64) if which is None else which.astype(np.int64),
            first_row.astype(np.int64),
            rows_avail.astype(np.int64),
            self.precision,
            b,
            self.cap,
            self.method.delay,
            out_bits,
            counts,
            kinds,
            symbol_bits,
        )
        bad = np.flatnonzero(counts < 0)
        if bad.size:
            r = int(bad[0])
            if counts[r] == DOES_NOT_FIT:
                raise EncodeError(
                    f"{self.method.label}: byte {flat[starts[r]]} at offset {int(starts[r])} needs more "
                    f"than b={b} bits on its own; use a larger window_bits (>= precision + 2 = "
                    f"{self.precision + 2} always fits)"
                )
            if counts[r] == BAD_PROBS:
                raise EncodeError(f"source.probs gave an invalid distribution near offset {int(starts[r])}")
        return out_bits, counts, kinds, symbol_bits

    def _calibrate_windows(self, flat, offsets, worker) -> None:
        """Code the first windows of a few contexts with the whole window context; the ladder follows the
        rows they needed."""
        top = self.cap * self.method.m1_reset
        size = min(len(offsets) - 1, CALIBRATION_EXAMPLES)
        sample = _WindowGroup(flat, offsets, np.arange(size), self.kept_bits, self.method)
        pool = context_pool(self.source, top, size + 1)
        slots = pool.allocate(size) if pool is not None else np.zeros(0, np.int32)
        needed = []
        for _ in range(CALIBRATION_WINDOWS * self.method.m1_reset):
            active = sample.active()
            if not active.size:
                break
            segments = self._window_segments(sample, active, top)
            probs = worker.submit(self._start, segments, pool, slots[: len(active)]).result()
            rel = sample.pos[active] - sample.ctx[active]
            res = self._code_windows(flat, sample.pos[active], sample.stop[active], probs, rel, top - rel)
            for k, e in enumerate(active):
                count = int(res[1][k])
                limit = min(self.cap, int(sample.stop[e] - sample.pos[e]))
                needed.append(int(rel[k]) + count + (0 if count == limit else 1))
            sample.advance(active, *res, keep_symbol_bits=self.return_symbol_bits)
        planned = plan_extension_ladder(np.array(needed), top)
        # Every context's first position reads only the BOS input: its row and state are the same for all
        # contexts, so a first rung of 1 is computed once per group and shared (``_WindowGroup.open``).
        self.rungs = planned if planned[0] == 1 or top == 1 else (1, *planned)

    def _window_segments(self, group, active, length: int) -> np.ndarray:
        segments = np.empty((len(active), length), dtype=np.uint8)
        fill_segments(group.flat, group.ctx[active], group.stop[active], segments)
        return segments

    def _stream_windows(self, chunks: Iterator[list[np.ndarray]], worker, on_done) -> Iterator[list]:
        """Window contexts over a stream of chunks (``encode_chunks``): two groups of examples alternate so
        that one group's source call overlaps the other group's coding; each group takes its share of the
        next chunk when it has no example left to admit. Yields each chunk's results once all are done."""
        ladder: tuple[int, ...] = ()
        full = 0  # rows of a call at the first rung
        groups: list[_WindowGroup] = []
        incoming: list[list] = []
        order: deque[list] = deque()  # per chunk: [results, examples not done yet]
        where: dict[int, tuple[list, int]] = {}
        exhausted, next_id = False, 0

        def load() -> bool:
            nonlocal ladder, full, next_id
            arrays = next(chunks, None)
            if arrays is None:
                return False
            entry: list = [[None] * len(arrays), len(arrays)]
            order.append(entry)
            ids = np.arange(next_id, next_id + len(arrays))
            next_id += len(arrays)
            where.update((int(i), (entry, j)) for j, i in enumerate(ids))
            if arrays and not groups:  # the first examples: calibrate the ladder, make the groups
                if self.plan.mode == "auto" and self.rungs is None:
                    self._calibrate_windows(*_flatten(arrays), worker)
                ladder = self.window_ladder()
                full = rows_per_call(self.source, ladder[_first_call(ladder)], self.batch_size)
                for _ in range(2 if len(arrays) >= 4 * full else 1):
                    groups.append(_WindowGroup.empty(self.kept_bits, self.method))
                    self._share_first_rung(groups[-1], ladder, 2 * full + 1)
                    incoming.append([])
            for g, part in enumerate(np.array_split(np.arange(len(arrays)), max(len(groups), 1))):
                if groups and part.size:
                    incoming[g].append((ids[part], [arrays[i] for i in part]))
            return True

        exhausted = not load()
        inflight: dict[int, tuple] = {}
        while True:
            for g in range(len(groups)):
                if g in inflight:
                    self._finish_window_step(groups[g], ladder, *inflight.pop(g))
                    self._collect(groups[g], where, on_done)
                if groups[g].waiting() < 2 * full:  # keep enough examples to admit while the stream lasts
                    while not incoming[g] and not exhausted:
                        exhausted = not load()
                    if incoming[g]:
                        groups[g] = groups[g].joined(incoming[g])
                        incoming[g] = []
                if groups[g].active().size or groups[g].waiting():
                    more = bool(incoming[g]) or not exhausted
                    inflight[g] = self._submit_window_step(groups[g], ladder, worker, more)
            while order and order[0][1] == 0:
                yield order.popleft()[0]
            if not inflight:
                while not exhausted:  # chunks with no examples
                    exhausted = not load()
                    while order and order[0][1] == 0:
                        yield order.popleft()[0]
                if order:
                    raise EncodeError(f"{self.method.label}: the window coder stopped with examples not done")
                return

    def _share_first_rung(self, group, ladder, capacity: int) -> None:
        """The group's pool and row buffer and, with a first rung of 1, the row and prefix state every
        context starts from."""
        group.pool = context_pool(self.source, ladder[-1], capacity)
        group.buf = np.empty((capacity, ladder[-1], ALPHABET_SIZE), dtype=np.float32)
        group.free_buf = list(range(capacity - 1, -1, -1))
        if ladder[0] == 1 and len(ladder) > 1:
            slot = group.pool.allocate(1) if group.pool is not None else np.zeros(1, np.int32)
            row = self._start(np.zeros((1, 1), np.uint8), group.pool, slot)[0, 0]
            group.shared_first = (int(slot[0]), row)

    @staticmethod
    def _collect(group, where, on_done) -> None:
        """File the group's finished examples under their chunks."""
        results = group.pop_results()
        for i, result in results:
            entry, j = where.pop(i)
            entry[0][j] = result
            entry[1] -= 1
        if on_done and results:
            on_done(len(results))

    def _submit_window_step(self, group, ladder, worker, more: bool = False):
        """The source calls of one step of a group: new contexts start at the first rung, contexts whose
        window needs rows not computed yet extend to their next rung (only the new positions are computed).

        Calls are padded to whole chunks of rows, so every call takes whole chunks only: the group admits
        new examples until the first rung's call is full (continuous batching), and contexts waiting for a
        higher rung wait there until a chunk's worth has gathered. Once no example is left to admit, the
        first rung's rows go however few (the tail), and the other rungs' rows once the first rung has none.
        ``more``: more examples will join the group (no tail yet).
        """
        first = _first_call(ladder)
        full = rows_per_call(self.source, ladder[first], self.batch_size)
        group.open(group.active(), ladder)
        group.admit(full - int(np.count_nonzero(group.level[group.active()] + 1 == first)))
        active = group.active()  # each needs a call: a new context, or a window past the rows computed
        group.open(active, ladder)
        target = group.level[active] + 1
        tail = not more and not group.waiting() and np.count_nonzero(target == first) < full
        idle = not np.count_nonzero(target == first)
        calls = []
        for k in np.unique(target):
            sel = active[target == k]
            if not (idle or (tail and k == first)):  # whole calls only: the rows furthest behind go first
                chunk = rows_per_call(self.source, ladder[k], self.batch_size)
                sel = sel[np.argsort(group.n[sel], kind="stable")[: len(sel) // chunk * chunk]]
            if not len(sel):
                continue
            segments = self._window_segments(group, sel, ladder[k])
            slots = group.slot[sel]
            if k == 0:
                future = worker.submit(self._start, segments, group.pool, slots)
            else:
                shared = group.shared_first is not None and k == 1
                from_slots = np.full(len(sel), group.shared_first[0], np.int32) if shared else slots
                future = worker.submit(self._extend, segments, ladder[k - 1], group.pool, slots, from_slots)
            calls.append((sel, int(k), future))
        return (calls,)

    def _finish_window_step(self, group, ladder, calls) -> None:
        for sel, k, future in calls:
            probs = future.result()
            first = ladder[k - 1] if k else 0
            group.buf[group.buf_row[sel], first : ladder[k]] = probs
            group.level[sel] = k
            self._drain(group, ladder, sel)

    def _drain(self, group, ladder, rows: np.ndarray) -> None:
        """Code windows of ``rows`` from their contexts' computed rows, one after another, until each needs
        rows not computed yet, starts a new context or is done."""
        rungs = np.asarray(ladder)
        while rows.size:
            rel = group.pos[rows] - group.ctx[rows]
            avail = rungs[group.level[rows]] - rel
            res = self._code_windows(
                group.flat, group.pos[rows], group.stop[rows], group.buf, rel, avail, group.buf_row[rows]
            )
            more = res[2] == NEEDS_ROWS
            if np.any(more & (group.level[rows] == len(ladder) - 1)):
                raise EncodeError(f"{self.method.label}: a window needs more rows than its whole context")
            self.stats.escalations += int(np.count_nonzero(more))
            done = rows[~more]
            group.advance(done, *(a[~more] for a in res), self.return_symbol_bits)
            rows = done[(group.level[done] >= 0) & group.is_active(done)]


class _WindowGroup:
    """Examples coded window by window in lock-step, held in arrays (no per-window Python objects).

    ``examples`` index ``offsets`` (example i is ``flat[offsets[i]:offsets[i + 1]]``); ``ids`` name them
    for the caller (by default, the same numbers). Per example, its current M1 context: ``level`` (the rung
    computed so far, -1: none yet), its rows (``rows``, float32 [top, 256], valid below the rung) and the
    slot of ``pool`` that holds its prefix states (``slot``, what extends the context; the pool is None
    when the source keeps no states).
    """

    def __init__(
        self,
        flat: np.ndarray,
        offsets: np.ndarray,
        examples: np.ndarray,
        kept_bits: int | None,
        method: MethodSpec,
        admit_all: bool = True,
        ids: np.ndarray | None = None,
    ):
        self.flat = flat
        self.examples = np.asarray(examples, dtype=np.int64)
        self.ids = self.examples if ids is None else np.asarray(ids, dtype=np.int64)
        self.kept_bits, self.method = kept_bits, method
        b = method.fixed_window_bits
        self.start = offsets[self.examples].astype(np.int64)
        self.stop = offsets[self.examples + 1].astype(np.int64)
        lengths = self.stop - self.start
        self.wanted = (
            np.full(len(self.examples), -(-kept_bits // b)) if kept_bits is not None else np.maximum(lengths, 0)
        )
        width = int(max(1, min(self.wanted.max(initial=1), max(int(lengths.max(initial=1)), 1))))
        self.pos = self.start.copy()
        self.ctx = self.start.copy()
        self.n = np.zeros(len(self.examples), dtype=np.int64)
        self.bits = np.zeros((len(self.examples), width, b), dtype=np.uint8)
        self.counts = np.zeros((len(self.examples), width), dtype=np.int64)
        self.kinds = np.zeros((len(self.examples), width), dtype=np.int64)
        self.starts = np.zeros((len(self.examples), width), dtype=np.int64)
        self.symbol_bits: dict[tuple[int, int], np.ndarray] = {}
        self.level = np.full(len(self.examples), -1, dtype=np.int64)
        self.buf = np.zeros((0, 1, ALPHABET_SIZE), dtype=np.float32)  # rows of the contexts in flight
        self.buf_row = np.full(len(self.examples), -1, dtype=np.int64)  # each context's row of ``buf``
        self.free_buf: list[int] = []
        self.pool = None
        self.slot = np.full(len(self.examples), -1, dtype=np.int32)
        self.shared_first: tuple[int, np.ndarray] | None = None  # (slot, row) every context starts from
        self._reported = np.zeros(len(self.examples), dtype=bool)
        self.admitted = np.full(len(self.examples), admit_all)
        self._next = len(self.examples) if admit_all else 0

    @classmethod
    def empty(cls, kept_bits: int | None, method: MethodSpec) -> _WindowGroup:
        return cls(np.zeros(1, np.uint8), np.zeros(1, np.int64), np.zeros(0, np.int64), kept_bits, method, False)

    def joined(self, incoming: list[tuple[np.ndarray, list[np.ndarray]]]) -> _WindowGroup:
        """A group of this group's examples not reported yet, their state kept, and the ``incoming`` ones
        (ids, arrays), not admitted yet."""
        keep = np.flatnonzero(~self._reported)
        arrays = [self.flat[self.start[k] : self.stop[k]] for k in keep]
        arrays += [a for _, part in incoming for a in part]
        ids = np.concatenate([self.ids[keep], *(i for i, _ in incoming)])
        flat, offsets = _flatten(arrays)
        group = _WindowGroup(flat, offsets, np.arange(len(arrays)), self.kept_bits, self.method, False, ids)
        kept = np.arange(len(keep))
        shift = group.start[kept] - self.start[keep]
        group.pos[kept], group.ctx[kept] = self.pos[keep] + shift, self.ctx[keep] + shift
        for name in ("n", "level", "slot", "buf_row", "admitted"):
            getattr(group, name)[kept] = getattr(self, name)[keep]
        width = min(self.bits.shape[1], group.bits.shape[1])
        for name in ("bits", "counts", "kinds", "starts"):
            getattr(group, name)[kept, :width] = getattr(self, name)[keep, :width]
        new_index = {int(k): j for j, k in enumerate(keep)}
        group.symbol_bits = {(new_index[k], w): v for (k, w), v in self.symbol_bits.items() if k in new_index}
        group.pool, group.shared_first = self.pool, self.shared_first
        group.buf, group.free_buf = self.buf, self.free_buf
        group._next = int(np.count_nonzero(group.admitted))  # admission goes in order: a prefix is admitted
        return group

    def is_active(self, rows: np.ndarray) -> np.ndarray:
        return self.admitted[rows] & (self.pos[rows] < self.stop[rows]) & (self.n[rows] < self.wanted[rows])

    def active(self) -> np.ndarray:
        return np.flatnonzero(self.is_active(np.arange(len(self.examples))))

    def waiting(self) -> int:
        """Examples not admitted yet."""
        return len(self.examples) - self._next

    def admit(self, count: int) -> None:
        """Admit the next ``count`` examples (in order; they start at their first window)."""
        stop = min(self._next + max(count, 0), len(self.examples))
        self.admitted[self._next : stop] = True
        self._next = stop

    def advance(self, rows: np.ndarray, out_bits, counts, kinds, symbol_bits, keep_symbol_bits: bool) -> None:
        """Record one finished window for each of ``rows`` and move them on."""
        if not len(rows):
            return
        w = self.n[rows]
        self.bits[rows, w] = out_bits
        self.counts[rows, w] = counts
        self.kinds[rows, w] = kinds
        self.starts[rows, w] = self.pos[rows] - self.start[rows]
        if keep_symbol_bits:
            for k, e in enumerate(rows):
                self.symbol_bits[(int(e), int(w[k]))] = symbol_bits[k, : counts[k]].copy()
        self.pos[rows] += counts
        self.n[rows] += 1
        reset = self.method.m1_reset
        if reset:  # M1's context restarts every ``reset`` windows (never with reset=never)
            restart = rows[self.n[rows] % reset == 0]
            self.ctx[restart] = self.pos[restart]
            self._drop_context(restart)
        self._drop_context(rows[~self.is_active(rows)])

    def open(self, rows: np.ndarray, ladder: tuple[int, ...]) -> None:
        """Start the contexts of ``rows`` that have none: a pool slot each, and with a shared first rung its
        row (the contexts are then at rung 0 and extend from the shared state)."""
        new = rows[(self.level[rows] < 0) & (self.buf_row[rows] < 0)]
        if not new.size:
            return
        if self.pool is not None:
            self.slot[new] = self.pool.allocate(len(new))
        while len(self.free_buf) < len(new):  # grow the row buffer by doubling
            size, more = len(self.buf), max(len(self.buf), len(new))
            self.buf = np.concatenate([self.buf, np.empty((more, *self.buf.shape[1:]), np.float32)])
            self.free_buf = list(range(size + more - 1, size - 1, -1)) + self.free_buf
        self.buf_row[new] = [self.free_buf.pop() for _ in range(len(new))]
        if self.shared_first is not None:
            self.buf[self.buf_row[new], 0] = self.shared_first[1]
            self.level[new] = 0

    def _drop_context(self, rows: np.ndarray) -> None:
        self.level[rows] = -1
        buffered = rows[self.buf_row[rows] >= 0]
        self.free_buf.extend(self.buf_row[buffered].tolist())
        self.buf_row[buffered] = -1
        held = rows[self.slot[rows] >= 0]
        if self.pool is not None and held.size:
            self.pool.release(self.slot[held])
        self.slot[held] = -1

    def pop_results(self) -> list[tuple[int, WindowResult]]:
        """(id, result) of the examples finished since the last call."""
        finished = ~self._reported & self.admitted & ((self.pos >= self.stop) | (self.n >= self.wanted))
        self._reported |= finished
        return [(int(self.ids[k]), self.result(int(k))) for k in np.flatnonzero(finished)]

    def result(self, k: int) -> WindowResult:
        n = int(self.n[k])
        return WindowResult(
            self.bits[k, :n].copy(),
            self.counts[k, :n].copy(),
            self.kinds[k, :n].copy(),
            self.starts[k, :n].copy(),
            [self.symbol_bits[(k, w)] for w in range(n)] if self.symbol_bits else [],
        )


def _stream_result(
    bits, finished, states, n: int, total: int, length: int, kept_bits: int | None, precision: int
) -> StreamResult | None:
    """An AC / StaticAC example coded from a prefix of ``n`` of its ``total`` bytes.

    Accepted when the prefix is the whole example, or when the coder emitted ``kept_bits`` bits before the
    prefix ended (those bits, and the symbols they determine, never depend on later bytes); then
    ``settled_at`` is the prefix length that sufficed. None when neither holds.
    """
    settled_at = None
    if kept_bits is not None and n and states[n - 1, 3] >= kept_bits:
        settled_at = int(np.searchsorted(states[:n, 3], kept_bits, side="left")) + 1
    if n < total and settled_at is None:
        return None
    num_bytes = n
    if kept_bits is not None and (n < total or kept_bits < bits.size):
        num_bytes = prefix_covered_symbols(bits, states, kept_bits, precision)
        bits = bits[:kept_bits]
    emitted = min(int(states[n - 1, 3]), bits.size) if n else 0
    return StreamResult(bits.copy(), int(num_bytes), int(length), finished[:num_bytes].copy(), settled_at, emitted)


def _first_call(ladder: tuple[int, ...]) -> int:
    """The rung of a context's first source call: 1 when rung 0 (one position) is shared, else 0."""
    return 1 if ladder[0] == 1 and len(ladder) > 1 else 0


def _flatten(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([a.size for a in arrays], out=offsets[1:])
    flat = np.concatenate(arrays) if offsets[-1] else np.zeros(1, np.uint8)
    return np.ascontiguousarray(flat, dtype=np.uint8), offsets
