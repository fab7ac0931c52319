"""Public coding API: compress examples with a method to fixed-width tokens and back.

See docs/CODING.md for the side information layout and the exactness argument.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from nc.coding.arithmetic import encode_with_probs, prefix_covered_symbols
from nc.coding.errors import CorruptStreamError
from nc.coding.gzip import gzip_compress, gzip_prefix_bytes
from nc.coding.quantize import check_precision
from nc.coding.sideinfo import SideInfoReader, pack_side_info
from nc.coding.sources import ALPHABET_SIZE, ProbabilitySource
from nc.coding.tokens import bits_to_tokens, tokens_to_bits
from nc.coding.windows import (
    BAD_PROBS,
    DOES_NOT_FIT,
    default_max_window_symbols,
    encode_window,
    window_buffer_bits,
)
from nc.coding import decoders
from nc.methods import MethodSpec


@dataclass
class Encoded:
    """One compressed example.

    tokens: uint8 / uint16 ids of ``token_bits`` bits each (the last token zero-padded).
    num_bits: meaningful bits before the final token's padding.
    num_bytes: input bytes covered by ``tokens`` (= len(decode_example(...))).
    side_info: what the decoder needs beyond the tokens (CRC32 + gamma-coded integers, docs/CODING.md).
    side_info_bits: cost of the gamma-coded part in bits (the 32 checksum bits are not included).
    window_starts: EqualInfoAC: byte offset where each covered window starts.
    symbol_end_bits: with ``return_symbol_bits``: per covered byte, the finished-now bit length after
        it (window-relative for EqualInfoAC, stream-relative for AC / StaticAC).
    """

    tokens: np.ndarray
    num_bits: int
    num_bytes: int
    side_info: bytes
    side_info_bits: int
    window_starts: np.ndarray | None = None
    symbol_end_bits: np.ndarray | None = None


# ------------------------------------------------------------------------------------------ checks
def _check_call(method: MethodSpec, source, precision: int) -> int:
    if not isinstance(method, MethodSpec):
        raise ValueError(f"method must be a MethodSpec (use nc.methods.parse_method), got {method!r}")
    if not method.is_bitstream:
        raise ValueError(f"{method.label} is a tokeniser, not a coder; nc.coding handles {('AC', 'StaticAC', 'EqualInfoAC', 'GZip')}")
    if method.kind == "GZip":
        if source is not None:
            raise ValueError("GZip takes no probability source (source must be None)")
    elif source is None or not hasattr(source, "probs"):
        raise ValueError(f"{method.label} needs a ProbabilitySource with a probs(segments) method, got {source!r}")
    elif getattr(source, "alphabet_size", ALPHABET_SIZE) != ALPHABET_SIZE:
        raise ValueError(f"source.alphabet_size must be {ALPHABET_SIZE} (bytes), got {source.alphabet_size}")
    return check_precision(precision, ALPHABET_SIZE)


def _as_array(example) -> np.ndarray:
    if not isinstance(example, (bytes, bytearray, memoryview)):
        raise ValueError(f"examples must be bytes, got {type(example).__name__}")
    return np.frombuffer(bytes(example), dtype=np.uint8)


def call_source(source: ProbabilitySource, segments: np.ndarray) -> np.ndarray:
    """source.probs with a shape check (float32 [B, T, 256])."""
    probs = source.probs(segments)
    b, t = segments.shape
    if not isinstance(probs, np.ndarray) or probs.shape != (b, t, ALPHABET_SIZE):
        raise ValueError(f"source.probs returned shape {getattr(probs, 'shape', None)}, expected {(b, t, ALPHABET_SIZE)}")
    return probs


def _kept_bits(method: MethodSpec, max_tokens: int | None) -> int | None:
    if max_tokens is None:
        return None
    if not isinstance(max_tokens, (int, np.integer)) or max_tokens < 0:
        raise ValueError(f"max_tokens must be a non-negative integer or None, got {max_tokens!r}")
    return int(max_tokens) * method.token_bits


def _chunks(indices: list[int], size: int):
    for i in range(0, len(indices), size):
        yield indices[i:i + size]


def _groups_by_length(arrays: list[np.ndarray], batch_size: int):
    """Batches of example indices sharing one length (a source call needs one T)."""
    by_len: dict[int, list[int]] = {}
    for i, a in enumerate(arrays):
        by_len.setdefault(a.size, []).append(i)
    for length in sorted(by_len):
        for chunk in _chunks(by_len[length], batch_size):
            yield length, chunk


# ---------------------------------------------------------------------------------------- encoding
def encode_examples(examples: Sequence[bytes], method: MethodSpec, source: ProbabilitySource | None, *,
                    precision: int = 14, max_tokens: int | None = None, batch_size: int = 64,
                    progress: bool = False, return_symbol_bits: bool = False,
                    max_window_symbols: int | None = None) -> list[Encoded]:
    """Compress each example with ``method`` into ``token_bits``-bit tokens.

    AC / StaticAC: one arithmetic-coded stream per example, ``source`` called once per batch of
    equal-length examples with T = example length. EqualInfoAC: greedy b-bit windows, one
    ``source.probs`` call per window step for all active examples (T = max_window_symbols, times
    m1_reset when the context spans several windows, the example length when it never resets).
    With ``max_tokens``, exactly that many tokens are kept (fewer if the input runs out) and
    ``num_bytes`` counts only bytes fully determined by the kept bits.
    """
    precision = _check_call(method, source, precision)
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    kept = _kept_bits(method, max_tokens)
    arrays = [_as_array(e) for e in examples]
    bar = tqdm(total=len(arrays), desc=f"encode {method.label}", disable=not progress, unit="ex")
    if method.kind == "GZip":
        results = []
        for a in arrays:
            results.append(_encode_gzip(a, method, kept))
            bar.update()
    elif method.kind == "EqualInfoAC":
        cap = _window_cap(method, max_window_symbols)
        results = _encode_equal_info(arrays, method, source, precision, kept, batch_size, cap, return_symbol_bits, bar)
    else:
        results = _encode_ac(arrays, method, source, precision, kept, batch_size, return_symbol_bits, bar)
    bar.close()
    return results


def _window_cap(method: MethodSpec, max_window_symbols: int | None) -> int:
    if max_window_symbols is None:
        return default_max_window_symbols(method.window_bits)
    if not isinstance(max_window_symbols, (int, np.integer)) or max_window_symbols < 1:
        raise ValueError(f"max_window_symbols must be a positive integer, got {max_window_symbols!r}")
    return int(max_window_symbols)


def _finish(bits: np.ndarray, method: MethodSpec, covered: np.ndarray, values: list[int], **extra) -> Encoded:
    side_info, side_bits = pack_side_info(values, covered.tobytes())
    return Encoded(tokens=bits_to_tokens(bits, method.token_bits), num_bits=int(bits.size),
                   num_bytes=int(covered.size), side_info=side_info, side_info_bits=side_bits, **extra)


def _encode_gzip(x: np.ndarray, method: MethodSpec, kept: int | None) -> Encoded:
    stream = gzip_compress(x.tobytes(), method.gzip_header)
    bits = np.unpackbits(np.frombuffer(stream, dtype=np.uint8))
    num_bytes = x.size
    if kept is not None and kept < bits.size:
        bits = bits[:kept]
        num_bytes = len(gzip_prefix_bytes(stream[: kept // 8], method.gzip_header))
    return _finish(bits, method, x[:num_bytes], [num_bytes])


def _encode_ac(arrays, method, source, precision, kept, batch_size, return_symbol_bits, bar) -> list[Encoded]:
    results: list[Encoded | None] = [None] * len(arrays)
    for length, chunk in _groups_by_length(arrays, batch_size):
        probs = call_source(source, np.stack([arrays[i] for i in chunk])) if length else None
        for row, i in enumerate(chunk):
            x = arrays[i]
            if length:
                bits, finished, states = encode_with_probs(x, probs[row], precision)
            else:
                bits, finished, states = np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros((0, 4), np.int64)
            num_bytes = x.size
            if kept is not None and kept < bits.size:
                num_bytes = prefix_covered_symbols(bits, states, kept, precision)
                bits = bits[:kept]
            extra = {"symbol_end_bits": finished[:num_bytes].copy()} if return_symbol_bits else {}
            results[i] = _finish(bits, method, x[:num_bytes], [num_bytes, length], **extra)
            bar.update()
    return results


class _WindowEncoderState:
    """Progress of one example through Equal-Info window encoding."""

    def __init__(self, x: np.ndarray, windows_wanted: int | None):
        self.x = x
        self.pos = 0
        self.context_start = 0
        self.windows: list[np.ndarray] = []
        self.starts: list[int] = []
        self.counts: list[int] = []
        self.exceptions: list[tuple[int, int]] = []
        self.exception_kinds: list[int] = []
        self.symbol_bits: list[np.ndarray] = []
        self.windows_wanted = windows_wanted

    @property
    def done(self) -> bool:
        return self.pos >= self.x.size or (self.windows_wanted is not None and len(self.windows) >= self.windows_wanted)


def context_start_for(window_index: int, window_start: int, previous_start: int, m1_reset: int) -> int:
    """Byte offset where M1's context begins for a window (reset every m1_reset-th window; 0 = never)."""
    if m1_reset == 0:
        return 0
    return window_start if window_index % m1_reset == 0 else previous_start


def window_context_length(m1_reset: int, cap: int, example_length: int) -> int:
    """T of every source call for an Equal-Info example (decoder-known)."""
    return example_length if m1_reset == 0 else cap * m1_reset


def _encode_equal_info(arrays, method, source, precision, kept, batch_size, cap, return_symbol_bits, bar):
    b = method.window_bits
    wanted = None if kept is None else -(-kept // b)
    results: list[Encoded | None] = [None] * len(arrays)
    if method.m1_reset == 0:
        batches = list(_groups_by_length(arrays, batch_size))
    else:
        batches = [(None, chunk) for chunk in _chunks(list(range(len(arrays))), batch_size)]
    buf = np.zeros(window_buffer_bits(b, precision), dtype=np.uint8)
    finished = np.zeros(cap, dtype=np.int64)
    states = np.zeros((cap + 1, 4), dtype=np.int64)
    for _, chunk in batches:
        enc = {i: _WindowEncoderState(arrays[i], wanted) for i in chunk}
        full_probs = None
        if method.m1_reset == 0 and arrays[chunk[0]].size:
            full_probs = call_source(source, np.stack([arrays[i] for i in chunk]))
        while True:
            active = [i for i in chunk if not enc[i].done]
            if not active:
                break
            if method.m1_reset == 0:
                rows_of = {i: full_probs[chunk.index(i), enc[i].pos:] for i in active}
            else:
                t = window_context_length(method.m1_reset, cap, 0)
                segs = np.zeros((len(active), t), dtype=np.uint8)
                for r, i in enumerate(active):
                    st = enc[i]
                    st.context_start = context_start_for(len(st.windows), st.pos, st.context_start, method.m1_reset)
                    part = st.x[st.context_start:st.context_start + t]
                    segs[r, :part.size] = part
                probs = call_source(source, segs)
                rows_of = {i: probs[r, enc[i].pos - enc[i].context_start:] for r, i in enumerate(active)}
            for i in active:
                st = enc[i]
                rows = np.ascontiguousarray(rows_of[i][:cap], dtype=np.float32)
                count, exception = encode_window(st.x[st.pos:], rows, precision, b, cap, method.delay, buf,
                                                 finished, states)
                if count == DOES_NOT_FIT:
                    raise ValueError(f"{method.label}: byte {st.x[st.pos]} at offset {st.pos} needs more than "
                                     f"b={b} bits on its own; use a larger window_bits (>= precision + 2 = "
                                     f"{precision + 2} always fits)")
                if count == BAD_PROBS:
                    raise ValueError(f"source.probs gave an invalid distribution near offset {st.pos}")
                if exception:
                    st.exceptions.append((len(st.windows), int(count)))
                    st.exception_kinds.append(int(exception))
                st.windows.append(buf[:b].copy())
                st.starts.append(st.pos)
                st.counts.append(int(count))
                if return_symbol_bits:
                    st.symbol_bits.append(finished[:count].copy())
                st.pos += int(count)
        for i in chunk:
            results[i] = _finish_equal_info(enc[i], method, kept, cap, return_symbol_bits)
            bar.update()
    return results


def _finish_equal_info(st: _WindowEncoderState, method: MethodSpec, kept: int | None, cap: int,
                       return_symbol_bits: bool) -> Encoded:
    b = method.window_bits
    bits = np.concatenate(st.windows) if st.windows else np.zeros(0, np.uint8)
    n_complete = len(st.windows)
    if kept is not None and kept < bits.size:
        bits = bits[:kept]
        n_complete = kept // b
    num_bytes = int(sum(st.counts[:n_complete]))
    exceptions = [(w, c) for w, c in st.exceptions if w < n_complete]
    values = [num_bytes]
    if method.m1_reset == 0:
        values.append(st.x.size)
    values.append(len(exceptions))
    previous = 0
    for w, c in exceptions:
        values += [w - previous, c - 1]
        previous = w
    extra = {"window_starts": np.array(st.starts[:n_complete], dtype=np.int64)}
    if return_symbol_bits:
        extra["symbol_end_bits"] = (np.concatenate(st.symbol_bits[:n_complete]) if n_complete
                                    else np.zeros(0, np.int64))
    return _finish(bits, method, st.x[:num_bytes], values, **extra)


# ---------------------------------------------------------------------------------------- decoding
def decode_example(encoded: Encoded, method: MethodSpec, source: ProbabilitySource | None, *,
                   precision: int = 14, max_window_symbols: int | None = None) -> bytes:
    """Decompress one example; raises CorruptStreamError on anything inconsistent."""
    return decode_examples([encoded], method, source, precision=precision, batch_size=1,
                           max_window_symbols=max_window_symbols)[0]


def decode_examples(encoded_list: Sequence[Encoded], method: MethodSpec, source: ProbabilitySource | None, *,
                    precision: int = 14, batch_size: int = 64, max_window_symbols: int | None = None,
                    progress: bool = False) -> list[bytes]:
    """Decompress many examples in lock-step: one ``source.probs`` call per decoding step per batch.

    Results never depend on ``batch_size`` (rows of a source call depend only on their own prefix).
    """
    precision = _check_call(method, source, precision)
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    out: list[bytes | None] = [None] * len(encoded_list)
    if method.kind == "GZip":
        for i, e in enumerate(encoded_list):
            out[i] = _decode_gzip(e, method)
        return out
    cap = _window_cap(method, max_window_symbols) if method.kind == "EqualInfoAC" else 0
    states = []
    for e in encoded_list:
        bits = tokens_to_bits(e.tokens, method.token_bits, e.num_bits)
        reader = SideInfoReader(e.side_info)
        if method.kind == "EqualInfoAC":
            states.append(decoders.EqualInfoDecoder(bits, reader, method, precision, cap))
        else:
            states.append(decoders.StreamDecoder(bits, reader, precision))
    by_t: dict[int, list[int]] = {}
    for i, st in enumerate(states):
        by_t.setdefault(st.context_length, []).append(i)
    bar = tqdm(total=len(states), desc=f"decode {method.label}", disable=not progress, unit="ex")
    for t, idx in by_t.items():
        for chunk in _chunks(idx, batch_size):
            decoders.run_lockstep([states[i] for i in chunk], source, t, call_source)
            for i in chunk:
                out[i] = states[i].result()
                bar.update()
    bar.close()
    return out


def _decode_gzip(e: Encoded, method: MethodSpec) -> bytes:
    bits = tokens_to_bits(e.tokens, method.token_bits, e.num_bits)
    reader = SideInfoReader(e.side_info)
    num_bytes = reader.read()
    stream = np.packbits(bits[: bits.size // 8 * 8]).tobytes()
    data = gzip_prefix_bytes(stream, method.gzip_header)
    if len(data) < num_bytes:
        raise CorruptStreamError(f"GZip stream yields {len(data)} bytes, side information says {num_bytes}")
    data = data[:num_bytes]
    reader.check_crc(data)
    return data
