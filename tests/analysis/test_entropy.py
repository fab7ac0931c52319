import math

import numpy as np
import pandas as pd
import pytest

from nc.analysis import entropy as E
from nc.data.dataset import TokenDataset


def _h2(p):
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def test_dataset_bitstream_uses_only_real_tokens():
    ds = TokenDataset(
        tokens=np.array([[3, 1, 0], [2, 0, 0]], dtype=np.uint8),
        num_tokens=np.array([2, 1]),
        num_bytes=np.array([5, 2]),
        meta={"method": "AC[v=4]", "vocab_size": 4, "seq_len": 3},
    )
    assert E.dataset_bitstream(ds).tolist() == [1, 1, 0, 1, 1, 0]


def test_ngram_and_token_codes_by_hand():
    bits = np.array([1, 0, 1, 1, 0])
    assert E.bit_ngram_codes(bits, 2).tolist() == [0b10, 0b01, 0b11, 0b10]
    assert E.bit_ngram_codes(bits, 3).tolist() == [0b101, 0b011, 0b110]
    assert E.token_codes(bits, 2).tolist() == [0b10, 0b11]  # trailing bit dropped
    assert E.bit_ngram_codes(bits, 6).size == 0


def test_plugin_entropy_of_known_distributions():
    assert E.plugin_entropy(np.array([5, 5])) == pytest.approx(1.0)
    assert E.plugin_entropy(np.array([1, 1, 1, 1, 0, 0, 0, 0])) == pytest.approx(2.0)
    assert E.plugin_entropy(np.array([9, 0])) == pytest.approx(0.0)
    assert E.plugin_entropy(np.array([1, 3])) == pytest.approx(_h2(0.25))
    with pytest.raises(ValueError):
        E.plugin_entropy(np.zeros(4))


def test_miller_madow_adds_the_bias_correction_in_bits():
    counts = np.array([[3, 1, 0, 0]])
    expected = _h2(0.25) + (4 - 1) / (2 * 4 * math.log(2))
    assert E.miller_madow_entropy(counts)[0] == pytest.approx(expected)
    assert E.miller_madow_entropy(counts, vocab_size=8)[0] == pytest.approx(_h2(0.25) + 7 / (8 * math.log(2)))


def test_uniform_bits_have_near_zero_miller_madow_kl_and_positive_plugin_kl():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=400_000)
    for n in (4, 8):
        est = E.segment_entropies(bits, n, "bit n-gram", num_partitions=20)
        plug, mm = est.kl("plugin"), est.kl("miller-madow")
        # Plug-in is biased low in entropy -> KL biased high by ~(2^n-1)/(2m ln2).
        m = (bits.size - n + 1) / 20
        assert np.median(plug) == pytest.approx((2**n - 1) / (2 * m * math.log(2)), rel=0.35)
        q05, q95 = np.quantile(mm, [0.05, 0.95])
        assert q05 < 0 < q95
        assert abs(np.median(mm)) < 0.3 * np.median(plug)


def test_biased_coin_matches_closed_form():
    rng = np.random.default_rng(1)
    p = 0.2
    bits = (rng.random(200_000) < p).astype(np.uint8)
    est = E.segment_entropies(bits, 1, "token", num_partitions=10)
    assert np.median(est.kl("miller-madow")) == pytest.approx(1 - _h2(p), abs=0.01)
    # Independent bits: the 2-bit token distribution is the product, KL = 2 * (1 - H2(p)).
    est2 = E.segment_entropies(bits, 2, "token", num_partitions=10)
    assert np.median(est2.kl("miller-madow")) == pytest.approx(2 * (1 - _h2(p)), abs=0.02)


def test_partition_counts_are_disjoint_and_cover_everything():
    codes = np.array([0, 1, 1, 2, 3, 3, 3])
    counts = E.partition_counts(codes, 4, 3)
    assert counts.tolist() == [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 3]]
    assert counts.sum() == codes.size
    with pytest.raises(ValueError, match="non-empty"):
        E.partition_counts(codes, 4, 8)


def test_partition_quantiles_of_a_known_spread():
    # Partition i holds only symbol 0 for i < 5 (entropy 0) else both symbols equally (entropy 1).
    codes = np.concatenate([np.zeros(40, int)] + [np.tile([0, 1], 4)] * 5)
    est = E.segment_entropies(codes, 1, "token", num_partitions=10)
    assert est.plugin.tolist() == [0.0] * 5 + [1.0] * 5
    q = E.quantiles(est.kl("plugin"))
    assert q.tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_token_sizes_divide_the_window():
    assert E.token_sizes(16) == [1, 2, 4, 8, 16]
    assert E.token_sizes(6) == [1, 2, 4]


def test_kl_tables_shape_and_ordering():
    rng = np.random.default_rng(2)
    streams = {"skewed": (rng.random(50_000) < 0.1).astype(np.uint8), "RNG": E.random_bitstream(50_000)}
    kl, noise = E.bitstream_kl_tables(streams, max_n=4, num_partitions=5)
    assert list(kl.columns) == E.KL_COLUMNS and list(noise.columns) == E.NOISE_COLUMNS
    # 2 methods x (4 n-gram sizes + 3 token sizes) x 2 estimators
    assert len(kl) == 2 * 7 * 2 and len(noise) == 2 * 7
    assert (kl.q05 <= kl.q50).all() and (kl.q50 <= kl.q95).all()
    pick = lambda m: kl[
        (kl.method == m) & (kl.unit == "bit n-gram") & (kl.n == 3) & (kl.estimator == "plugin")
    ].q50.item()
    assert pick("skewed") > 100 * pick("RNG")
    assert noise.q50.between(0.9, 1.1).all()


def test_random_bitstream_is_balanced():
    bits = E.random_bitstream(80_001)
    assert bits.size == 80_001 and set(np.unique(bits)) <= {0, 1}
    assert abs(bits.mean() - 0.5) < 0.02


def test_dataset_bitstream_max_bits_reads_a_prefix():
    ds = TokenDataset(
        tokens=np.array([[3, 1], [2, 0], [1, 1]], dtype=np.uint8),
        num_tokens=np.array([2, 1, 2]),
        num_bytes=np.array([5, 2, 3]),
        meta={"method": "AC[v=4]", "vocab_size": 4, "seq_len": 2},
    )
    full = E.dataset_bitstream(ds)
    assert full.tolist() == [1, 1, 0, 1, 1, 0, 0, 1, 0, 1]
    for k in (1, 4, 5, 10, 50):
        assert E.dataset_bitstream(ds, max_bits=k).tolist() == full[:k].tolist()


@pytest.mark.slow
def test_run_entropy_analysis_writes_tables_and_figures(tmp_path):
    rng = np.random.default_rng(3)
    dirs = {}
    for label, p in (("AC[v=256]", 0.5), ("GZip[v=256]", 0.3)):
        bits = (rng.random(40 * 64 * 8) < p).astype(np.uint8)
        tokens = np.packbits(bits).reshape(40, 64)
        ds = TokenDataset(
            tokens=tokens,
            num_tokens=np.full(40, 64),
            num_bytes=np.full(40, 100),
            meta={"method": label, "vocab_size": 256, "seq_len": 64},
        )
        ds.save(tmp_path / label)
        dirs[label] = tmp_path / label
    out = tmp_path / "R"
    kl = E.run_entropy_analysis(
        dirs,
        max_n=4,
        num_partitions=10,
        max_bits=None,
        kl_table=out / "tables/fig11_kl.csv",
        noise_table=out / "tables/fig16_entropy_noise.csv",
        fig11=out / "figures/fig11_kl",
        fig16=out / "figures/fig16",
        fig17=out / "figures/fig17",
        progress=False,
    )
    assert set(kl.method) == {"AC[v=256]", "GZip[v=256]", "RNG"}
    assert pd.read_csv(out / "tables/fig11_kl.csv").columns.tolist() == E.KL_COLUMNS
    assert (out / "tables/fig11_kl.md").exists()
    for stem in ("fig11_kl", "fig16", "fig17"):
        assert (out / f"figures/{stem}.pdf").stat().st_size > 0 and (out / f"figures/{stem}.png").exists()
    gz = kl[(kl.method == "GZip[v=256]") & (kl.estimator == "plugin") & (kl.unit == "token") & (kl.n == 1)].q50.item()
    assert gz == pytest.approx(1 - _h2(0.3), abs=0.02)
