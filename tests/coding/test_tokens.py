"""Bitstream <-> token chunking."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nc.coding import CorruptStreamError, bits_to_tokens, tokens_to_bits


@given(bits=st.lists(st.integers(0, 1), max_size=200), token_bits=st.integers(1, 16))
def test_round_trip(bits, token_bits):
    bits = np.array(bits, dtype=np.uint8)
    tokens = bits_to_tokens(bits, token_bits)
    assert tokens.dtype == (np.uint8 if token_bits <= 8 else np.uint16)
    assert tokens.size == -(-bits.size // token_bits) and (tokens < 2**token_bits).all()
    np.testing.assert_array_equal(tokens_to_bits(tokens, token_bits, bits.size), bits)


def test_msb_first_and_zero_padding():
    bits = np.array([1, 0, 1, 1, 0, 0, 0, 1, 1, 1], np.uint8)
    np.testing.assert_array_equal(bits_to_tokens(bits, 8), [0b10110001, 0b11000000])
    np.testing.assert_array_equal(bits_to_tokens(bits, 16), [0b1011000111000000])
    np.testing.assert_array_equal(bits_to_tokens(bits, 3), [0b101, 0b100, 0b011, 0b100])


def test_errors():
    with pytest.raises(ValueError, match="token_bits"):
        bits_to_tokens(np.zeros(3, np.uint8), 17)
    with pytest.raises(CorruptStreamError, match="token ids"):
        tokens_to_bits(np.array([300]), 8, 8)
    with pytest.raises(CorruptStreamError, match="num_bits"):
        tokens_to_bits(np.array([3]), 8, 9)
