"""Tokenisation stability under a one-word prefix (Section 6.1, Figure 8).

Each base sentence (from the validation split) is prefixed with every one of ``num_words`` words
sampled from the shipped list of frequent English words (``prefix_words.txt``); each tokeniser
encodes all variants and the Levenshtein distance between the token-id sequences of every pair of
variants of the same sentence is recorded. SentencePiece changes only around the prefix; AC
re-codes everything after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from nc.analysis.token_text import save_figure, write_table
from nc.coding import encode_examples
from nc.data.shards import ExampleSplit
from nc.data.tokenizers import SentencePieceTokenizer
from nc.methods import parse_method
from nc.sections import CodingConfig
from nc.train.run import load_coding_source

WORD_LIST = "prefix_words.txt"
SUMMARY_COLUMNS = ["method", "sentences", "pairs", "mean", "median", "q05", "q95", "mean_tokens"]


# ---------------------------------------------------------------- edit distance
@numba.njit(cache=True)
def _levenshtein(a: np.ndarray, b: np.ndarray, row: np.ndarray):
    # Two-row dynamic programme; ``row`` is scratch space of length len(b) + 1.
    m = b.shape[0]
    for j in range(m + 1):
        row[j] = j
    for i in range(1, a.shape[0] + 1):
        diagonal = row[0]
        row[0] = i
        for j in range(1, m + 1):
            above = row[j]
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = diagonal + cost
            if above + 1 < best:
                best = above + 1
            if row[j - 1] + 1 < best:
                best = row[j - 1] + 1
            row[j] = best
            diagonal = above
    return row[m]


def levenshtein(a: Sequence[int], b: Sequence[int]) -> int:
    """Edit distance (insertions, deletions, substitutions; unit costs) between two id sequences."""
    x, y = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    return int(_levenshtein(x, y, np.empty(y.size + 1, dtype=np.int64)))


@numba.njit(cache=True)
def _pairwise(flat: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    n = offsets.shape[0] - 1
    longest = 0
    for i in range(n):
        longest = max(longest, offsets[i + 1] - offsets[i])
    row = np.empty(longest + 1, dtype=np.int64)
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            out[k] = _levenshtein(flat[offsets[i] : offsets[i + 1]], flat[offsets[j] : offsets[j + 1]], row)
            k += 1


def pairwise_edit_distances(sequences: Sequence[Sequence[int] | np.ndarray]) -> np.ndarray:
    """Edit distances of all pairs i < j, in row-major (scipy ``pdist``) order: n(n-1)/2 values."""
    arrays = [np.asarray(s, dtype=np.int64).reshape(-1) for s in sequences]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([a.size for a in arrays])
    flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    out = np.empty(len(arrays) * (len(arrays) - 1) // 2, dtype=np.int64)
    _pairwise(flat, offsets, out)
    return out


# ---------------------------------------------------------------- inputs
def load_prefix_words(path: str | Path | None = None) -> list[str]:
    """The word list (one word per line, ``#`` comments), shipped as ``nc/analysis/prefix_words.txt``."""
    text = (
        Path(path).read_text(encoding="utf-8")
        if path is not None
        else (resources.files("nc.analysis") / WORD_LIST).read_text(encoding="utf-8")
    )
    words = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not words:
        raise ValueError(f"word list {path or WORD_LIST} is empty")
    return words


def sample_prefix_words(words: Sequence[str], count: int, seed: int) -> list[str]:
    """``count`` distinct words sampled without replacement (seeded), in list order."""
    if count > len(words):
        raise ValueError(f"cannot sample {count} prefix words from a list of {len(words)}")
    picked = np.sort(np.random.default_rng(seed).choice(len(words), size=count, replace=False))
    return [words[i] for i in picked]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def validation_sentences(
    examples: Iterable[bytes], count: int, *, min_chars: int = 60, max_chars: int = 200
) -> list[str]:
    """The first ``count`` complete, printable-ASCII sentences of ``min_chars..max_chars`` characters,
    at most one per example (an example's first fragment may start mid-sentence and is skipped).

    Runs of white space are folded to one space first: verse and dialogue break sentences over lines.
    """
    found, seen = [], 0
    for example in examples:
        seen += 1
        text = " ".join(example.decode("utf-8", errors="replace").split())
        pieces = _SENTENCE_END.split(text)[1:-1]
        for sentence in pieces:
            if (
                min_chars <= len(sentence) <= max_chars
                and sentence[0].isupper()
                and sentence[-1] in ".!?"
                and sentence.isascii()
                and sentence.isprintable()
            ):
                found.append(sentence)
                break
        if len(found) == count:
            return found
    raise ValueError(f"found only {len(found)} of {count} suitable sentences in {seen} validation examples")


def prefixed_variants(sentence: str, words: Sequence[str]) -> list[str]:
    """``"<word> <sentence>"`` for every word."""
    return [f"{word} {sentence}" for word in words]


# ---------------------------------------------------------------- analysis
Tokeniser = Callable[[Sequence[str]], Sequence[np.ndarray]]


def stability_distances(
    sentences: Sequence[str], words: Sequence[str], tokenisers: Mapping[str, Tokeniser], progress: bool = False
) -> dict[str, np.ndarray]:
    """Per tokeniser label, the pairwise edit distances between the prefixed variants of each
    sentence, pooled over sentences (pairs never mix two base sentences)."""
    from tqdm.auto import tqdm

    distances: dict[str, list[np.ndarray]] = {label: [] for label in tokenisers}
    for sentence in tqdm(sentences, desc="stability", disable=not progress):
        variants = prefixed_variants(sentence, words)
        for label, tokenise in tokenisers.items():
            distances[label].append(pairwise_edit_distances(tokenise(variants)))
    return {label: np.concatenate(parts) for label, parts in distances.items()}


def stability_tables(
    distances: Mapping[str, np.ndarray], sentences: int, mean_tokens: Mapping[str, float]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(histogram, summary): ``method, distance, pairs`` counts and ``SUMMARY_COLUMNS`` per method."""
    hist: list[tuple] = []
    summary: list[tuple] = []
    for label, d in distances.items():
        values, counts = np.unique(d, return_counts=True)
        hist.extend((label, int(v), int(c)) for v, c in zip(values, counts))
        q05, q50, q95 = np.quantile(d, [0.05, 0.5, 0.95])
        summary.append(
            (label, sentences, d.size, float(d.mean()), float(q50), float(q05), float(q95), float(mean_tokens[label]))
        )
    return pd.DataFrame(hist, columns=["method", "distance", "pairs"]), pd.DataFrame(summary, columns=SUMMARY_COLUMNS)


def plot_edit_distances(hist: pd.DataFrame, *, title: str):
    """Figure 8: one step histogram (share of pairs per distance) per tokeniser."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (label, rows) in enumerate(hist.groupby("method", sort=False)):
        share = rows.pairs / rows.pairs.sum()
        ax.step(rows.distance, share, where="mid", color=f"C{i}", label=label)
        ax.fill_between(rows.distance, share, step="mid", color=f"C{i}", alpha=0.15)
    ax.set_xlabel("Levenshtein distance between token sequences")
    ax.set_ylabel("share of sentence pairs")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _sentencepiece_tokeniser(tokenizer) -> Tokeniser:
    def tokenise(texts: Sequence[str]) -> list[np.ndarray]:
        return [tokenizer.encode(t.encode("utf-8"))[0] for t in texts]

    return tokenise


def _coder_tokeniser(encode_examples, method, source, precision: int) -> Tokeniser:
    def tokenise(texts: Sequence[str]) -> list[np.ndarray]:
        encoded = encode_examples([t.encode("utf-8") for t in texts], method, source, precision=precision)
        return [np.asarray(e.tokens) for e in encoded]

    return tokenise


def make_tokenisers(
    labels: Sequence[str], *, sp_model: str | Path, m1_dir: str | Path, coding: CodingConfig
) -> dict[str, Tokeniser]:
    """Tokenisers by method label: SentencePiece from its model file; bitstream methods through
    ``nc.coding.encode_examples`` with M1, coded as the datasets are (``coding``; each sentence is its
    own example)."""

    out: dict[str, Tokeniser] = {}
    source = None
    for label in labels:
        method = parse_method(label)
        if method.kind == "SentencePiece":
            out[method.label] = _sentencepiece_tokeniser(SentencePieceTokenizer(sp_model))
        elif method.uses_m1:
            source = source or load_coding_source(m1_dir, coding)
            out[method.label] = _coder_tokeniser(encode_examples, method, source, coding.precision)
        else:
            raise ValueError(f"stability_methods: {label!r} is neither SentencePiece nor an M1-based method")
    return out


def run_stability_analysis(
    *,
    valid_path: str | Path,
    sp_model: str | Path,
    m1_dir: str | Path,
    methods: Sequence[str],
    num_words: int,
    num_sentences: int,
    seed: int,
    coding: CodingConfig,
    hist_table: str | Path,
    summary_table: str | Path,
    figure: str | Path,
) -> pd.DataFrame:
    """Figure 8 and its tables; returns the summary."""

    words = sample_prefix_words(load_prefix_words(), num_words, seed)
    sentences = validation_sentences(ExampleSplit(valid_path).examples(), num_sentences)
    tokenisers = make_tokenisers(methods, sp_model=sp_model, m1_dir=m1_dir, coding=coding)
    distances = stability_distances(sentences, words, tokenisers, progress=True)
    mean_tokens = {label: float(np.mean([len(t) for t in tok(sentences)])) for label, tok in tokenisers.items()}
    hist, summary = stability_tables(distances, len(sentences), mean_tokens)
    write_table(hist, hist_table, "Figure 8: sentence pairs per token edit distance")
    write_table(summary, summary_table, "Figure 8: edit distance between one-word-prefixed variants, per tokeniser")
    save_figure(
        plot_edit_distances(
            hist,
            title=f"Edit distance between tokenisations of {num_words} one-word-prefixed variants "
            f"of {len(sentences)} validation sentence(s)",
        ),
        figure,
    )
    return summary
