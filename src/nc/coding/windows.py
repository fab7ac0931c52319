"""Equal-Info windows (Section 3.3, Appendix A.5, D.5): greedy b-bit arithmetic-coded windows.

Encoder (per window): arithmetic-code symbols from a fresh coder while the window's *terminated*
code (shortest terminating bitstring, see ``arithmetic``) fits in ``b`` bits; stop before the first
symbol that does not fit, at ``max_window_symbols`` symbols, or at the end of the input; emit that
terminated code zero-padded to exactly ``b`` bits. With ``delay`` (A.5) the window then backs off
while its last symbol added only zero bits (the padded window is unchanged without it), so a
window never ends on such a symbol (except a one-symbol window, which cannot shrink).

Decoder rule (D.5 look-ahead). Candidate symbol y_{n+1} is the symbol whose interval holds the
zero-padded window value; ``match(n)`` means the terminated code of y_1..y_n fits in b bits and,
zero-padded, reproduces the window.

* greedy: the window ends at the first n with match(n) and not match(n+1) ("keep including the
  next candidate while it still fits and pads to the same b bits"), or at the cap / end of input;
* delay: the window ends at the first n with match(n) (the fewest symbols reproducing the window).

Both rules need only the distribution of position n+1, which the encoder already holds, so the
encoder detects every window the rule would decode wrongly (the paper's windows are not always
decodable, D.5) and records ``(window index, symbol count)`` as an exception the decoder obeys.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from nc.coding.arithmetic import (
    decode_target,
    emit_bits,
    encode_interval,
    find_symbol,
    shortest_dyadic,
)
from nc.coding.quantize import BAD_ROW, quantize_row_into

# encode_window status codes
DOES_NOT_FIT = -1  # the first symbol alone needs more than b bits
BAD_PROBS = -2  # a probability row is not a distribution
# encode_window exception kinds
NO_EXCEPTION = 0
STOPS_EARLY = 1  # the rule would end the window before its last symbol
RUNS_ON = 2  # the rule would take the look-ahead candidate as one more symbol
NEEDS_ROWS = 3  # encode_window_batch: the window may go on past the probability rows it was given


def default_max_window_symbols(window_bits: int) -> int:
    """Cap on symbols per window: 2 * b, i.e. a window closes early only below half a bit per byte.

    Text coded with a context-reset M1 costs several bits per byte, so the cap is reached only on
    degenerate runs (e.g. long runs of one byte). It also fixes M1's input length T per window step:
    the model runs on T = cap positions, and attention costs grow with T squared, so a loose cap
    would make Equal-Info compression several times slower for nothing.
    """
    return 2 * int(window_bits)


def window_buffer_bits(window_bits: int, precision: int) -> int:
    """Scratch bits an encoder needs for one window (b plus what one rejected symbol can emit)."""
    return window_bits + 4 * (precision + 2) + 64


@njit(cache=True)
def window_matches(low, high, pending, nbits, window, last_one, state_bits):
    """match(n): the terminated code of this state fits the window and zero-pads to it.

    The emitted prefix of a state always agrees with the window (the window value lies inside the
    state's interval), so only the terminating bits and the zero tail are compared.
    """
    b = window.shape[0]
    k, v = shortest_dyadic(low, high, pending, state_bits)
    length = nbits + pending + k
    if length > b or last_one >= length:
        return False
    if k == 0:
        return True
    first = (v >> (state_bits - 1)) & 1
    if window[nbits] != first:
        return False
    for i in range(pending):
        if window[nbits + 1 + i] != 1 - first:
            return False
    for i in range(1, k):
        if window[nbits + pending + i] != (v >> (state_bits - 1 - i)) & 1:
            return False
    return True


@njit(cache=True)
def window_value(window, pending, nbits, state_bits):
    """Scaled decoder register for the zero-padded window value in a state (after E3 unfolding)."""
    b = window.shape[0]
    value = np.int64(window[nbits]) if nbits < b else np.int64(0)
    for i in range(state_bits - 1):
        pos = nbits + pending + 1 + i
        value = 2 * value + (window[pos] if pos < b else 0)
    return value


@njit(cache=True)
def last_one_index(window):
    for i in range(window.shape[0] - 1, -1, -1):
        if window[i]:
            return i
    return -1


@njit(cache=True)
def candidate_step(state, window, last_one, cdf, precision, scratch):
    """Decode the next candidate from the window value in ``state`` (low, high, pending, emitted).

    Returns (symbol, fits, matches, low, high, pending, emitted) of the state after the candidate.
    """
    state_bits = precision + 2
    low, high, pending, nbits = state[0], state[1], state[2], state[3]
    value = window_value(window, pending, nbits, state_bits)
    y = find_symbol(cdf, decode_target(low, high, value, precision))
    low, high, pending, nbits = encode_interval(
        low, high, pending, nbits, np.int64(cdf[y]), np.int64(cdf[y + 1]), precision, scratch
    )
    k, _ = shortest_dyadic(low, high, pending, state_bits)
    fits = nbits + pending + k <= window.shape[0]
    matches = fits and window_matches(low, high, pending, nbits, window, last_one, state_bits)
    return y, fits, matches, low, high, pending, nbits


@njit(cache=True)
def encode_window(symbols, probs, precision, window_bits, max_symbols, delay, out, finished, states):
    """Encode one Equal-Info window from ``symbols`` (the remaining input) with rows ``probs``.

    probs[j] is the distribution of symbols[j]; needs min(len(symbols), max_symbols) rows.
    Writes the b window bits to out[:b] and per-symbol finished-now lengths to ``finished``.
    Returns (count, exception, greedy): the symbols in the window, whether the decoder rule would get
    the count wrong (NO_EXCEPTION, STOPS_EARLY or RUNS_ON), and the greedy count before any delay
    back-off; count is DOES_NOT_FIT or BAD_PROBS on failure.
    """
    state_bits = precision + 2
    b = window_bits
    n_avail = min(symbols.shape[0], max_symbols)
    cdf = np.empty(probs.shape[1] + 1, dtype=np.int64)
    low = np.int64(0)
    high = (np.int64(1) << state_bits) - 1
    pending = 0
    nbits = 0
    states[0, 0] = low
    states[0, 1] = high
    states[0, 2] = 0
    states[0, 3] = 0
    j = 0
    while j < n_avail:
        if quantize_row_into(probs[j], precision, cdf) == BAD_ROW:
            return BAD_PROBS, NO_EXCEPTION, 0
        s = symbols[j]
        nlow, nhigh, npending, nnbits = encode_interval(low, high, pending, nbits, cdf[s], cdf[s + 1], precision, out)
        k, _ = shortest_dyadic(nlow, nhigh, npending, state_bits)
        if nnbits + npending + k > b:
            break  # cdf keeps row j: the decoder's look-ahead distribution
        low, high, pending, nbits = nlow, nhigh, npending, nnbits
        j += 1
        finished[j - 1] = nbits + pending + k
        states[j, 0] = low
        states[j, 1] = high
        states[j, 2] = pending
        states[j, 3] = nbits
    if j == 0:
        return DOES_NOT_FIT, NO_EXCEPTION, 0
    greedy_count = j
    # Terminate the greedy window and pad with zeros.
    _write_window(states, greedy_count, state_bits, b, out)
    window = out[:b]
    last_one = last_one_index(window)
    count = greedy_count
    if delay:
        while count > 1 and window_matches(
            states[count - 1, 0],
            states[count - 1, 1],
            states[count - 1, 2],
            states[count - 1, 3],
            window,
            last_one,
            state_bits,
        ):
            count -= 1
        if count != greedy_count:
            _write_window(states, count, state_bits, b, out)  # same b bits, rewritten from state
        # Decoder: first n with match(n).
        for n in range(1, count):
            if window_matches(states[n, 0], states[n, 1], states[n, 2], states[n, 3], window, last_one, state_bits):
                return count, STOPS_EARLY, greedy_count
        return count, NO_EXCEPTION, greedy_count
    # Greedy decoder: first n with match(n) and not match(n + 1), or the cap / end of input.
    prev = window_matches(states[1, 0], states[1, 1], states[1, 2], states[1, 3], window, last_one, state_bits)
    for n in range(1, count):
        nxt = window_matches(
            states[n + 1, 0], states[n + 1, 1], states[n + 1, 2], states[n + 1, 3], window, last_one, state_bits
        )
        if prev and not nxt:
            return count, STOPS_EARLY, greedy_count
        prev = nxt
    if count == n_avail:
        return count, NO_EXCEPTION, greedy_count  # decoder stops at the cap or at the end of input
    scratch = np.empty(window_bits + 4 * state_bits + 64, dtype=np.uint8)
    _, _, next_matches, _, _, _, _ = candidate_step(states[count], window, last_one, cdf, precision, scratch)
    return count, RUNS_ON if next_matches else NO_EXCEPTION, greedy_count


@njit(cache=True)
def _write_window(states, count, state_bits, b, out):
    low, high, pending, nbits = states[count, 0], states[count, 1], states[count, 2], states[count, 3]
    k, v = shortest_dyadic(low, high, pending, state_bits)
    if k > 0:
        nbits = emit_bits(out, nbits, (v >> (state_bits - 1)) & 1, pending)
        for i in range(1, k):
            out[nbits] = (v >> (state_bits - 1 - i)) & 1
            nbits += 1
    for i in range(nbits, b):
        out[i] = 0
    return nbits


@njit(cache=True, nogil=True, parallel=True)
def encode_window_batch(
    x,
    starts,
    stops,
    probs,
    which,
    first_row,
    rows_avail,
    precision,
    window_bits,
    max_symbols,
    delay,
    out_bits,
    counts,
    kinds,
    symbol_bits,
):
    """One window for each row r of a batch, in parallel threads (``encode_window`` per row).

    The window starts at byte ``x[starts[r]]`` of an example ending before ``x[stops[r]]``; the
    distribution of its j-th byte is ``probs[which[r], first_row[r] + j]``, valid for j < ``rows_avail[r]``.
    Writes the b window bits to ``out_bits[r]``, the symbol count (or DOES_NOT_FIT / BAD_PROBS) to
    ``counts[r]`` and the exception kind to ``kinds[r]``: NEEDS_ROWS when every given row was used and
    the window could go on (the caller supplies more rows and codes the window again). With a
    ``symbol_bits`` of ``max_symbols`` columns, per-byte finished-now lengths go there.
    """
    buffer_bits = window_bits + 4 * (precision + 2) + 64
    for r in prange(starts.shape[0]):
        limit = min(stops[r] - starts[r], max_symbols)
        avail = min(limit, rows_avail[r])
        out = np.zeros(buffer_bits, dtype=np.uint8)
        finished = np.zeros(max_symbols, dtype=np.int64)
        states = np.zeros((max_symbols + 1, 4), dtype=np.int64)
        symbols = x[starts[r] : starts[r] + avail]
        rows = probs[which[r], first_row[r] : first_row[r] + avail]
        count, kind, greedy = encode_window(
            symbols, rows, precision, window_bits, max_symbols, delay, out, finished, states
        )
        out_bits[r, :] = out[:window_bits]
        counts[r] = count
        kinds[r] = NEEDS_ROWS if (count > 0 and greedy == avail and avail < limit) else kind
        if symbol_bits.shape[1] == max_symbols and count > 0:
            symbol_bits[r, :count] = finished[:count]


@njit(cache=True, nogil=True, parallel=True)
def fill_segments(x, starts, stops, out):
    """``out[r] = x[starts[r]:stops[r]]`` cut or zero-padded to ``out.shape[1]`` bytes (M1's input rows)."""
    for r in prange(out.shape[0]):
        n = min(out.shape[1], stops[r] - starts[r])
        for j in range(n):
            out[r, j] = x[starts[r] + j]
        for j in range(n, out.shape[1]):
            out[r, j] = 0
