"""The paper's evaluation formulas (Section 3.8, Appendix D.4): bits/byte, FLOPs/byte, trivial models.

All functions are pure and work on scalars or numpy arrays. ``compression_ratio`` is always the
*token* compression ratio L_iT / L_oT = raw bytes per M2 token.
"""

from __future__ import annotations

import math

import numpy as np

LN2 = math.log(2.0)


def bits_per_byte(loss_nats_per_token, compression_ratio):
    """[bits/byte] = (L_oT / L_iT) * loss / ln 2  (Section 3.8)."""
    return np.asarray(loss_nats_per_token) / (np.asarray(compression_ratio) * LN2)


def bits_per_token(loss_nats_per_token):
    return np.asarray(loss_nats_per_token) / LN2


def mflops_per_byte(m2_params, compression_ratio, m1_params=0.0):
    """Inference MFLOPs per raw byte: 2 N_M2 / ratio + 2 N_M1 (M1 runs once per byte), in millions.

    Pass ``m1_params=0`` for methods that do not run M1 (Bytes, SentencePiece, StaticAC, GZip).
    Parameter counts are non-embedding counts (the paper uses the nominal sizes, e.g. 25e6).
    """
    flops = 2.0 * np.asarray(m2_params, dtype=float) / np.asarray(compression_ratio, dtype=float)
    return (flops + 2.0 * np.asarray(m1_params, dtype=float)) / 1e6


def uniform_bits_per_byte(vocab_size, compression_ratio):
    """Bits/byte of the model that gives every token probability 1/V: log2(V) / ratio (Table 3)."""
    return np.log2(np.asarray(vocab_size, dtype=float)) / np.asarray(compression_ratio, dtype=float)


def unigram_cross_entropy_bits(train_counts: np.ndarray, eval_counts: np.ndarray, smoothing: float = 0.5) -> float:
    """Bits/token of evaluation tokens under a unigram fitted on training token counts.

    Add-``smoothing`` (Jeffreys by default) keeps unseen tokens finite. Both arrays are per-id counts.
    """
    train = np.asarray(train_counts, dtype=float) + smoothing
    probs = train / train.sum()
    eval_counts = np.asarray(eval_counts, dtype=float)
    if eval_counts.sum() == 0:
        raise ValueError("no evaluation tokens")
    return float(-(eval_counts * np.log2(probs)).sum() / eval_counts.sum())


def unigram_bits_per_byte(train_counts, eval_counts, compression_ratio, smoothing: float = 0.5) -> float:
    """Bits/byte of the empirical unigram model of Table 3."""
    return unigram_cross_entropy_bits(train_counts, eval_counts, smoothing) / float(compression_ratio)
