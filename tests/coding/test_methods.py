"""Round trips of every method over arbitrary bytes, batching independence and max_tokens trimming."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nc.coding import decode_example, decode_examples, default_max_window_symbols, encode_examples
from nc.methods import parse_method

MODEL_METHODS = [
    "AC[v=256]",
    "AC[v=65k]",
    "StaticAC[v=256]",
    "StaticAC[v=65k]",
    "EqualInfoAC[b=16;v=256]",
    "EqualInfoAC[b=16;v=65k]",
    "EqualInfoAC[b=24;v=65k]",
    "EqualInfoAC[b=32;v=256]",
    "EqualInfoAC[b=64;v=256]",
    "EqualInfoAC[b=128;v=65k]",
    "EqualInfoAC[b=16;v=256;delay]",
    "EqualInfoAC[b=32;v=65k;delay]",
    "EqualInfoAC[b=16;v=256;reset=2]",
    "EqualInfoAC[b=16;v=65k;reset=3;delay]",
    "EqualInfoAC[b=16;v=256;reset=never]",
    "EqualInfoAC[b=20;v=128]",
    "EqualInfoAC[b=17;v=8]",
]
GZIP_METHODS = ["GZip[v=256]", "GZip[v=65k]", "GZip[v=256;noheader]", "GZip[v=2;noheader]"]

SPECIAL = [b"", b"a", b"\x00" * 300, b"\xff" * 200, bytes(range(256)), "naïve café — 東京 ✓ Ünïcödé".encode() * 3]


def round_trip(examples, method, source, **kw):
    encoded = encode_examples(examples, method, source, batch_size=3, **kw)
    decoded = decode_examples(encoded, method, source, batch_size=2)
    for x, e, d in zip(examples, encoded, decoded):
        assert d == x[: e.num_bytes]
        if kw.get("max_tokens") is None:
            assert e.num_bytes == len(x)
        assert e.num_bits <= e.tokens.size * method.token_bits < e.num_bits + method.token_bits
    return encoded


@pytest.mark.parametrize("label", MODEL_METHODS)
def test_special_inputs(label, unigram, bigram, english):
    method = parse_method(label)
    examples = SPECIAL + [english[:1500], english[7000:7700]]
    round_trip(examples, method, unigram)
    round_trip(examples[:4] + examples[-1:], method, bigram)


@pytest.mark.parametrize("label", GZIP_METHODS)
def test_gzip_special_inputs(label, english):
    round_trip(SPECIAL + [english[:5000]], parse_method(label), None)


@pytest.mark.parametrize("label", MODEL_METHODS + GZIP_METHODS)
@settings(max_examples=6)
@given(data=st.lists(st.binary(max_size=400), min_size=1, max_size=3), use_bigram=st.booleans())
@example(data=[b"\x00" * 64, b"\xff" * 64], use_bigram=False)
def test_arbitrary_bytes(label, data, use_bigram, unigram, bigram):
    method = parse_method(label)
    source = None if method.kind == "GZip" else (bigram if use_bigram else unigram)
    round_trip(data, method, source)


@pytest.mark.parametrize("label", MODEL_METHODS + GZIP_METHODS)
@settings(max_examples=6)
@given(start=st.integers(0, 50_000), length=st.integers(0, 2500), max_tokens=st.integers(0, 90))
def test_max_tokens_trimming(label, start, length, max_tokens, english, unigram):
    method = parse_method(label)
    source = None if method.kind == "GZip" else unigram
    x = english[start : start + length]
    (e,) = round_trip([x], method, source, max_tokens=max_tokens)
    full = encode_examples([x], method, source)[0]
    assert e.tokens.size == min(max_tokens, full.tokens.size)
    whole = max(e.tokens.size - 1, 0)  # the last kept token may differ only in its zero padding
    np.testing.assert_array_equal(e.tokens[:whole], full.tokens[:whole])
    assert decode_example(e, method, source) == x[: e.num_bytes]
    if method.kind == "EqualInfoAC" and e.window_starts is not None:
        # Only complete windows count: b=24 with 16-bit tokens leaves a window straddling the cut.
        assert len(e.window_starts) == min(e.num_bits // method.window_bits, len(full.window_starts))


def test_long_english(english, unigram, bigram):
    x = english[:20_000]
    for label in ("EqualInfoAC[b=16;v=65k]", "EqualInfoAC[b=64;v=256;delay]", "StaticAC[v=256]"):
        method = parse_method(label)
        (e,) = round_trip([x], method, unigram)
        assert 8 * len(x) / e.num_bits > 1.3  # English compresses under its unigram distribution


def test_batch_size_does_not_change_anything(english, bigram):
    examples = [english[i * 311 : (i + 1) * 311 + i] for i in range(9)]
    for label in ("EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=16;v=256;reset=2]", "AC[v=256]"):
        method = parse_method(label)
        a = encode_examples(examples, method, bigram, batch_size=64)
        b = encode_examples(examples, method, bigram, batch_size=2)
        for ea, eb in zip(a, b):
            np.testing.assert_array_equal(ea.tokens, eb.tokens)
            assert ea.side_info == eb.side_info
        for bs in (1, 7):
            assert decode_examples(a, method, bigram, batch_size=bs) == examples


def test_source_is_called_once_per_window_step(english, unigram):
    calls = []

    class Counting:
        alphabet_size = 256

        def probs(self, segments):
            calls.append(segments.shape)
            return unigram.probs(segments)

    method = parse_method("EqualInfoAC[b=16;v=256]")
    examples = [english[:400], english[400:700], english[700:750]]
    encoded = encode_examples(examples, method, Counting(), batch_size=64)
    assert len(calls) == max(len(e.window_starts) for e in encoded)
    cap = default_max_window_symbols(16)  # T is the window cap on every call
    assert calls[0] == (3, cap) and all(t == cap for _, t in calls)


def test_symbol_end_bits(english, unigram):
    x = english[:600]
    e = encode_examples([x], parse_method("EqualInfoAC[b=16;v=256]"), unigram, return_symbol_bits=True)[0]
    assert e.symbol_end_bits.shape == (len(x),) and e.symbol_end_bits.max() <= 16
    starts = e.window_starts
    for w, s in enumerate(starts):
        end = starts[w + 1] if w + 1 < len(starts) else len(x)
        assert (np.diff(e.symbol_end_bits[s:end]) >= 0).all()  # finished-now length never shrinks
    ac = encode_examples([x], parse_method("AC[v=256]"), unigram, return_symbol_bits=True)[0]
    assert ac.symbol_end_bits[-1] == ac.num_bits


def test_clear_errors(unigram):
    with pytest.raises(ValueError, match="needs more than b=8 bits"):
        encode_examples([b"\xfe\xfe"], parse_method("EqualInfoAC[b=8;v=256]"), unigram)
    with pytest.raises(ValueError, match="GZip takes no probability source"):
        encode_examples([b"x"], parse_method("GZip[v=256]"), unigram)
    with pytest.raises(ValueError, match="needs a ProbabilitySource"):
        encode_examples([b"x"], parse_method("AC[v=256]"), None)
    with pytest.raises(ValueError, match="tokeniser"):
        encode_examples([b"x"], parse_method("Bytes"), None)
    with pytest.raises(ValueError, match="max_tokens"):
        encode_examples([b"x"], parse_method("AC[v=256]"), unigram, max_tokens=-1)
    with pytest.raises(ValueError, match="examples must be bytes"):
        encode_examples(["text"], parse_method("AC[v=256]"), unigram)


@pytest.mark.parametrize("label", MODEL_METHODS)
@pytest.mark.parametrize("max_tokens", [None, 9, 40])
def test_context_ladders_change_no_token_under_a_length_blind_source(label, max_tokens, english, bigram):
    """A bigram's rows do not depend on the call length T, so any context ladder must give the tokens of
    whole contexts; short rungs force the re-coding from longer ones (escalation) on purpose."""
    from nc.coding import ContextPlan, make_encoder

    method = parse_method(label)
    examples = [english[i * 173 : i * 173 + 40 + (i * 97) % 700] for i in range(12)] + [b"", b"\x00" * 90]
    whole = encode_examples(examples, method, bigram, max_tokens=max_tokens)
    cap = default_max_window_symbols(method.window_bits) if method.kind == "EqualInfoAC" else 0
    plans = [ContextPlan("auto", length_step=16)]
    if method.kind == "EqualInfoAC" and method.m1_reset:
        plans.append(ContextPlan("fixed", rungs=(2, 3, cap * method.m1_reset - 1)))
    else:
        plans.append(ContextPlan("fixed", rungs=(16, 48), length_step=16))
    for plan in plans:
        encoder = make_encoder(method, bigram, max_tokens=max_tokens, batch_size=4, plan=plan)
        got = encode_examples(examples, method, bigram, max_tokens=max_tokens, encoder=encoder)
        for w, g in zip(whole, got):
            np.testing.assert_array_equal(w.tokens, g.tokens)
            assert w.num_bytes == g.num_bytes
        assert decode_examples(got, method, bigram, batch_size=5) == [x[: g.num_bytes] for x, g in zip(examples, got)]
        if plan.mode == "fixed" and max_tokens == 40:
            assert encoder.stats.escalations > 0
