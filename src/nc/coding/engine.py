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
* EqualInfoAC with ``reset=k`` (*window* contexts, M1 restarts every k windows): row r of a context (r bytes
  after its start) comes from the call of the smallest rung T > r; a window that runs past its rung is
  coded again with the next rung's rows from there on. The decoder applies the same rule, reading the
  ladder from the side information (its last rung, ``2 b k``, is implied).

Without a plan (``ContextPlan.NONE``) the ladders have one rung: the example length (stream) or the
window cap times k (windows), exactly the shapes of a single whole-context call.

``plan_context_lengths`` picks a ladder from the context lengths a calibration sample needed, minimising
the expected positions computed per example; ``Encoder`` calibrates on the first examples it codes.

**Rows per call.** A source may say how many rows it computes per call of length T (``rows_for``); the
encoder fills calls to a multiple of it so that padding rows are rare, and counts the positions it asks
for. **Overlap.** M1 calls run on one worker thread (``M1Worker``); the host codes the previous call's
rows meanwhile, in numba threads (``encode_stream_batch``, ``encode_window_batch``). Window contexts
alternate between two groups of examples so that one group's call overlaps the other group's coding.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ClassVar

import numba
import numpy as np

from nc.coding.arithmetic import encode_stream_batch, max_stream_bits, prefix_covered_symbols
from nc.coding.windows import (
    BAD_PROBS,
    DOES_NOT_FIT,
    NEEDS_ROWS,
    encode_window_batch,
    fill_segments,
)
from nc.methods import MethodSpec

# Calibration: examples coded with the largest context to measure what the kept tokens need: at most
# this many, and at most 1/16 of the first batch (the calibrated ladder serves all later batches).
CALIBRATION_EXAMPLES = 64
MAX_RUNGS = 3


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

    def __init__(self, source, call_source: Callable, overlap: bool = True):
        self.source = source
        self.call_source = call_source
        self.overlap = overlap
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="m1")
        self.busy_s = 0.0
        self.calls = 0
        self._first: float | None = None
        self._last = 0.0
        self._lock = threading.Lock()

    def submit(self, segments: np.ndarray) -> Future:
        """The call's future; without ``overlap`` the call runs now, on the caller's thread."""
        if self._first is None:
            self._first = time.perf_counter()
        if self.overlap:
            return self._pool.submit(self._run, segments)
        done: Future = Future()
        done.set_result(self._run(segments))
        return done

    def _run(self, segments: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        probs = self.call_source(self.source, segments)
        end = time.perf_counter()
        with self._lock:
            self.busy_s += end - start
            self.calls += 1
            self._last = max(self._last, end)
        return probs

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
    def encode(self, arrays: list[np.ndarray], on_done: Callable[[int], None] | None = None) -> list:
        """StreamResult (AC, StaticAC, reset=never: windows via ``WindowResult`` too) per example."""
        if not arrays:
            return []
        previous = numba.get_num_threads()
        if self.threads:
            numba.set_num_threads(max(1, min(self.threads, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
        worker = M1Worker(self.source, self._counting_call, self.overlap)
        try:
            flat, offsets = _flatten(arrays)
            if self.stream:
                results = self._encode_stream(flat, offsets, worker, on_done)
            else:
                results = self._encode_windows(flat, offsets, worker, on_done)
        finally:
            worker.close()
            numba.set_num_threads(previous)
            self.stats.busy_s += worker.busy_s
            self.stats.wall_s += worker.wall_s
        return results

    def _counting_call(self, source, segments: np.ndarray) -> np.ndarray:
        rows = rows_per_call(source, segments.shape[1], segments.shape[0])
        self.stats.positions += round_up(segments.shape[0], rows) * segments.shape[1]
        return self.call_source(source, segments)

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
        sample = list(range(_calibration_size(len(lengths))))
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
            pending.append((batch, worker.submit(self._segments(flat, offsets, batch, length))))
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
        group = _WindowGroup(np.asarray(batch), offsets, self.kept_bits, self.method)
        used = np.minimum(group.stop - group.start, length)
        stalled = np.zeros(len(batch), dtype=bool)
        while True:
            active = group.active()
            active = active[~stalled[active]]
            if not active.size:
                break
            rel = group.pos[active] - group.start[active]
            res = self._code_windows(
                flat, group.pos[active], group.stop[active], probs[active], rel, used[active] - rel
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
        self, flat, starts, stops, probs, first_row, rows_avail
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(window bits, symbol counts, exception kinds, per-symbol bits) of one window per start."""
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
        """Code a few contexts' windows with the whole window context; the ladder follows what they needed."""
        top = self.cap * self.method.m1_reset
        sample = _WindowGroup(np.arange(_calibration_size(len(offsets) - 1)), offsets, self.kept_bits, self.method)
        needed = []
        for _ in range(2 * self.method.m1_reset):
            active = sample.active()
            if not active.size:
                break
            probs = worker.submit(self._window_segments(flat, sample, active, top)).result()
            rel = sample.pos[active] - sample.ctx[active]
            res = self._code_windows(flat, sample.pos[active], sample.stop[active], probs, rel, top - rel)
            for k, e in enumerate(active):
                count = int(res[1][k])
                limit = min(self.cap, int(sample.stop[e] - sample.pos[e]))
                needed.append(int(rel[k]) + count + (0 if count == limit else 1))
            sample.advance(active, *res, keep_symbol_bits=self.return_symbol_bits)
        self.rungs = plan_context_lengths(np.array(needed), np.arange(1, top + 1))

    def _window_segments(self, flat, group, active, length: int) -> np.ndarray:
        segments = np.empty((len(active), length), dtype=np.uint8)
        fill_segments(flat, group.ctx[active], group.stop[active], segments)
        return segments

    def _encode_windows(self, flat, offsets, worker, on_done) -> list:
        if self.plan.mode == "auto" and self.rungs is None:
            self._calibrate_windows(flat, offsets, worker)
        ladder = self.window_ladder()
        n = len(offsets) - 1
        rows = rows_per_call(self.source, ladder[0], self.batch_size)
        split = 2 if n >= 4 * rows else 1  # two groups overlap one's M1 call with the other's coding
        groups = [
            _WindowGroup(part, offsets, self.kept_bits, self.method, admit_all=False)
            for part in np.array_split(np.arange(n), split)
        ]
        inflight: dict[int, tuple] = {}
        for g, group in enumerate(groups):
            inflight[g] = self._submit_window_step(flat, group, ladder, worker)
        while inflight:
            for g in list(inflight):
                self._finish_window_step(flat, groups[g], ladder, worker, *inflight.pop(g))
                if groups[g].active().size or groups[g].waiting_to_start():
                    inflight[g] = self._submit_window_step(flat, groups[g], ladder, worker)
                on_done and on_done(groups[g].take_finished())
        results: list = [None] * n
        for group in groups:
            for k, e in enumerate(group.examples):
                results[int(e)] = group.result(k)
        return results

    def _submit_window_step(self, flat, group, ladder, worker):
        """The source calls of one step of a group: per rung, windows whose next row that rung holds.

        Calls are padded to whole chunks of rows, so every call takes whole chunks only: the group admits
        new examples until the first rung's call is full (continuous batching), and windows that ran past
        their rung, or start at a later one (reset=k > 1), wait there until a chunk's worth has gathered.
        Once no example is left to admit, the first rung's rows go however few (the tail), and the other
        rungs' rows once the first rung has none left.
        """
        full = rows_per_call(self.source, ladder[0], self.batch_size)
        group.admit(full - int(np.count_nonzero(group.rung_of(group.active(), ladder) == 0)))
        active = group.active()
        levels = group.rung_of(active, ladder)
        tail = not group.waiting_to_start() and np.count_nonzero(levels == 0) < full
        idle = not np.count_nonzero(levels == 0)
        calls = []
        for k in np.unique(levels):
            sel = active[levels == k]
            if not (idle or (tail and k == 0)):  # whole calls only: the rows furthest behind go first
                chunk = rows_per_call(self.source, ladder[k], self.batch_size)
                sel = sel[np.argsort(group.n[sel], kind="stable")[: len(sel) // chunk * chunk]]
            if len(sel):
                calls.append((sel, int(k), worker.submit(self._window_segments(flat, group, sel, ladder[k]))))
        return (calls,)

    def _finish_window_step(self, flat, group, ladder, worker, calls) -> None:
        for sel, k, future in calls:
            probs = future.result()
            waited = group.level[sel] >= 0
            for r in np.flatnonzero(waited):  # rows below this rung come from the lower rungs' calls
                partial = group.partial.pop(int(sel[r]))
                probs[r, : partial.shape[0]] = partial
            rel = group.pos[sel] - group.ctx[sel]
            res = self._code_windows(flat, group.pos[sel], group.stop[sel], probs, rel, ladder[k] - rel)
            more = res[2] == NEEDS_ROWS
            done = ~more
            group.level[sel[done]] = -1
            group.advance(sel[done], *(a[done] for a in res), self.return_symbol_bits)
            for r in np.flatnonzero(more):
                self.stats.escalations += 1
                group.level[sel[r]] = k + 1
                group.partial[int(sel[r])] = probs[r, : ladder[k]].copy()


class _WindowGroup:
    """Examples coded window by window in lock-step, held in arrays (no per-window Python objects)."""

    def __init__(
        self,
        examples: np.ndarray,
        offsets: np.ndarray,
        kept_bits: int | None,
        method: MethodSpec,
        admit_all: bool = True,
    ):
        self.examples = np.asarray(examples, dtype=np.int64)
        self.method = method
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
        self.level = np.full(len(self.examples), -1, dtype=np.int64)  # rung a window waits at (-1: none)
        self.partial: dict[int, np.ndarray] = {}  # its rows from the lower rungs
        self._reported = np.zeros(len(self.examples), dtype=bool)
        self.admitted = np.full(len(self.examples), admit_all)
        self._next = len(self.examples) if admit_all else 0

    def active(self) -> np.ndarray:
        return np.flatnonzero(self.admitted & (self.pos < self.stop) & (self.n < self.wanted))

    def waiting_to_start(self) -> bool:
        return self._next < len(self.examples)

    def admit(self, count: int) -> None:
        """Admit the next ``count`` examples (in order; they start at their first window)."""
        stop = min(self._next + max(count, 0), len(self.examples))
        self.admitted[self._next : stop] = True
        self._next = stop

    def rung_of(self, rows: np.ndarray, ladder: tuple[int, ...]) -> np.ndarray:
        """The rung each row's next window is computed at: where it waits, else the one holding its first row."""
        fresh = np.searchsorted(np.array(ladder), self.pos[rows] - self.ctx[rows], side="right")
        return np.where(self.level[rows] >= 0, self.level[rows], fresh)

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
            restart = self.n[rows] % reset == 0
            self.ctx[rows[restart]] = self.pos[rows[restart]]

    def take_finished(self) -> int:
        """How many examples finished since the last call (for progress bars)."""
        finished = ~self._reported & self.admitted & ((self.pos >= self.stop) | (self.n >= self.wanted))
        self._reported |= finished
        return int(finished.sum())

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


def _calibration_size(n: int) -> int:
    return min(n, CALIBRATION_EXAMPLES, max(4, n // 16))


def _flatten(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([a.size for a in arrays], out=offsets[1:])
    flat = np.concatenate(arrays) if offsets[-1] else np.zeros(1, np.uint8)
    return np.ascontiguousarray(flat, dtype=np.uint8), offsets
