"""The trivial models of Table 3: uniform and empirical-unigram bits/byte of a tokenisation."""

from __future__ import annotations

import numpy as np

from nc import metrics
from nc.data.dataset import ShardedTokenDataset, TokenDataset


def scored_token_counts(ds: TokenDataset | ShardedTokenDataset) -> np.ndarray:
    """int64 [vocab_size]: how often each id occurs among the scored (loss-mask) tokens.

    Sharded datasets sum the histograms their shards recorded while they were written."""
    return np.asarray(ds.token_counts, dtype=np.int64)


def trivial_baselines(
    train: TokenDataset | ShardedTokenDataset, valid: TokenDataset | ShardedTokenDataset
) -> dict[str, float]:
    """{'uniform_bits_per_byte', 'unigram_bits_per_byte'} on ``valid``; the unigram is fitted on ``train``.

    Both use ``valid``'s measured compression ratio, as M2's bits/byte does.
    """
    if train.vocab_size != valid.vocab_size:
        raise ValueError(f"train vocab_size {train.vocab_size} != valid vocab_size {valid.vocab_size}")
    ratio = valid.compression_ratio
    return {
        "uniform_bits_per_byte": float(metrics.uniform_bits_per_byte(valid.vocab_size, ratio)),
        "unigram_bits_per_byte": metrics.unigram_bits_per_byte(
            scored_token_counts(train), scored_token_counts(valid), ratio
        ),
    }
