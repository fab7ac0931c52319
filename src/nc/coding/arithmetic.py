"""Binary arithmetic coder with integer registers (Witten, Neal & Cleary, 1987).

State: ``low``/``high`` registers of ``precision + 2`` bits, E1/E2/E3 renormalisation with a count of
pending ("follow") bits. Each symbol's interval comes from an integer CDF with total
``2**precision`` (see ``quantize``). Output is bit-granular.

Termination emits the *shortest* bitstring whose dyadic interval lies inside the final interval
(lowest such string on ties), so a decoder that reads zeros past the end decodes correctly. The
length the stream would have if finished after a symbol ("finished-now" length) is
``emitted + pending + k`` where ``k`` (0..3) is the length of that shortest dyadic in the scaled
registers; Equal-Info windows use it to decide what fits.

Bits are handled unpacked inside kernels (one uint8 0/1 per bit) and packed MSB-first (np.packbits)
at the API boundary.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from nc.coding.quantize import check_precision, symbol_interval
from nc.methods import PAPER_PRECISION


@njit(cache=True, inline="always")
def emit_bits(out, nbits, bit, pending):
    """Write ``bit`` then ``pending`` copies of its complement; returns the new bit count.

    Writes past the end of ``out`` are counted but dropped (callers size ``out`` so that only
    bits they will discard can fall off).
    """
    if nbits < out.shape[0]:
        out[nbits] = bit
    nbits += 1
    for _ in range(pending):
        if nbits < out.shape[0]:
            out[nbits] = 1 - bit
        nbits += 1
    return nbits


@njit(cache=True, inline="always")
def encode_interval(low, high, pending, nbits, c_lo, c_hi, precision, out):
    """Narrow [low, high] to the sub-interval [c_lo, c_hi) / 2**precision and renormalise.

    Returns (low, high, pending, nbits). Emitted bits go to ``out`` starting at ``nbits``.
    """
    state_bits = precision + 2
    half = np.int64(1) << (state_bits - 1)
    quarter = half >> 1
    rng = high - low + 1
    high = low + ((rng * c_hi) >> precision) - 1
    low = low + ((rng * c_lo) >> precision)
    while True:
        if high < half:
            nbits = emit_bits(out, nbits, 0, pending)
            pending = 0
        elif low >= half:
            nbits = emit_bits(out, nbits, 1, pending)
            pending = 0
            low -= half
            high -= half
        elif low >= quarter and high < 3 * quarter:
            pending += 1
            low -= quarter
            high -= quarter
        else:
            break
        low = 2 * low
        high = 2 * high + 1
    return low, high, pending, nbits


@njit(cache=True, inline="always")
def shortest_dyadic(low, high, pending, state_bits):
    """Shortest k and lowest aligned value v with [v, v + 2**(state_bits-k)) inside [low, high + 1).

    With pending bits k >= 1: a pending (E3) bit is only settled by the bit that follows it, so an
    interval that renormalised to the full register still needs one bit.
    """
    for k in range(1 if pending > 0 else 0, state_bits + 1):
        shift = state_bits - k
        step = np.int64(1) << shift
        v = ((low + step - 1) >> shift) << shift
        if v + step <= high + 1:
            return k, v
    return state_bits + 1, low  # unreachable: a one-unit interval always holds [low, low + 1)


@njit(cache=True, inline="always")
def finished_length(low, high, pending, nbits, state_bits):
    """Bits the stream would have if terminated in this state."""
    k, _ = shortest_dyadic(low, high, pending, state_bits)
    return nbits + pending + k


@njit(cache=True)
def terminate(low, high, pending, nbits, state_bits, out):
    """Append the shortest terminating bitstring; returns the final bit count."""
    k, v = shortest_dyadic(low, high, pending, state_bits)
    if k > 0:
        nbits = emit_bits(out, nbits, (v >> (state_bits - 1)) & 1, pending)
        for i in range(1, k):
            if nbits < out.shape[0]:
                out[nbits] = (v >> (state_bits - 1 - i)) & 1
            nbits += 1
    return nbits


@njit(cache=True, inline="always")
def find_symbol(cdf, value):
    """Largest s with cdf[s] <= value (binary search over a non-decreasing CDF)."""
    lo = 0
    hi = cdf.shape[0] - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if cdf[mid] <= value:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def decode_target(low, high, value, precision):
    """Cumulative count whose symbol interval holds ``value`` (WNC decoding rule)."""
    rng = high - low + 1
    return (((value - low + 1) << precision) - 1) // rng


def max_stream_bits(num_symbols: int, precision: int) -> int:
    """Upper bound on the bits a stream of ``num_symbols`` can take (each symbol: <= precision + 1)."""
    return num_symbols * (precision + 1) + precision + 8


@njit(cache=True)
def _encode_cdfs_kernel(symbols, cdfs, precision, out, finished):
    state_bits = precision + 2
    low = np.int64(0)
    high = (np.int64(1) << state_bits) - 1
    pending = 0
    nbits = 0
    for i in range(symbols.shape[0]):
        s = symbols[i]
        low, high, pending, nbits = encode_interval(
            low, high, pending, nbits, np.int64(cdfs[i, s]), np.int64(cdfs[i, s + 1]), precision, out
        )
        finished[i] = finished_length(low, high, pending, nbits, state_bits)
    return terminate(low, high, pending, nbits, state_bits, out)


@njit(cache=True, nogil=True)
def _encode_probs_kernel(symbols, probs, precision, out, finished, states):
    """Quantise row i and encode symbol i, fused; returns final bit count or -(bad row + 1).

    Only symbol i's interval of row i is computed (``symbol_interval``): no CDF is built.
    """
    state_bits = precision + 2
    wide = np.empty(probs.shape[1], dtype=np.float64)
    low = np.int64(0)
    high = (np.int64(1) << state_bits) - 1
    pending = 0
    nbits = 0
    for i in range(symbols.shape[0]):
        c_lo, c_hi = symbol_interval(probs[i], wide, symbols[i], precision)
        if c_lo < 0:
            return -(i + 1)
        low, high, pending, nbits = encode_interval(low, high, pending, nbits, c_lo, c_hi, precision, out)
        finished[i] = finished_length(low, high, pending, nbits, state_bits)
        states[i, 0] = low
        states[i, 1] = high
        states[i, 2] = pending
        states[i, 3] = nbits
    return terminate(low, high, pending, nbits, state_bits, out)


@njit(cache=True)
def read_bit(bits, num_bits, i):
    return bits[i] if i < num_bits else 0


@njit(cache=True)
def decode_step(low, high, value, pos, bits, num_bits, cdf, precision):
    """Decode one symbol with ``cdf`` from the decoder state; returns (symbol, low, high, value, pos).

    ``value`` holds the state_bits stream bits from ``pos - state_bits``; bits past ``num_bits`` read as 0.
    """
    state_bits = precision + 2
    half = np.int64(1) << (state_bits - 1)
    quarter = half >> 1
    s = find_symbol(cdf, decode_target(low, high, value, precision))
    rng = high - low + 1
    high = low + ((rng * np.int64(cdf[s + 1])) >> precision) - 1
    low = low + ((rng * np.int64(cdf[s])) >> precision)
    while True:
        if high < half:
            pass
        elif low >= half:
            low -= half
            high -= half
            value -= half
        elif low >= quarter and high < 3 * quarter:
            low -= quarter
            high -= quarter
            value -= quarter
        else:
            break
        low = 2 * low
        high = 2 * high + 1
        value = 2 * value + read_bit(bits, num_bits, pos)
        pos += 1
    return s, low, high, value, pos


@njit(cache=True)
def _decode_cdfs_kernel(bits, num_bits, cdfs, precision, symbols):
    state_bits = precision + 2
    low = np.int64(0)
    high = (np.int64(1) << state_bits) - 1
    value = np.int64(0)
    pos = 0
    for _ in range(state_bits):
        value = 2 * value + read_bit(bits, num_bits, pos)
        pos += 1
    for i in range(symbols.shape[0]):
        symbols[i], low, high, value, pos = decode_step(low, high, value, pos, bits, num_bits, cdfs[i], precision)


def _symbols_array(symbols, alphabet_size: int) -> np.ndarray:
    symbols = np.ascontiguousarray(symbols).astype(np.int64, copy=False)
    if symbols.ndim != 1:
        raise ValueError(f"symbols must be 1-D, got shape {symbols.shape}")
    if symbols.size and (symbols.min() < 0 or symbols.max() >= alphabet_size):
        raise ValueError(f"symbols must lie in [0, {alphabet_size}), got range [{symbols.min()}, {symbols.max()}]")
    return symbols


@njit(cache=True)
def _first_bad_cdf_row(cdfs, total):
    """First row that does not start at 0, end at ``total`` and rise by >= 1 per symbol; -1 if none."""
    for r in range(cdfs.shape[0]):
        row = cdfs[r]
        rising = True
        for i in range(row.shape[0] - 1):
            rising &= np.int64(row[i + 1]) - np.int64(row[i]) >= 1  # type: ignore[assignment]  # branch-free: vectorises
        if row[0] != 0 or row[row.shape[0] - 1] != total or not rising:
            return r
    return -1


def _check_cdfs(cdfs: np.ndarray, n: int, precision: int) -> np.ndarray:
    cdfs = np.ascontiguousarray(cdfs)
    if cdfs.ndim != 2 or cdfs.shape[0] != n or cdfs.shape[1] < 3:
        raise ValueError(f"cdfs must have shape [{n}, A+1], got {cdfs.shape}")
    if cdfs.dtype.kind not in "iu":
        raise ValueError(f"cdfs must hold integers, got dtype {cdfs.dtype}")
    bad = _first_bad_cdf_row(cdfs, 2**precision)
    if bad >= 0:
        raise ValueError(
            f"cdfs must start at 0, end at 2**{precision} and give every symbol a count >= 1 (row {bad} does not)"
        )
    return cdfs


def encode_with_cdfs(symbols, cdfs, precision: int = PAPER_PRECISION, *, return_finished_lengths: bool = False):
    """Arithmetic-code ``symbols`` [N] with per-position integer CDFs [N, A+1] (total 2**precision).

    Returns (packed bits np.uint8 MSB-first, num_bits), plus int64 [N] finished-now lengths (bits the
    stream would have if terminated right after symbol i) when ``return_finished_lengths``.
    """
    precision = check_precision(precision, 2)
    cdfs = _check_cdfs(cdfs, len(symbols), precision)
    symbols = _symbols_array(symbols, cdfs.shape[1] - 1)
    out = np.zeros(max_stream_bits(len(symbols), precision), dtype=np.uint8)
    finished = np.empty(len(symbols), dtype=np.int64)
    num_bits = _encode_cdfs_kernel(symbols, cdfs, precision, out, finished)
    packed = np.packbits(out[:num_bits])
    return (packed, int(num_bits), finished) if return_finished_lengths else (packed, int(num_bits))


def finished_bit_lengths(symbols, cdfs, precision: int = PAPER_PRECISION) -> np.ndarray:
    """Finished-now stream length after each symbol (int64 [N]); the last equals the encoded length."""
    return encode_with_cdfs(symbols, cdfs, precision, return_finished_lengths=True)[2]


def encode_with_probs(symbols, probs, precision: int = PAPER_PRECISION):
    """Quantise and encode in one pass (no [N, A+1] CDF array).

    Returns (unpacked bits uint8 [num_bits], finished int64 [N], states int64 [N, 4]) where
    states[i] = (low, high, pending, emitted) after symbol i.
    """
    probs = np.ascontiguousarray(probs, dtype=np.float32)
    if probs.ndim != 2 or probs.shape[0] != len(symbols):
        raise ValueError(f"probs must have shape [{len(symbols)}, A], got {probs.shape}")
    precision = check_precision(precision, probs.shape[1])
    symbols = _symbols_array(symbols, probs.shape[1])
    out = np.zeros(max_stream_bits(len(symbols), precision), dtype=np.uint8)
    finished = np.empty(len(symbols), dtype=np.int64)
    states = np.empty((len(symbols), 4), dtype=np.int64)
    num_bits = _encode_probs_kernel(symbols, probs, precision, out, finished, states)
    if num_bits < 0:
        raise ValueError(f"probability row {-num_bits - 1} is not a valid distribution")
    return out[:num_bits], finished, states


def decode_with_cdfs(packed_bits, num_bits: int, cdfs, precision: int = PAPER_PRECISION) -> np.ndarray:
    """Decode len(cdfs) symbols from a packed MSB-first bitstream (bits past ``num_bits`` read as 0)."""
    precision = check_precision(precision, 2)
    cdfs = _check_cdfs(cdfs, len(cdfs), precision)
    bits = np.unpackbits(np.asarray(packed_bits, dtype=np.uint8))
    if num_bits < 0 or num_bits > bits.size:
        raise ValueError(f"num_bits={num_bits} does not fit in {len(packed_bits)} packed bytes")
    symbols = np.empty(cdfs.shape[0], dtype=np.int64)
    _decode_cdfs_kernel(bits, num_bits, cdfs, precision, symbols)
    return symbols


@njit(cache=True, nogil=True)
def _prefix_covered_kernel(bits, states, kept_bits, precision):
    state_bits = precision + 2
    covered = 0
    for n in range(states.shape[0]):
        low, high, pending, nbits = states[n, 0], states[n, 1], states[n, 2], states[n, 3]
        m = kept_bits - nbits - pending  # scaled-register bits the kept prefix fixes
        if m < 1:
            break
        value = np.int64(bits[nbits])
        for i in range(1, min(m, state_bits)):
            value = 2 * value + bits[nbits + pending + i]
        if m >= state_bits:
            if not (low <= value <= high):
                break
        else:
            shift = state_bits - m
            if not (value << shift >= low and (value + 1) << shift <= high + 1):
                break
        covered = n + 1
    return covered


def prefix_covered_symbols(
    bits: np.ndarray, states: np.ndarray, kept_bits: int, precision: int = PAPER_PRECISION
) -> int:
    """Symbols fully determined by the first ``kept_bits`` bits of a terminated stream.

    Symbol n counts when the dyadic interval of the kept prefix lies inside the coder's interval
    after symbol n, so any continuation (zeros included) decodes symbols 0..n identically.
    ``bits`` are the unpacked stream, ``states`` the per-symbol states from ``encode_with_probs``.
    """
    return int(_prefix_covered_kernel(np.asarray(bits, dtype=np.uint8), states, int(kept_bits), precision))


@njit(cache=True, nogil=True, parallel=True)
def encode_stream_batch(x, starts, lengths, probs, precision, out, num_bits, finished, states):
    """Arithmetic-code ``x[starts[r]:starts[r] + lengths[r]]`` with rows ``probs[r, :lengths[r]]``, in parallel
    threads: stream bits to ``out[r]``, bit count (or -(bad row + 1)) to ``num_bits[r]``, per-symbol
    finished-now lengths and states to ``finished[r]`` / ``states[r]`` (see ``encode_with_probs``)."""
    for r in prange(starts.shape[0]):
        n = lengths[r]
        num_bits[r] = _encode_probs_kernel(
            x[starts[r] : starts[r] + n], probs[r, :n], precision, out[r], finished[r, :n], states[r, :n]
        )
