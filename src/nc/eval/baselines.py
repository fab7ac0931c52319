"""The trivial models of Table 3: uniform and empirical-unigram bits/byte of a tokenisation."""
from __future__ import annotations

import numpy as np

from nc.data.dataset import TokenDataset
from nc.eval import metrics

_ROWS_PER_CHUNK = 65_536


def scored_token_counts(ds: TokenDataset) -> np.ndarray:
    """int64 [vocab_size]: how often each id occurs among the scored (loss-mask) tokens; streams rows."""
    from nc.eval.evaluate import dataset_rows

    counts = np.zeros(ds.vocab_size, np.int64)
    for start in range(0, len(ds), _ROWS_PER_CHUNK):
        part = dataset_rows(ds, np.arange(start, min(start + _ROWS_PER_CHUNK, len(ds))))
        counts += np.bincount(part.tokens[part.loss_mask()].astype(np.int64), minlength=ds.vocab_size)
    return counts


def trivial_baselines(train: TokenDataset, valid: TokenDataset) -> dict[str, float]:
    """{'uniform_bits_per_byte', 'unigram_bits_per_byte'} on ``valid``; the unigram is fitted on ``train``.

    Both use ``valid``'s measured compression ratio, as M2's bits/byte does.
    """
    if train.vocab_size != valid.vocab_size:
        raise ValueError(f"train vocab_size {train.vocab_size} != valid vocab_size {valid.vocab_size}")
    ratio = valid.compression_ratio
    return {
        "uniform_bits_per_byte": float(metrics.uniform_bits_per_byte(valid.vocab_size, ratio)),
        "unigram_bits_per_byte": metrics.unigram_bits_per_byte(scored_token_counts(train), scored_token_counts(valid), ratio),
    }
