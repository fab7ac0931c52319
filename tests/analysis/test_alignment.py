import math

import numpy as np
import pytest

from nc.analysis import alignment as A

# A unigram source with dyadic probabilities: an arithmetic coder spends exactly -log2 p bits per
# byte on it, so the per-byte bit ends of an Equal-Info window can be worked out by hand.
DYADIC = {ord("e"): 1 / 2, ord("t"): 1 / 4, ord(" "): 1 / 8, ord("a"): 1 / 16, ord("q"): 1 / 256}


def dyadic_windows(text: bytes, window_bits: int):
    """Greedy Equal-Info windows: add bytes while the window's cumulative bits stay <= window_bits."""
    starts, ends, used = [0], [], 0
    for i, byte in enumerate(text):
        cost = int(-math.log2(DYADIC[byte]))
        if used + cost > window_bits:
            starts.append(i)
            used = 0
        used += cost
        ends.append(used)
    return np.array(starts), np.array(ends)


def test_dyadic_windows_by_hand():
    # costs: t=2 e=1 a=4 q=8 ' '=3 e=1 t=2 a=4 -> windows [t e a q] = 15 bits, [' ' e t a] = 10 bits
    starts, ends = dyadic_windows(b"teaq eta", 16)
    assert starts.tolist() == [0, 4]
    assert ends.tolist() == [2, 3, 7, 15, 3, 4, 6, 10]


def test_spans_and_token_roles_on_hand_checked_example():
    text = b"teaq eta"
    starts, ends = dyadic_windows(text, 16)
    tokens = np.array([11, 12, 21, 22])
    windows = A.align_windows(text, tokens, starts, ends, window_bits=16, token_bits=8)
    assert [w.text for w in windows] == [b"teaq", b" eta"]
    assert windows[0].bit_spans.tolist() == [[0, 2], [2, 3], [3, 7], [7, 15]]
    # 't','e','a' lie in bits 0..6 (first token); 'q' spans bits 7..14 (both tokens).
    assert windows[0].roles() == ["first", "first", "first", "both"]
    # Second window ends at bit 10: only 'a' (bits 6..9) reaches the second token.
    assert windows[1].roles() == ["first", "first", "first", "both"]
    assert windows[1].tokens.tolist() == [21, 22]
    assert A.split_byte_fraction(windows) == 1.0


def test_tokens_of_spans_edge_cases():
    spans = np.array([[0, 3], [3, 9], [9, 9], [9, 16], [0, 0], [8, 8]])
    got = A.tokens_of_spans(spans, 16, 8)
    # zero-bit bytes belong to the token holding the last bit already written
    assert got.tolist() == [[True, False], [True, True], [False, True], [False, True], [True, False], [True, False]]
    assert A.tokens_of_spans(np.array([[0, 16]]), 32, 8).tolist() == [[True, True, False, False]]
    with pytest.raises(ValueError, match="multiple"):
        A.tokens_of_spans(spans, 16, 5)


def test_bad_bit_ends_are_rejected():
    with pytest.raises(ValueError, match="non-decreasing"):
        A.byte_bit_spans(np.array([3, 2]), 16)
    with pytest.raises(ValueError, match="non-decreasing"):
        A.byte_bit_spans(np.array([3, 17]), 16)


def test_roles_for_longer_windows_name_tokens():
    windows = A.align_windows(b"ab", np.arange(4), [0], np.array([10, 20]), window_bits=32, token_bits=8)
    assert windows[0].roles() == ["tokens 1+2", "tokens 2+3"]


@pytest.mark.slow
def test_alignment_of_a_real_equal_info_encoding():
    from nc.coding import UnigramSource, encode_examples
    from nc.methods import parse_method

    probs = np.full(256, 1e-4)
    for byte, p in DYADIC.items():
        probs[byte] = p
    source = UnigramSource(probs / probs.sum())
    method = parse_method("EqualInfoAC[b=16;v=256]")
    text = b"tea tea eat a teq at ate tate " * 3
    (enc,) = encode_examples([text], method, source, return_symbol_bits=True)
    ends = A.window_relative_bit_ends(enc, 16)
    windows = A.align_windows(text[: enc.num_bytes], enc.tokens, enc.window_starts, ends, window_bits=16, token_bits=8)
    assert b"".join(w.text for w in windows) == text[: enc.num_bytes]
    for w in windows:
        assert len(w.tokens) == 2 and w.token_of_byte.any(axis=1).all()
        assert w.bit_spans[-1, 1] <= 16
    # 'q' (p ~ 1/256) needs ~8 bits: it can never sit inside one token alone with other bytes' bits
    assert any("both" in w.roles() for w in windows)


def test_plot_alignment_draws_every_character(tmp_path):
    from nc.analysis.token_text import save_figure

    text = b"teaq eta"
    starts, ends = dyadic_windows(text, 16)
    windows = A.align_windows(text, np.array([11, 12, 21, 22]), starts, ends, window_bits=16, token_bits=8)
    bits = np.zeros(32, dtype=np.uint8)
    fig = A.plot_alignment(windows, bits, title="t")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("11") == 1 and texts.count("22") == 1
    assert sum(t in ("t", "e", "a", "q", "\u2423") for t in texts) == len(text)
    save_figure(fig, tmp_path / "fig09_alignment")
    assert (tmp_path / "fig09_alignment.pdf").stat().st_size > 0 and (tmp_path / "fig09_alignment.png").exists()
