"""The arithmetic coder and CDF quantisation on their own."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nc.coding import decode_with_cdfs, encode_with_cdfs, finished_bit_lengths, quantize_cdfs


def random_case(seed: int, n: int, alphabet: int, alpha: float):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(alphabet, alpha), size=n).astype(np.float32)
    p64 = probs.astype(np.float64)
    cum = np.cumsum(p64 / p64.sum(1, keepdims=True), axis=1)
    symbols = np.minimum((cum < rng.random((n, 1))).sum(1), alphabet - 1)
    return probs, symbols


def test_quantize_properties():
    probs, _ = random_case(0, 500, 256, 0.05)
    probs[0] = 0.0
    probs[0, 7] = 1.0  # a one-hot row: every other symbol still gets count 1
    cdfs = quantize_cdfs(probs, 14)
    counts = np.diff(cdfs.astype(np.int64), axis=1)
    assert cdfs.dtype == np.int32 and cdfs.shape == (500, 257)
    assert (cdfs[:, 0] == 0).all() and (cdfs[:, -1] == 2**14).all() and counts.min() >= 1
    assert counts[0, 7] == 2**14 - 255
    # Deterministic and row-independent: a row quantises the same alone or in a batch.
    np.testing.assert_array_equal(quantize_cdfs(probs[3:4], 14)[0], cdfs[3])
    np.testing.assert_array_equal(quantize_cdfs(probs, 14), cdfs)
    # Unnormalised rows quantise like their normalised version when the scale is a power of two.
    np.testing.assert_array_equal(quantize_cdfs(probs[:50] * 4, 14), cdfs[:50])


@pytest.mark.parametrize("bad", [-0.1, np.nan, np.inf])
def test_quantize_rejects_bad_rows(bad):
    probs = np.full((3, 4), 0.25, dtype=np.float32)
    probs[1, 2] = bad
    with pytest.raises(ValueError, match="row 1"):
        quantize_cdfs(probs, 14)
    with pytest.raises(ValueError, match="precision"):
        quantize_cdfs(np.full((1, 256), 1 / 256, np.float32), 7)


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(0, 400),
    alphabet=st.sampled_from([2, 3, 17, 256]),
    alpha=st.sampled_from([0.02, 0.3, 5.0]),
    precision=st.sampled_from([8, 12, 14, 16, 24]),
)
def test_round_trip_and_length(seed, n, alphabet, alpha, precision):
    if 2**precision < alphabet:
        return
    probs, symbols = random_case(seed, n, alphabet, alpha)
    cdfs = quantize_cdfs(probs, precision)
    packed, num_bits, finished = encode_with_cdfs(symbols, cdfs, precision, return_finished_lengths=True)
    np.testing.assert_array_equal(decode_with_cdfs(packed, num_bits, cdfs, precision), symbols)
    assert len(packed) == -(-num_bits // 8)
    if n:
        assert finished[-1] == num_bits and (np.diff(finished) >= 0).all()
    # Length bound: ideal code length under the quantised distribution, plus the integer-interval
    # rounding (< log2(1 + 1/count) per symbol since the register range exceeds 2**precision),
    # plus 2 bits of termination.
    counts = (cdfs[np.arange(n), symbols + 1] - cdfs[np.arange(n), symbols]).astype(np.float64)
    ideal = -np.log2(counts / 2**precision).sum()
    rounding = np.log2(1 + 1 / counts).sum()
    assert ideal - 1e-9 <= num_bits <= ideal + rounding + 2 + 1e-9


def test_length_near_ideal_for_a_static_source():
    """For a static source the code length is within 2 bits + quantisation overhead of -sum log2 p."""
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.full(256, 0.5)).astype(np.float32)
    p = p / p.sum(dtype=np.float64)
    symbols = rng.choice(256, size=20_000, p=p.astype(np.float64) / p.astype(np.float64).sum())
    probs = np.broadcast_to(p.astype(np.float32), (symbols.size, 256))
    cdfs = quantize_cdfs(probs, 14)
    _, num_bits = encode_with_cdfs(symbols, cdfs, 14)
    ideal = -np.log2(p[symbols].astype(np.float64)).sum()
    q = np.diff(cdfs[0].astype(np.int64)) / 2**14
    quantisation = -np.log2(q[symbols]).sum() - ideal  # cost of the integer CDF itself
    assert num_bits <= ideal + quantisation + 2 + symbols.size * 0.01
    assert num_bits <= ideal * 1.01 + 2


def test_finished_lengths_are_the_terminated_lengths():
    probs, symbols = random_case(5, 200, 256, 0.1)
    cdfs = quantize_cdfs(probs, 14)
    finished = finished_bit_lengths(symbols, cdfs, 14)
    for n in (1, 2, 17, 100, 200):
        _, bits_n = encode_with_cdfs(symbols[:n], cdfs[:n], 14)
        assert finished[n - 1] == bits_n


def test_decoder_reads_zeros_past_the_end():
    probs, symbols = random_case(3, 300, 256, 0.3)
    cdfs = quantize_cdfs(probs, 14)
    packed, num_bits = encode_with_cdfs(symbols, cdfs, 14)
    longer = np.concatenate([packed, np.zeros(8, np.uint8)])
    np.testing.assert_array_equal(decode_with_cdfs(longer, num_bits + 64, cdfs, 14), symbols)


def test_bad_inputs_are_named():
    cdfs = quantize_cdfs(np.full((2, 4), 0.25, np.float32), 14)
    with pytest.raises(ValueError, match="symbols must lie"):
        encode_with_cdfs(np.array([0, 4]), cdfs, 14)
    with pytest.raises(ValueError, match="cdfs must have shape"):
        encode_with_cdfs(np.array([0]), cdfs, 14)


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 300),
    alphabet=st.integers(2, 300),
    ties=st.booleans(),
    precision=st.sampled_from([8, 14, 16]),
)
def test_fused_encoder_matches_quantise_then_encode(seed, n, alphabet, ties, precision):
    """The encoder that quantises row by row emits exactly the bits of quantize_cdfs + encode_with_cdfs."""
    from nc.coding.arithmetic import encode_with_probs

    alphabet = min(alphabet, 2**precision)  # every symbol needs a count >= 1
    probs, symbols = random_case(seed, n, alphabet, 0.3)
    if ties:  # several symbols share the largest probability: the tie-break must agree too
        probs = np.round(probs * 4) / 4 + 1.0
        probs = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
    fused_bits, fused_finished, _ = encode_with_probs(symbols, probs, precision)
    cdfs = quantize_cdfs(probs, precision)
    packed, num_bits = encode_with_cdfs(symbols, cdfs, precision)
    np.testing.assert_array_equal(fused_bits, np.unpackbits(packed)[:num_bits])
    np.testing.assert_array_equal(fused_finished, finished_bit_lengths(symbols, cdfs, precision))
