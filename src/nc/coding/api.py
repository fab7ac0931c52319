"""Public coding API: compress examples with a method to fixed-width tokens and back.

See docs/CODING.md for the side information layout and the exactness argument.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from nc.coding import decoders
from nc.coding.engine import ContextPlan, EncodeError, Encoder
from nc.coding.errors import CorruptStreamError
from nc.coding.gzip import gzip_compress, gzip_prefix_bytes
from nc.coding.quantize import check_precision
from nc.coding.sideinfo import SideInfoReader, pack_side_info
from nc.coding.sources import ALPHABET_SIZE, ProbabilitySource, call_source
from nc.coding.tokens import bits_to_tokens, tokens_to_bits
from nc.coding.windows import NO_EXCEPTION, default_max_window_symbols
from nc.methods import PAPER_PRECISION, MethodSpec
from nc.sections import CodingConfig


@dataclass
class Encoded:
    """One compressed example.

    tokens: uint8 / uint16 ids of ``token_bits`` bits each (the last token zero-padded).
    num_bits: meaningful bits before the final token's padding.
    num_bytes: input bytes covered by ``tokens`` (= len(decode_example(...))).
    side_info: what the decoder needs beyond the tokens (CRC32 + gamma-coded integers, docs/CODING.md).
    side_info_bits: cost of the gamma-coded part in bits (the 32 checksum bits are not included).
    window_starts: EqualInfoAC: byte offset where each covered window starts.
    rule_exceptions: EqualInfoAC: covered windows the D.5 look-ahead rule alone would decode with the wrong
        number of bytes (each costs an exception in ``side_info``); 0 for other methods.
    symbol_end_bits: with ``return_symbol_bits``: per covered byte, the finished-now bit length after
        it (window-relative for EqualInfoAC, stream-relative for AC / StaticAC).
    emitted_bits: AC / StaticAC: the leading bits the coder had emitted after the last covered byte,
        before terminating the stream: the same for every text that starts with the covered bytes.
    """

    tokens: np.ndarray
    num_bits: int
    num_bytes: int
    side_info: bytes
    side_info_bits: int
    window_starts: np.ndarray | None = None
    rule_exceptions: int = 0
    symbol_end_bits: np.ndarray | None = None
    emitted_bits: int | None = None


# ------------------------------------------------------------------------------------------ checks
def _check_call(method: MethodSpec, source, precision: int) -> int:
    if not isinstance(method, MethodSpec):
        raise ValueError(f"method must be a MethodSpec (use nc.methods.parse_method), got {method!r}")
    if not method.is_bitstream:
        raise ValueError(
            f"{method.label} is a tokeniser, not a coder; nc.coding handles {('AC', 'StaticAC', 'EqualInfoAC', 'GZip')}"
        )
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


def _kept_bits(method: MethodSpec, max_tokens: int | None) -> int | None:
    if max_tokens is None:
        return None
    if not isinstance(max_tokens, (int, np.integer)) or max_tokens < 0:
        raise ValueError(f"max_tokens must be a non-negative integer or None, got {max_tokens!r}")
    return int(max_tokens) * method.fixed_token_bits


def _chunks(indices: list[int], size: int):
    for i in range(0, len(indices), size):
        yield indices[i : i + size]


# ---------------------------------------------------------------------------------------- encoding
def encode_examples(
    examples: Sequence[bytes],
    method: MethodSpec,
    source: ProbabilitySource | None,
    *,
    precision: int = PAPER_PRECISION,
    max_tokens: int | None = None,
    batch_size: int = CodingConfig.batch_size,
    progress: bool = False,
    return_symbol_bits: bool = False,
    max_window_symbols: int | None = None,
    plan: ContextPlan = ContextPlan.NONE,
    encoder: Encoder | None = None,
    threads: int | None = None,
) -> list[Encoded]:
    """Compress each example with ``method`` into ``token_bits``-bit tokens.

    AC / StaticAC: one arithmetic-coded stream per example. EqualInfoAC: greedy b-bit windows, one
    source call per window step for the active examples. The source's context lengths follow
    ``plan`` (``nc.coding.engine``: whole contexts by default, T = example length or the window cap
    ``max_window_symbols`` times m1_reset); ``batch_size`` is the rows per call unless the source says.
    With ``max_tokens``, exactly that many tokens are kept (fewer if the input runs out) and
    ``num_bytes`` counts only bytes fully determined by the kept bits.

    ``encoder`` (from ``make_encoder``) carries the calibrated ladder and counters across calls.
    """
    bar = tqdm(total=len(examples), desc=f"encode {method.label}", disable=not progress, unit="ex")
    chunks = encode_example_chunks(
        [examples],
        method,
        source,
        precision=precision,
        max_tokens=max_tokens,
        batch_size=batch_size,
        on_done=bar.update,
        return_symbol_bits=return_symbol_bits,
        max_window_symbols=max_window_symbols,
        plan=plan,
        encoder=encoder,
        threads=threads,
    )
    (results,) = list(chunks)
    bar.close()
    return results


def encode_example_chunks(
    chunks: Iterable[Sequence[bytes]],
    method: MethodSpec,
    source: ProbabilitySource | None,
    *,
    precision: int = PAPER_PRECISION,
    max_tokens: int | None = None,
    batch_size: int = CodingConfig.batch_size,
    on_done: Callable[[int], object] | None = None,
    return_symbol_bits: bool = False,
    max_window_symbols: int | None = None,
    plan: ContextPlan = ContextPlan.NONE,
    encoder: Encoder | None = None,
    threads: int | None = None,
) -> Iterator[list[Encoded]]:
    """``encode_examples`` of each chunk of a stream, yielded in order. EqualInfoAC window contexts code the
    stream without a break between chunks (``Encoder.encode_chunks``): a job that reads its examples a
    chunk at a time keeps the source's calls whole. ``on_done(n)``: n more examples are coded."""
    precision = _check_call(method, source, precision)
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    kept = _kept_bits(method, max_tokens)
    if method.kind == "GZip":
        for examples in chunks:
            results = [_encode_gzip(_as_array(e), method, kept) for e in examples]
            on_done and on_done(len(results))
            yield results
        return
    if encoder is None:
        assert source is not None  # _check_call: every method but GZip has a source
        encoder = make_encoder(
            method,
            source,
            precision=precision,
            max_tokens=max_tokens,
            batch_size=batch_size,
            max_window_symbols=max_window_symbols,
            plan=plan,
            threads=threads,
            return_symbol_bits=return_symbol_bits,
        )
    arrays_of = ([_as_array(e) for e in examples] for examples in chunks)
    pairs = _with_inputs(arrays_of, lambda stream: encoder.encode_chunks(stream, on_done=on_done))
    try:
        for coded, arrays in pairs:
            if method.kind == "EqualInfoAC":
                yield [
                    _finish_equal_info(r, a, method, kept, encoder, return_symbol_bits) for r, a in zip(coded, arrays)
                ]
            else:
                yield [_finish_stream(r, a, method, return_symbol_bits) for r, a in zip(coded, arrays)]
    except EncodeError as error:
        raise ValueError(str(error)) from None


def _with_inputs(inputs: Iterator[list], code: Callable[[Iterator[list]], Iterator[list]]) -> Iterator[tuple]:
    """(coded chunk, its inputs) for each chunk ``code`` yields from the stream ``inputs`` (in order)."""
    seen: deque[list] = deque()

    def remembered() -> Iterator[list]:
        for chunk in inputs:
            seen.append(chunk)
            yield chunk

    for coded in code(remembered()):
        yield coded, seen.popleft()


def make_encoder(
    method: MethodSpec,
    source: ProbabilitySource,
    *,
    precision: int = PAPER_PRECISION,
    max_tokens: int | None = None,
    batch_size: int = CodingConfig.batch_size,
    max_window_symbols: int | None = None,
    plan: ContextPlan = ContextPlan.NONE,
    threads: int | None = None,
    return_symbol_bits: bool = False,
    overlap: bool = True,
) -> Encoder:
    """An ``Encoder`` for repeated ``encode_examples(..., encoder=...)`` calls of one method and source."""
    cap = _window_cap(method, max_window_symbols) if method.kind == "EqualInfoAC" else 0
    return Encoder(
        method,
        source,
        call_source,
        precision=check_precision(precision, ALPHABET_SIZE),
        kept_bits=_kept_bits(method, max_tokens),
        batch_size=batch_size,
        cap=cap,
        plan=plan,
        threads=threads,
        return_symbol_bits=return_symbol_bits,
        overlap=overlap,
    )


def _window_cap(method: MethodSpec, max_window_symbols: int | None) -> int:
    if max_window_symbols is None:
        return default_max_window_symbols(method.fixed_window_bits)
    if not isinstance(max_window_symbols, (int, np.integer)) or max_window_symbols < 1:
        raise ValueError(f"max_window_symbols must be a positive integer, got {max_window_symbols!r}")
    return int(max_window_symbols)


def _finish(bits: np.ndarray, method: MethodSpec, covered: np.ndarray, values: list[int], **extra) -> Encoded:
    side_info, side_bits = pack_side_info(values, covered.tobytes())
    return Encoded(
        tokens=bits_to_tokens(bits, method.fixed_token_bits),
        num_bits=int(bits.size),
        num_bytes=int(covered.size),
        side_info=side_info,
        side_info_bits=side_bits,
        **extra,
    )


def _encode_gzip(x: np.ndarray, method: MethodSpec, kept: int | None) -> Encoded:
    stream = gzip_compress(x.tobytes(), method.gzip_header)
    bits = np.unpackbits(np.frombuffer(stream, dtype=np.uint8))
    num_bytes = x.size
    if kept is not None and kept < bits.size:
        bits = bits[:kept]
        num_bytes = len(gzip_prefix_bytes(stream[: kept // 8], method.gzip_header))
    return _finish(bits, method, x[:num_bytes], [num_bytes])


def _finish_stream(result, x: np.ndarray, method: MethodSpec, return_symbol_bits: bool) -> Encoded:
    """Side information of AC / StaticAC: (bytes covered, T of the source call)."""
    extra = {"symbol_end_bits": result.finished[: result.num_bytes].copy()} if return_symbol_bits else {}
    extra["emitted_bits"] = result.emitted_bits
    return _finish(result.bits, method, x[: result.num_bytes], [result.num_bytes, result.context_length], **extra)


def _finish_equal_info(
    result, x: np.ndarray, method: MethodSpec, kept: int | None, encoder: Encoder, return_symbol_bits: bool
) -> Encoded:
    """Side information of EqualInfoAC: bytes covered, then T (reset=never) or the context ladder's free
    rungs (reset=k: their count, then each), then the decoder-rule exceptions (docs/CODING.md)."""
    b = method.fixed_window_bits
    bits = result.windows.reshape(-1)
    n_complete = len(result.counts)
    if kept is not None and kept < bits.size:
        bits = bits[:kept]
        n_complete = kept // b
    num_bytes = int(result.counts[:n_complete].sum())
    exceptions = [(w, int(result.counts[w])) for w in np.flatnonzero(result.kinds[:n_complete] != NO_EXCEPTION)]
    values = [num_bytes]
    if method.m1_reset == 0:
        values.append(int(result.context_length))
    else:
        free = list(encoder.window_ladder()[:-1])
        values += [len(free), *free]
    values.append(len(exceptions))
    previous = 0
    for w, c in exceptions:
        values += [int(w) - previous, c - 1]
        previous = int(w)
    extra = {"window_starts": result.starts[:n_complete].astype(np.int64), "rule_exceptions": len(exceptions)}
    if return_symbol_bits:
        extra["symbol_end_bits"] = (
            np.concatenate(result.symbol_bits[:n_complete]).astype(np.int64) if n_complete else np.zeros(0, np.int64)
        )
    return _finish(bits, method, x[:num_bytes], values, **extra)


# ---------------------------------------------------------------------------------------- decoding
def decode_example(
    encoded: Encoded,
    method: MethodSpec,
    source: ProbabilitySource | None,
    *,
    precision: int = PAPER_PRECISION,
    max_window_symbols: int | None = None,
) -> bytes:
    """Decompress one example; raises CorruptStreamError on anything inconsistent."""
    return decode_examples(
        [encoded], method, source, precision=precision, batch_size=1, max_window_symbols=max_window_symbols
    )[0]


def decode_examples(
    encoded_list: Sequence[Encoded],
    method: MethodSpec,
    source: ProbabilitySource | None,
    *,
    precision: int = PAPER_PRECISION,
    batch_size: int = CodingConfig.batch_size,
    max_window_symbols: int | None = None,
    progress: bool = False,
) -> list[bytes]:
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
        return _all_decoded(out)
    cap = _window_cap(method, max_window_symbols) if method.kind == "EqualInfoAC" else 0
    states: list[decoders.EqualInfoDecoder | decoders.StreamDecoder] = []
    for e in encoded_list:
        bits = tokens_to_bits(e.tokens, method.fixed_token_bits, e.num_bits)
        reader = SideInfoReader(e.side_info)
        if method.kind == "EqualInfoAC":
            states.append(decoders.EqualInfoDecoder(bits, reader, method, precision, cap))
        else:
            states.append(decoders.StreamDecoder(bits, reader, precision))
    bar = tqdm(total=len(states), desc=f"decode {method.label}", disable=not progress, unit="ex")
    for chunk in _chunks(list(range(len(states))), batch_size):
        decoders.run_lockstep([states[i] for i in chunk], source, call_source)
        for i in chunk:
            out[i] = states[i].result()
            bar.update()
    bar.close()
    return _all_decoded(out)


def _all_decoded(out: list[bytes | None]) -> list[bytes]:
    missing = [i for i, o in enumerate(out) if o is None]
    if missing:
        raise RuntimeError(f"examples {missing[:5]} were never decoded")
    return [o for o in out if o is not None]


def _decode_gzip(e: Encoded, method: MethodSpec) -> bytes:
    bits = tokens_to_bits(e.tokens, method.fixed_token_bits, e.num_bits)
    reader = SideInfoReader(e.side_info)
    num_bytes = reader.read()
    stream = np.packbits(bits[: bits.size // 8 * 8]).tobytes()
    data = gzip_prefix_bytes(stream, method.gzip_header)
    if len(data) < num_bytes:
        raise CorruptStreamError(f"GZip stream yields {len(data)} bytes, side information says {num_bytes}")
    data = data[:num_bytes]
    reader.check_crc(data)
    return data
