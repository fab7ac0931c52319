"""Decoding streams that grow token by token (``nc.coding.streaming``): the bytes shown are the ones the
bits determine, every decoded Equal-Info window codes back to its bits, and no sampled stream crashes."""

import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nc.coding import encode_examples, gzip_compress, tokens_to_bits
from nc.coding.api import call_source
from nc.coding.decoders import run_lockstep
from nc.coding.streaming import GzipStreamDecoder, PrefixStreamDecoder, WindowStreamDecoder, context_ladder
from nc.coding.windows import default_max_window_symbols
from nc.methods import parse_method

AC = parse_method("AC[v=256]")
WINDOW_METHODS = ["EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=32;v=65k]", "EqualInfoAC[b=16;v=256;delay]"]


def _prefix_decoder():
    return PrefixStreamDecoder(14, context_ladder(4096, 64))


def _push(decoder, source, bits):
    decoder.push(bits)
    run_lockstep([decoder], source, call_source)


def _stream_bits(text, source):
    encoded = encode_examples([text], AC, source)[0]
    return tokens_to_bits(encoded.tokens, 8, encoded.num_bits)


def test_context_ladder_doubles_up_to_the_longest_context():
    assert context_ladder(300, 64) == (64, 128, 256, 512)
    assert context_ladder(64, 64) == (64,)


def test_prefix_decoder_shows_exactly_the_bytes_the_pushed_bits_determine(english, bigram):
    """After each token: the bytes shown are a prefix of the text, never fewer than before; once the
    terminated stream is in, all of them. The bits emitted for a prefix of the text show that prefix."""
    text = english[:600]
    bits = _stream_bits(text, bigram)
    decoder, shown = _prefix_decoder(), b""
    for end in range(8, bits.size + 8, 8):
        _push(decoder, bigram, bits[end - 8 : end])
        assert bytes(decoder.out).startswith(shown)
        shown = bytes(decoder.out)
        assert shown == text[: len(shown)]
    assert shown == text
    head = encode_examples([text[:300]], AC, bigram)[0]
    assert 0 < head.emitted_bits < head.num_bits
    np.testing.assert_array_equal(bits[: head.emitted_bits], _stream_bits(text[:300], bigram)[: head.emitted_bits])


@given(st.binary(min_size=1, max_size=60), st.binary(min_size=1, max_size=30), st.binary(min_size=1, max_size=30))
def test_prefix_decoder_output_holds_for_every_continuation(bigram, head, tail_a, tail_b):
    """Random bits (any sampled stream): what is shown for a prefix is shown by both its continuations,
    and equals a decode that sees the same bits at once."""
    bits = [np.unpackbits(np.frombuffer(part, np.uint8)) for part in (head, tail_a, tail_b)]
    shown = {}
    for name, parts in {"head": [bits[0]], "a": [bits[0], bits[1]], "b": [bits[0], bits[2]]}.items():
        decoder = _prefix_decoder()
        for part in parts:
            for i in range(0, part.size, 8):
                _push(decoder, bigram, part[i : i + 8])
        shown[name] = bytes(decoder.out)
    assert shown["a"].startswith(shown["head"]) and shown["b"].startswith(shown["head"])
    at_once = _prefix_decoder()
    _push(at_once, bigram, np.concatenate(bits[:2]))
    assert bytes(at_once.out) == shown["a"]


def test_prefix_decoder_agrees_with_the_encoders_count_of_covered_bytes(english, unigram):
    """Cut after ``kept`` tokens, the stream determines the bytes the encoder counts as covered."""
    text = english[1000:1400]
    bits = _stream_bits(text, unigram)
    for kept in (1, 8, 25, 60):
        covered = encode_examples([text], AC, unigram, max_tokens=kept)[0].num_bytes
        decoder = _prefix_decoder()
        _push(decoder, unigram, bits[: 8 * kept])
        assert bytes(decoder.out) == text[:covered]


def _window_decoder(method, prompt=b"", starts=()):
    cap = default_max_window_symbols(method.fixed_window_bits)
    rungs = (cap * method.m1_reset,) if method.m1_reset else context_ladder(8192, 64)
    return WindowStreamDecoder(method, 14, cap, rungs, prompt, starts)


def _windows_of(text, method, source):
    encoded = encode_examples([text], method, source)[0]
    bits = tokens_to_bits(encoded.tokens, method.fixed_token_bits, encoded.num_bits)
    return bits.reshape(-1, method.fixed_window_bits), encoded


@pytest.mark.parametrize(
    "label", ["EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=32;v=65k]", "EqualInfoAC[b=16;v=256;delay]"]
)
def test_window_decoder_reads_real_windows_back(english, bigram, label):
    """Windows of real text, pushed one at a time, decode to it wherever the look-ahead rule is right
    (the encoder records where it is not: ``rule_exceptions``)."""
    method = parse_method(label)
    windows, encoded = _windows_of(english[:800], method, bigram)
    decoder = _window_decoder(method)
    for window in windows:
        decoder.push(window)
        run_lockstep([decoder], bigram, call_source)
    assert len(decoder.windows) == len(windows)
    starts = list(encoded.window_starts) + [800]
    right = [w.text == english[starts[w.index] : starts[w.index + 1]] for w in decoder.windows[: len(windows) - 1]]
    assert sum(not r for r in right) <= encoded.rule_exceptions
    if encoded.rule_exceptions == 0:
        assert bytes(decoder.out) == english[:800]


@pytest.mark.parametrize("label", ["EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=16;v=256;delay]"])
def test_every_decoded_random_window_codes_back_to_its_bits(english, bigram, label):
    """Sampled windows: those the rule decodes give text whose encoding alone is that window; the rest
    are dropped and counted, nothing raises."""
    method = parse_method(label)
    rng = np.random.default_rng(7)
    real, _ = _windows_of(english[:400], method, bigram)
    pushed = [real[i] if i % 2 else rng.integers(0, 2, 16).astype(np.uint8) for i in range(40)]
    decoder = _window_decoder(method)
    for window in pushed:
        decoder.push(window)
        run_lockstep([decoder], bigram, call_source)
    assert [w.index for w in decoder.windows] == list(range(40))
    decoded = [w for w in decoder.windows if w.text is not None]
    assert decoder.dropped == 40 - len(decoded) and 0 < decoder.dropped < 40
    for w in decoded:
        again, encoded = _windows_of(w.text, method, bigram)
        assert encoded.num_bytes == len(w.text)
        np.testing.assert_array_equal(again, pushed[w.index][None, :])
    assert bytes(decoder.out) == b"".join(w.text for w in decoded)


@pytest.mark.parametrize("label", ["EqualInfoAC[b=16;v=256;reset=2]", "EqualInfoAC[b=16;v=256;reset=never]"])
def test_window_decoder_continues_a_prompt_coded_by_the_encoder(english, bigram, label):
    """Given the text of the first windows (a prompt), the next windows decode with it as M1 context."""
    method = parse_method(label)
    text = english[:300]
    windows, encoded = _windows_of(text, method, bigram)
    starts = tuple(int(s) for s in encoded.window_starts)
    for prompt_windows in (6, 7):  # at a context reset, and one window into a context
        decoder = _window_decoder(method, text[: starts[prompt_windows]], starts[:prompt_windows])
        for window in windows[prompt_windows:]:
            decoder.push(window)
            run_lockstep([decoder], bigram, call_source)
        assert [w.index for w in decoder.windows] == list(range(prompt_windows, len(windows)))
        if encoded.rule_exceptions == 0:
            assert bytes(decoder.out) == text


def test_gzip_stream_decoder_streams_a_real_stream_and_stops_on_a_bad_one(english):
    text = english[:3000]
    stream = np.unpackbits(np.frombuffer(gzip_compress(text), np.uint8))
    decoder = GzipStreamDecoder(header=True)
    for i in range(0, stream.size, 16):
        decoder.push(stream[i : i + 16])
        assert bytes(decoder.out) == text[: len(decoder.out)]
    assert bytes(decoder.out) == text and decoder.ended and not decoder.failed
    bad = GzipStreamDecoder(header=True)
    bad.push(np.unpackbits(np.frombuffer(b"\x78\x9c\xff\xff\xff\xff", np.uint8)))
    assert bad.failed and bad.ended
    with pytest.raises(zlib.error):
        zlib.decompress(b"\x78\x9c\xff\xff\xff\xff")
