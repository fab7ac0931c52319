"""Lock-step decoders: each example advances one symbol per source call for the batch.

A decoder exposes ``advance() -> bool`` (settle what needs no model row; True while it needs one),
``context_rungs`` (how the row it needs is computed: the T of one ``source.probs`` call, or for a
``chained`` decoder the lengths its context climbs, ``nc.coding.sources.chained_probs``), ``fill_segment`` /
``row_index`` (the source input and the row it needs), ``feed(row)`` and ``result()``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from nc.coding.arithmetic import decode_step
from nc.coding.errors import CorruptStreamError
from nc.coding.quantize import BAD_ROW, quantize_row_into
from nc.coding.sideinfo import SideInfoReader
from nc.coding.sources import chained_probs
from nc.coding.windows import candidate_step, last_one_index, window_buffer_bits
from nc.methods import MethodSpec


def run_lockstep(decoders: list, source, call_source) -> None:
    """Drive ``decoders`` to completion: per step, one source call (or chain of calls) per way of computing
    the rows the active ones need."""
    while True:
        active = [d for d in decoders if d.advance()]
        if not active:
            return
        by_rungs: dict[tuple[bool, tuple[int, ...]], list] = {}
        for d in active:
            by_rungs.setdefault((d.chained, d.context_rungs), []).append(d)
        for (chained, rungs), group in sorted(by_rungs.items()):
            segments = np.zeros((len(group), rungs[-1]), dtype=np.uint8)
            for r, d in enumerate(group):
                d.fill_segment(segments[r])
            probs = chained_probs(source, segments, rungs) if chained else call_source(source, segments)
            for r, d in enumerate(group):
                d.feed(probs[r, d.row_index])


@njit(cache=True)
def _stream_step(state, bits, row, precision, cdf):
    """Decode one symbol into ``state`` = (low, high, value, next bit); returns it or BAD_ROW."""
    if quantize_row_into(row, precision, cdf) == BAD_ROW:
        return BAD_ROW
    s, low, high, value, pos = decode_step(state[0], state[1], state[2], state[3], bits, bits.shape[0], cdf, precision)
    state[0], state[1], state[2], state[3] = low, high, value, pos
    return s


def _check_row(row: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(row, dtype=np.float32)


class _ByteDecoder:
    """Shared bookkeeping: decoded bytes, the CRC check and the model context.

    ``rungs``: the context ladder. Row r comes from the call of the smallest rung > r; a ``chained``
    decoder's context climbs the rungs below it first (Equal-Info window contexts are extended rung by rung).
    """

    chained = False

    def __init__(self, reader: SideInfoReader, num_bytes: int, rungs: tuple[int, ...]):
        self.reader = reader
        self.num_bytes = num_bytes
        self.rungs = rungs
        self.out = bytearray()
        self.context_start = 0

    @property
    def context_rungs(self) -> tuple[int, ...]:
        row = self.row_index
        for k, rung in enumerate(self.rungs):
            if rung > row:
                return self.rungs[: k + 1] if self.chained else (rung,)
        raise CorruptStreamError(f"row {row} of a context lies beyond its longest call ({self.rungs[-1]} positions)")

    @property
    def row_index(self) -> int:
        return len(self.out) - self.context_start

    def fill_segment(self, segment: np.ndarray) -> None:
        part = self.out[self.context_start : self.context_start + segment.size]
        segment[:] = 0
        segment[: len(part)] = np.frombuffer(bytes(part), dtype=np.uint8)

    def result(self) -> bytes:
        data = bytes(self.out)
        self.reader.check_crc(data)
        return data


class StreamDecoder(_ByteDecoder):
    """AC / StaticAC: one arithmetic-coded stream; side information (num_bytes, example length)."""

    def __init__(self, bits: np.ndarray, reader: SideInfoReader, precision: int):
        num_bytes = reader.read()
        length = reader.read()
        if num_bytes > length:
            raise CorruptStreamError(f"side information covers {num_bytes} bytes of a {length}-position context")
        super().__init__(reader, num_bytes, (length,))
        self.bits = np.ascontiguousarray(bits, dtype=np.uint8)
        self.precision = precision
        state_bits = precision + 2
        value = 0
        for i in range(state_bits):
            value = 2 * value + (int(self.bits[i]) if i < self.bits.size else 0)
        self.state = np.array([0, (1 << state_bits) - 1, value, state_bits], dtype=np.int64)
        self.cdf = np.empty(257, dtype=np.int64)

    def advance(self) -> bool:
        return len(self.out) < self.num_bytes

    def feed(self, row: np.ndarray) -> None:
        s = _stream_step(self.state, self.bits, _check_row(row), self.precision, self.cdf)
        if s == BAD_ROW:
            raise ValueError(f"source.probs gave an invalid distribution at byte {len(self.out)}")
        self.out.append(int(s))


class EqualInfoDecoder(_ByteDecoder):
    """EqualInfoAC windows decoded with the look-ahead rule of ``nc.coding.windows``."""

    def __init__(self, bits: np.ndarray, reader: SideInfoReader, method: MethodSpec, precision: int, cap: int):
        num_bytes = reader.read()
        rungs: tuple[int, ...]
        if method.m1_reset == 0:
            length = reader.read()
            rungs = (length,)
        else:
            length = None
            free = [reader.read() for _ in range(reader.read())]
            rungs = (*free, cap * method.m1_reset)
            if list(rungs) != sorted(set(rungs)) or rungs[0] < 1:
                raise CorruptStreamError(f"side information gives a context ladder {rungs} that is not increasing")
        n_exceptions = reader.read()
        self.exceptions: dict[int, int] = {}
        window = 0
        for _ in range(n_exceptions):
            window += reader.read()
            self.exceptions[window] = reader.read() + 1
        if length is not None and num_bytes > length:
            raise CorruptStreamError(f"side information covers {num_bytes} bytes of a {length}-position context")
        super().__init__(reader, num_bytes, rungs)
        self._setup(bits, method, precision, cap)

    def _setup(self, bits: np.ndarray, method: MethodSpec, precision: int, cap: int) -> None:
        """What every window needs besides the side information (``num_bytes``, ``rungs``, ``exceptions``)."""
        self.chained = method.m1_reset != 0  # window contexts; reset=never reads the example like AC
        self.bits = np.ascontiguousarray(bits, dtype=np.uint8)
        self.b = method.fixed_window_bits
        self.delay = method.delay
        self.m1_reset = method.m1_reset
        self.cap = cap
        self.precision = precision
        self.window_index = -1
        self.n = 0  # symbols of the current window decoded so far
        self.in_window = False
        self.cdf = np.empty(257, dtype=np.int64)
        self.scratch = np.zeros(window_buffer_bits(self.b, precision), dtype=np.uint8)

    def _open_window(self) -> None:
        self.window_index += 1
        start = self.window_index * self.b
        if start + self.b > self.bits.size:
            raise CorruptStreamError(
                f"stream truncated: window {self.window_index} needs bits "
                f"{start}..{start + self.b}, only {self.bits.size} present"
            )
        self.window = self.bits[start : start + self.b]
        self.last_one = last_one_index(self.window)
        self.state = np.array([0, (1 << (self.precision + 2)) - 1, 0, 0], dtype=np.int64)
        self.window_start = len(self.out)
        if self.m1_reset != 0 and self.window_index % self.m1_reset == 0:
            self.context_start = self.window_start
        self.n = 0
        self.matches = False  # match(n) for the current n
        self.limit = min(self.cap, self.num_bytes - self.window_start)
        self.forced = self.exceptions.get(self.window_index)
        if self.forced is not None and self.forced > self.limit:
            raise CorruptStreamError(
                f"exception gives window {self.window_index} {self.forced} symbols, more than its {self.limit} possible"
            )
        self.in_window = True

    def _close_window(self) -> None:
        if not self.matches:
            raise CorruptStreamError(
                f"window {self.window_index} content is impossible: its {self.n} decoded symbols "
                f"do not re-encode to the window bits"
            )
        self.in_window = False

    def advance(self) -> bool:
        while True:
            if not self.in_window:
                if len(self.out) >= self.num_bytes:
                    return False
                self._open_window()
            stop_at = self.forced if self.forced is not None else self.limit
            if self.n >= stop_at:
                self._close_window()
                continue
            return True

    def feed(self, row: np.ndarray) -> None:
        row = _check_row(row)
        if quantize_row_into(row, self.precision, self.cdf) == BAD_ROW:
            raise ValueError(f"source.probs gave an invalid distribution at byte {len(self.out)}")
        y, fits, matches, low, high, pending, nbits = candidate_step(
            self.state, self.window, self.last_one, self.cdf, self.precision, self.scratch
        )
        if self.forced is None and not self.delay and self.matches and not matches:
            self._close_window()  # greedy: the candidate would change the window, so the window ended
            return
        if not fits:
            raise CorruptStreamError(
                f"window {self.window_index} content is impossible: symbol {self.n + 1} "
                f"does not fit in {self.b} bits before the window is reproduced"
            )
        self.state[:] = (low, high, pending, nbits)
        self.out.append(int(y))
        self.n += 1
        self.matches = matches
        if self.forced is None and self.delay and matches:
            self._close_window()
