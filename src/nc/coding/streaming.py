"""Decoding a bitstream that grows token by token, as a model samples it (``nc generate``).

Each decoder takes bits with ``push`` and exposes the bytes they already determine in ``out``; none
needs side information, so each decides from the bits alone what a sampled stream says:

* ``PrefixStreamDecoder`` (AC, StaticAC): the bytes every continuation of the bits decodes to.
  Arithmetic decoding is monotone in the code value (a larger value never decodes to a
  lexicographically smaller text), so the bytes on which the stream padded with zeros and the
  stream padded with ones agree are exactly the determined ones.
* ``WindowStreamDecoder`` (EqualInfoAC): each complete b-bit window decoded with the D.5 look-ahead
  rule alone. A window the rule cannot decode (no symbol sequence reproduces its bits) is dropped
  and counted; a decoded window's text, coded alone, gives back the window's bits.
* ``GzipStreamDecoder``: what zlib yields from the whole bytes so far; a stream zlib rejects ends there.

The M1-backed decoders follow the lock-step protocol of ``nc.coding.decoders`` (``run_lockstep``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from numba import njit

from nc.coding.arithmetic import decode_step
from nc.coding.decoders import EqualInfoDecoder, _ByteDecoder, _check_row
from nc.coding.errors import CorruptStreamError
from nc.coding.gzip import inflater
from nc.coding.quantize import BAD_ROW, quantize_row_into
from nc.coding.sideinfo import SideInfoReader, pack_side_info
from nc.methods import MethodSpec

ONES_PADDING_BITS = 4096  # the ones-padded stream: more than any run of agreeing symbols reads


@njit(cache=True)
def _decode_into(state, bits, num_bits, cdf, precision):
    """Decode one symbol with ``cdf``, updating ``state`` = [low, high, value, pos] in place."""
    s, state[0], state[1], state[2], state[3] = decode_step(
        state[0], state[1], state[2], state[3], bits, num_bits, cdf, precision
    )
    return s


def context_ladder(max_length: int, step: int) -> tuple[int, ...]:
    """Context lengths ``step, 2 step, 4 step, ...`` up to one >= ``max_length``: a growing text is
    evaluated at few shapes (few compilations), each row at the shortest one that holds it."""
    rungs = [max(1, int(step))]
    while rungs[-1] < max_length:
        rungs.append(2 * rungs[-1])
    return tuple(rungs)


def _no_side_info() -> SideInfoReader:
    return SideInfoReader(pack_side_info([], b"")[0])


class PrefixStreamDecoder(_ByteDecoder):
    """AC / StaticAC over a growing stream: ``out`` holds the bytes its bits determine.

    Probability rows are kept once computed (row j depends only on the determined bytes before it), so
    each byte costs one source call however many tokens arrive before it is determined.
    """

    def __init__(self, precision: int, rungs: tuple[int, ...]):
        super().__init__(_no_side_info(), num_bytes=rungs[-1], rungs=rungs)
        self.precision = precision
        self.state_bits = precision + 2
        self.bits = np.zeros(0, dtype=np.uint8)
        self.cdfs: list[np.ndarray] = []  # cdfs[j]: the quantised row of byte j
        self.exact: tuple[int, np.ndarray] | None = None  # (symbols, [low, high, value, pos]) with pos <= bits
        self._known_text = b""
        self._known_cdfs: list[np.ndarray] = []

    def push(self, bits: np.ndarray) -> None:
        self.bits = np.concatenate([self.bits, np.asarray(bits, dtype=np.uint8)])

    def know_rows(self, text: bytes, probs: np.ndarray) -> None:
        """The source's rows ``probs`` [len(text), 256] of ``text`` (from the call that encoded it), used
        while the decoded bytes follow ``text``: the decoder then reads the encoder's own rows."""
        self._known_text = bytes(text)
        self._known_cdfs = [self._quantized(row, j) for j, row in enumerate(probs)]

    def _known_row(self, j: int) -> np.ndarray | None:
        if j < len(self._known_cdfs) and self.out[:j] == self._known_text[:j]:
            return self._known_cdfs[j]
        return None

    def _quantized(self, row: np.ndarray, j: int) -> np.ndarray:
        cdf = np.empty(257, dtype=np.int64)
        if quantize_row_into(_check_row(row), self.precision, cdf) == BAD_ROW:
            raise ValueError(f"source.probs gave an invalid distribution at byte {j}")
        return cdf

    def _initial(self, bits: np.ndarray) -> np.ndarray:
        """(low, high, value, pos) before the first symbol: the value register holds the first bits."""
        value = 0
        for i in range(self.state_bits):
            value = 2 * value + (int(bits[i]) if i < bits.size else 0)
        return np.array([0, (1 << self.state_bits) - 1, value, self.state_bits], dtype=np.int64)

    def _settle(self) -> bool:
        """Decode the zero- and ones-padded streams from the last exact state while they agree and rows
        are known; True when the next agreed byte needs a row."""
        n_known = self.bits.size
        ones = np.concatenate([self.bits, np.ones(ONES_PADDING_BITS, dtype=np.uint8)])
        if self.exact is None and n_known >= self.state_bits:
            self.exact = (0, self._initial(self.bits))
        if self.exact is None:
            j, zero, one = 0, self._initial(self.bits), self._initial(ones)
        else:
            j, zero, one = self.exact[0], self.exact[1].copy(), self.exact[1].copy()
        out = self.out
        while len(out) < self.num_bytes:
            if j == len(self.cdfs):
                known = self._known_row(j)
                if known is None:
                    return True
                self.cdfs.append(known)
            cdf = self.cdfs[j]
            s0 = _decode_into(zero, self.bits, n_known, cdf, self.precision)
            s1 = _decode_into(one, ones, ones.size, cdf, self.precision)
            if s0 != s1 or one[3] >= ones.size:
                return False
            if j == len(out):
                out.append(int(s0))
            j += 1
            if zero[3] <= n_known:  # this state read only pushed bits: every continuation reaches it
                self.exact = (j, zero.copy())
        return False

    def advance(self) -> bool:
        return self._settle()

    def feed(self, row: np.ndarray) -> None:
        self.cdfs.append(self._quantized(row, len(self.out)))


@dataclass(frozen=True)
class DecodedWindow:
    """One sampled Equal-Info window: its index, and its text (None: the rule decodes no text from it)."""

    index: int
    text: bytes | None


class WindowStreamDecoder(EqualInfoDecoder):
    """EqualInfoAC windows pushed one at a time and decoded with the look-ahead rule alone.

    ``prompt`` is text already coded in ``prompt_windows`` windows starting at ``prompt_starts`` (its
    windows are not decoded again, only read as M1 context). ``rungs``: the context lengths of M1
    calls, those the encoder uses (``cap * m1_reset`` positions per call; reset=never: a ladder).
    """

    def __init__(
        self,
        method: MethodSpec,
        precision: int,
        cap: int,
        rungs: tuple[int, ...],
        prompt: bytes = b"",
        prompt_starts: tuple[int, ...] = (),
    ):
        _ByteDecoder.__init__(self, _no_side_info(), num_bytes=10**18, rungs=rungs)
        self.exceptions: dict[int, int] = {}
        self._setup(np.zeros(0, dtype=np.uint8), method, precision, cap)
        self.out += prompt
        self.window_index = len(prompt_starts) - 1
        self.bits = np.zeros(len(prompt_starts) * self.b, dtype=np.uint8)  # placeholders: never decoded
        if self.m1_reset and prompt_starts:
            group_start = len(prompt_starts) // self.m1_reset * self.m1_reset
            self.context_start = prompt_starts[group_start] if group_start < len(prompt_starts) else len(prompt)
        self.windows: list[DecodedWindow] = []

    def push(self, window_bits: np.ndarray) -> None:
        """The bits of the next window (exactly b)."""
        window_bits = np.asarray(window_bits, dtype=np.uint8)
        if window_bits.size != self.b:
            raise ValueError(f"a window has {self.b} bits, got {window_bits.size}")
        self.bits = np.concatenate([self.bits, window_bits])

    @property
    def dropped(self) -> int:
        return sum(w.text is None for w in self.windows)

    def advance(self) -> bool:
        if not self.in_window and (self.window_index + 2) * self.b > self.bits.size:
            return False  # the next window's bits have not been sampled yet
        return super().advance()

    def _close_window(self) -> None:
        if not self.matches:
            self._drop_window()
            return
        self.windows.append(DecodedWindow(self.window_index, bytes(self.out[self.window_start :])))
        self.in_window = False

    def _drop_window(self) -> None:
        del self.out[self.window_start :]
        self.windows.append(DecodedWindow(self.window_index, None))
        self.in_window = False

    def feed(self, row: np.ndarray) -> None:
        try:
            super().feed(row)
        except CorruptStreamError:  # the next symbol does not fit before the window is reproduced
            self._drop_window()


class GzipStreamDecoder:
    """GZip over a growing bitstream: ``out`` holds what zlib yields from the whole bytes pushed so far.
    ``failed`` once zlib rejects the stream, ``ended`` once the stream's last block is complete."""

    def __init__(self, header: bool):
        self._inflate = inflater(header)
        self._bits = np.zeros(0, dtype=np.uint8)
        self.out = bytearray()
        self.failed = False

    @property
    def ended(self) -> bool:
        return self.failed or self._inflate.eof

    def push(self, bits: np.ndarray) -> None:
        if self.ended:
            return
        self._bits = np.concatenate([self._bits, np.asarray(bits, dtype=np.uint8)])
        whole = self._bits.size // 8 * 8
        chunk, self._bits = np.packbits(self._bits[:whole]).tobytes(), self._bits[whole:]
        try:
            self.out += self._inflate.decompress(chunk)
        except zlib.error:
            self.failed = True
