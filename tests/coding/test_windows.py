"""Equal-Info window properties: size, greedy maximality, the delay rule, exceptions, corruption."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nc.coding import (
    CorruptStreamError,
    decode_example,
    default_max_window_symbols,
    encode_examples,
    encode_with_cdfs,
    quantize_cdfs,
    tokens_to_bits,
)
from nc.methods import parse_method


def terminated(x: bytes, cdf: np.ndarray) -> np.ndarray:
    """The window bits a fresh coder gives ``x`` under a static CDF (unpacked)."""
    packed, n = encode_with_cdfs(np.frombuffer(x, np.uint8), np.tile(cdf, (len(x), 1)), 14)
    return np.unpackbits(packed)[:n]


def padded(bits: np.ndarray, b: int) -> np.ndarray:
    return np.concatenate([bits, np.zeros(b - bits.size, np.uint8)])


def windows_of(x, e, method):
    bits = tokens_to_bits(e.tokens, method.token_bits, e.num_bits)
    b = method.window_bits
    ends = list(e.window_starts[1:]) + [e.num_bytes]
    for w, (s, t) in enumerate(zip(e.window_starts, ends)):
        yield x[s:t], bits[w * b : (w + 1) * b], t


@pytest.mark.parametrize("b", [16, 24, 32, 64])
@settings(max_examples=5)
@given(start=st.integers(0, 50_000), length=st.integers(1, 1500))
def test_greedy_windows_are_full_and_maximal(b, start, length, english, unigram):
    method = parse_method(f"EqualInfoAC[b={b};v=256]")
    cdf = quantize_cdfs(unigram.unigram[None], 14)[0]
    x = english[start : start + length] or b"x"
    (e,) = encode_examples([x], method, unigram)
    cap = default_max_window_symbols(b)
    for text, window, end in windows_of(x, e, method):
        code = terminated(text, cdf)
        assert code.size <= b  # a window never exceeds b bits
        np.testing.assert_array_equal(window, padded(code, b))  # its bits are the zero-padded code
        if end < len(x) and len(text) < cap:
            assert terminated(x[end - len(text) : end + 1], cdf).size > b  # the next symbol would not fit


@pytest.mark.parametrize("b", [16, 32])
@settings(max_examples=5)
@given(start=st.integers(0, 50_000), length=st.integers(1, 1500))
def test_delay_windows_never_end_on_an_all_zero_symbol(b, start, length, english, unigram):
    method = parse_method(f"EqualInfoAC[b={b};v=256;delay]")
    cdf = quantize_cdfs(unigram.unigram[None], 14)[0]
    x = english[start : start + length] or b"x"
    (e,) = encode_examples([x], method, unigram)
    assert decode_example(e, method, unigram) == x
    for text, window, _ in windows_of(x, e, method):
        assert terminated(text, cdf).size <= b
        if len(text) > 1:
            assert not np.array_equal(padded(terminated(text[:-1], cdf), b), window)


def test_all_zero_symbols_are_handled():
    """Byte 0 as the most likely symbol encodes to zero bits: greedy windows rely on look-ahead."""
    from nc.coding import UnigramSource

    p = np.full(256, 1.0)
    p[0] = 5000.0
    source = UnigramSource(p)
    x = b"\x00" * 40 + b"a\x00\x00b" + b"\x00" * 300
    for label in ("EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=16;v=256;delay]", "EqualInfoAC[b=32;v=65k]"):
        method = parse_method(label)
        (e,) = encode_examples([x], method, source)
        assert decode_example(e, method, source) == x
        assert max(np.diff(list(e.window_starts) + [len(x)])) <= default_max_window_symbols(
            method.window_bits
        )  # the cap holds


def test_exceptions_are_recorded_and_needed(english, unigram):
    """Greedy windows that the look-ahead rule alone would misdecode carry side information."""
    method = parse_method("EqualInfoAC[b=16;v=256]")
    x = english[:4000]
    (e,) = encode_examples([x], method, unigram)
    assert e.side_info_bits > 40  # with ~1500 windows some exceptions occur (about 10%, docs/CODING.md)
    assert decode_example(e, method, unigram) == x
    # The count the compression stats report: each exception is in the side information.
    assert 0 < e.rule_exceptions < len(e.window_starts)
    assert e.side_info_bits >= 2 * e.rule_exceptions


CORRUPTIBLE = [
    "EqualInfoAC[b=16;v=256]",
    "EqualInfoAC[b=24;v=65k;delay]",
    "AC[v=256]",
    "StaticAC[v=65k]",
    "GZip[v=256]",
    "GZip[v=256;noheader]",
    "EqualInfoAC[b=16;v=256;reset=never]",
]


@pytest.mark.parametrize("label", CORRUPTIBLE)
@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1))
def test_corrupt_tokens_never_decode_silently(label, seed, english, unigram):
    method = parse_method(label)
    source = None if method.kind == "GZip" else unigram
    rng = np.random.default_rng(seed)
    start = int(rng.integers(0, 40_000))
    x = english[start : start + 700]
    (e,) = encode_examples([x], method, source)
    tokens = e.tokens.copy()
    i = int(rng.integers(0, tokens.size))
    tokens[i] ^= np.array(1 << int(rng.integers(0, method.token_bits)), dtype=tokens.dtype)
    bad = type(e)(**{**e.__dict__, "tokens": tokens})
    try:
        out = decode_example(bad, method, source)
    except CorruptStreamError:
        return
    assert out == x  # only a flip in the final token's padding can leave the stream intact


@pytest.mark.parametrize("label", CORRUPTIBLE)
def test_truncated_and_tampered_input_raises(label, english, unigram):
    method = parse_method(label)
    source = None if method.kind == "GZip" else unigram
    x = english[1000:1600]
    (e,) = encode_examples([x], method, source)
    fields = e.__dict__
    with pytest.raises(CorruptStreamError):
        decode_example(type(e)(**{**fields, "tokens": e.tokens[: e.tokens.size // 2]}), method, source)
    short_bits = (e.tokens.size // 2) * method.token_bits
    with pytest.raises(CorruptStreamError):
        decode_example(
            type(e)(**{**fields, "tokens": e.tokens[: e.tokens.size // 2], "num_bits": short_bits}), method, source
        )
    with pytest.raises(CorruptStreamError):
        decode_example(type(e)(**{**fields, "side_info": e.side_info[:2]}), method, source)
    tampered = bytes([e.side_info[0] ^ 0x40]) + e.side_info[1:]
    with pytest.raises(CorruptStreamError, match="CRC32"):
        decode_example(type(e)(**{**fields, "side_info": tampered}), method, source)
