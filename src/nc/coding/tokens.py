"""Bitstream <-> fixed-width tokens (Section 3.4): every ``token_bits`` bits, MSB first, form one token."""

from __future__ import annotations

import numpy as np

from nc.coding.errors import CorruptStreamError


def token_dtype_for(token_bits: int) -> np.dtype:
    return np.dtype(np.uint8) if token_bits <= 8 else np.dtype(np.uint16)


def _check_token_bits(token_bits: int) -> None:
    if not isinstance(token_bits, (int, np.integer)) or not 1 <= token_bits <= 16:
        raise ValueError(f"token_bits must be an integer in 1..16, got {token_bits!r}")


def bits_to_tokens(bits: np.ndarray, token_bits: int) -> np.ndarray:
    """Group unpacked bits (uint8 0/1) into tokens; a final partial token is zero-padded."""
    _check_token_bits(token_bits)
    bits = np.asarray(bits, dtype=np.uint8)
    n_tokens = -(-bits.size // token_bits)
    padded = np.zeros(n_tokens * token_bits, dtype=np.uint16)
    padded[: bits.size] = bits
    weights = (1 << np.arange(token_bits - 1, -1, -1)).astype(np.uint16)
    return (padded.reshape(n_tokens, token_bits) * weights).sum(axis=1).astype(token_dtype_for(token_bits))


def tokens_to_bits(tokens: np.ndarray, token_bits: int, num_bits: int) -> np.ndarray:
    """Inverse of ``bits_to_tokens``: the first ``num_bits`` bits of the tokens.

    Raises CorruptStreamError when a token is out of range or the tokens hold fewer than num_bits.
    """
    _check_token_bits(token_bits)
    tokens = np.asarray(tokens).astype(np.int64).ravel()
    if tokens.size and (tokens.min() < 0 or tokens.max() >= 2**token_bits):
        raise CorruptStreamError(f"token ids must lie in [0, {2**token_bits}), got max {tokens.max()}")
    if num_bits < 0 or num_bits > tokens.size * token_bits:
        raise CorruptStreamError(
            f"num_bits={num_bits} but {tokens.size} tokens of {token_bits} bits hold {tokens.size * token_bits}"
        )
    shifts = np.arange(token_bits - 1, -1, -1)
    bits = ((tokens[:, None] >> shifts) & 1).astype(np.uint8).ravel()
    return bits[:num_bits]
