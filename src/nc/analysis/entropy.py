"""How far compressed bitstreams are from uniform (Section 6.3, Appendix D.6; Figures 11, 16, 17).

The bitstream of a method is the concatenation of the real tokens of its M2 training
``TokenDataset`` (each token contributes ``log2(vocab_size)`` bits, most significant bit first).
(``nc.coding.tokens_to_bits``). It is segmented two ways:

* *bit n-grams*: every overlapping run of n bits (stride 1);
* *n-bit tokens*: consecutive non-overlapping groups of n bits, as M2 tokenisation does
  (Section 3.4); the paper only uses n that divide 16, so tokens never cross an Equal-Info window.

For each segmentation the symbols are split into ``num_partitions`` disjoint contiguous
partitions; the entropy of each partition's empirical distribution is estimated with the plug-in
(maximum-likelihood) and the Miller-Madow estimator, and KL(P || U) = n - H[P] (bits) is reported
as the 5/50/95% quantiles over partitions. An RNG baseline draws its bits from ``secrets``, as the
paper does, so its row is (by design) not reproducible bit for bit.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nc.analysis.token_text import save_figure, write_table
from nc.coding import tokens_to_bits
from nc.data.dataset import TokenRows, load_token_dataset, row_chunks

QUANTILES = (0.05, 0.5, 0.95)
ESTIMATORS = ("plugin", "miller-madow")
UNITS = ("bit n-gram", "token")
RNG_LABEL = "RNG"
# Partitions are counted in one bincount of num_partitions * 2**n bins; cap its memory (int64 bins).
_MAX_BINS = 2**28


# ---------------------------------------------------------------- bitstreams and segmentations
def dataset_bitstream(dataset: TokenRows, max_bits: int | None = None) -> np.ndarray:
    """The concatenated bitstream of a bitstream-method dataset: real tokens only, row by row.

    With ``max_bits`` only the first ``max_bits`` bits are returned, and only the rows holding
    them are read (rows are read in chunks through ``dataset.rows``).
    """
    token_bits = int(dataset.vocab_size).bit_length() - 1
    if 2**token_bits != dataset.vocab_size:
        raise ValueError(f"vocab_size {dataset.vocab_size} is not a power of two: not a bitstream dataset")
    pieces, total = [], 0
    for part in row_chunks(dataset, 4096):
        mask = np.arange(part.seq_len)[None, :] < part.num_tokens[:, None]
        tokens = part.tokens[mask]
        pieces.append(tokens_to_bits(tokens, token_bits, tokens.size * token_bits))
        total += pieces[-1].size
        if max_bits is not None and total >= max_bits:
            break
    bits = np.concatenate(pieces) if pieces else np.zeros(0, np.uint8)
    return bits if max_bits is None else bits[:max_bits]


def random_bitstream(num_bits: int) -> np.ndarray:
    """``num_bits`` bits from the operating system's cryptographic RNG (Python's ``secrets``)."""
    if num_bits < 0:
        raise ValueError(f"num_bits must be >= 0, got {num_bits}")
    raw = np.frombuffer(secrets.token_bytes((num_bits + 7) // 8), dtype=np.uint8)
    return np.unpackbits(raw)[:num_bits]


def bit_ngram_codes(bits: np.ndarray, n: int) -> np.ndarray:
    """Integer codes of every overlapping n-gram of ``bits`` (len(bits) - n + 1 of them)."""
    bits = _check_bits(bits, n)
    count = bits.size - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    codes = np.zeros(count, dtype=np.int64)
    for j in range(n):
        codes = (codes << 1) | bits[j : j + count]
    return codes


def token_codes(bits: np.ndarray, n: int) -> np.ndarray:
    """Codes of consecutive non-overlapping n-bit tokens; trailing bits that fill no token are dropped."""
    bits = _check_bits(bits, n)
    usable = bits.size - bits.size % n
    groups = bits[:usable].reshape(-1, n).astype(np.int64)
    return groups @ (1 << np.arange(n - 1, -1, -1, dtype=np.int64))


def _check_bits(bits: np.ndarray, n: int) -> np.ndarray:
    if not 1 <= n <= 40:
        raise ValueError(f"n must lie in 1..40, got {n}")
    bits = np.asarray(bits)
    if bits.ndim != 1:
        raise ValueError(f"bits must be 1-D, got shape {bits.shape}")
    if bits.size and bits.max() > 1:
        raise ValueError("bits must be 0/1")
    return bits.astype(np.int64)


# ---------------------------------------------------------------- estimators
def plugin_entropy(counts: np.ndarray) -> np.ndarray:
    """Plug-in (maximum-likelihood) entropy in bits of each row of ``counts`` ([..., K])."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(axis=-1, keepdims=True)
    if np.any(total <= 0):
        raise ValueError("every distribution needs at least one observation")
    p = counts / total
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(p), 0.0)
    return terms.sum(axis=-1)


def miller_madow_entropy(counts: np.ndarray, vocab_size: int | None = None) -> np.ndarray:
    """Miller-Madow entropy in bits: plug-in + (|V| - 1) / (2 m ln 2) (Appendix D.6).

    ``vocab_size`` is |V|: for n-bit symbols the paper uses the full 2**n (the default here is the
    last axis of ``counts``). m is the sample size. The correction (|V|-1)/(2m) is in nats, hence
    the division by ln 2 for an entropy in bits.
    """
    counts = np.asarray(counts, dtype=np.float64)
    vocab = counts.shape[-1] if vocab_size is None else int(vocab_size)
    m = counts.sum(axis=-1)
    return plugin_entropy(counts) + (vocab - 1) / (2.0 * m * math.log(2.0))


def kl_from_uniform(entropy_bits, n: int):
    """KL(P || U) over 2**n symbols, in bits: log2 |V| - H[P] = n - H[P]."""
    return n - np.asarray(entropy_bits)


# ---------------------------------------------------------------- partitions
def partition_counts(codes: np.ndarray, num_symbols: int, num_partitions: int) -> np.ndarray:
    """[num_partitions, num_symbols] counts of ``codes`` split into disjoint contiguous partitions.

    Partition sizes differ by at most one; every one must be non-empty.
    """
    codes = np.asarray(codes, dtype=np.int64)
    if num_partitions < 1:
        raise ValueError(f"num_partitions must be >= 1, got {num_partitions}")
    if codes.size < num_partitions:
        raise ValueError(f"{codes.size} symbols cannot fill {num_partitions} non-empty partitions")
    if num_partitions * num_symbols > _MAX_BINS:
        raise ValueError(f"{num_partitions} partitions x {num_symbols} symbols exceed {_MAX_BINS} count bins")
    bounds = np.linspace(0, codes.size, num_partitions + 1).astype(np.int64)
    counts = np.empty((num_partitions, num_symbols), dtype=np.int64)
    for i in range(num_partitions):  # one bincount per partition keeps memory at one count row
        counts[i] = np.bincount(codes[bounds[i] : bounds[i + 1]], minlength=num_symbols)
    return counts


@dataclass(frozen=True)
class PartitionEntropies:
    """Per-partition entropy estimates (bits) of one segmentation of one bitstream."""

    n: int
    plugin: np.ndarray
    miller_madow: np.ndarray

    def kl(self, estimator: str) -> np.ndarray:
        if estimator not in ESTIMATORS:
            raise ValueError(f"unknown estimator {estimator!r}; expected one of {ESTIMATORS}")
        return kl_from_uniform(self.plugin if estimator == "plugin" else self.miller_madow, self.n)


def segment_entropies(bits: np.ndarray, n: int, unit: str, num_partitions: int) -> PartitionEntropies:
    """Entropy estimates over ``num_partitions`` disjoint partitions of one segmentation."""
    if unit == "bit n-gram":
        codes = bit_ngram_codes(bits, n)
    elif unit == "token":
        codes = token_codes(bits, n)
    else:
        raise ValueError(f"unknown unit {unit!r}; expected one of {UNITS}")
    counts = partition_counts(codes, 2**n, num_partitions)
    return PartitionEntropies(n=n, plugin=plugin_entropy(counts), miller_madow=miller_madow_entropy(counts, 2**n))


def quantiles(values: np.ndarray, qs: Sequence[float] = QUANTILES) -> np.ndarray:
    """Linear-interpolation quantiles (numpy's default) of ``values``."""
    return np.quantile(np.asarray(values, dtype=np.float64), qs)


def token_sizes(max_n: int, window_bits: int = 16) -> list[int]:
    """Token sizes n <= max_n that divide ``window_bits`` (tokens never cross an Equal-Info window)."""
    return [n for n in range(1, max_n + 1) if window_bits % n == 0]


# ---------------------------------------------------------------- the figure-11 table
KL_COLUMNS = ["method", "unit", "n", "estimator", "q05", "q50", "q95"]
NOISE_COLUMNS = ["method", "unit", "n", "q05", "q50", "q95"]


def bitstream_kl_tables(
    bitstreams: Mapping[str, np.ndarray], *, max_n: int, num_partitions: int, progress: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """KL quantiles (Fig. 11, 17) and normalised entropy noise (Fig. 16) of every bitstream.

    Returns ``(kl, noise)``: ``kl`` has ``KL_COLUMNS`` (one row per method, unit, n, estimator);
    ``noise`` has ``NOISE_COLUMNS``: quantiles of the plug-in entropy divided by its mean over
    partitions. Bit n-grams use n = 1..max_n; tokens use the n <= max_n that divide 16.
    """
    from tqdm.auto import tqdm

    jobs = [
        (m, u, n)
        for m in bitstreams
        for u, ns in (("bit n-gram", range(1, max_n + 1)), ("token", token_sizes(max_n)))
        for n in ns
    ]
    kl_rows, noise_rows = [], []
    for method, unit, n in tqdm(jobs, desc="entropy", disable=not progress):
        est = segment_entropies(bitstreams[method], n, unit, num_partitions)
        for estimator in ESTIMATORS:
            kl_rows.append([method, unit, n, estimator, *quantiles(est.kl(estimator))])
        noise_rows.append([method, unit, n, *quantiles(est.plugin / est.plugin.mean())])
    return pd.DataFrame(kl_rows, columns=KL_COLUMNS), pd.DataFrame(noise_rows, columns=NOISE_COLUMNS)


def load_bitstreams(
    dataset_dirs: Mapping[str, str | Path], *, max_bits: int | None = None, rng_label: str | None = RNG_LABEL
) -> dict[str, np.ndarray]:
    """Bitstreams (at most ``max_bits`` each) of the given ``{method label: token dataset manifest or directory}`` plus,
    unless ``rng_label`` is None, an RNG baseline as long as the longest of them."""
    bitstreams = {label: dataset_bitstream(load_token_dataset(path), max_bits) for label, path in dataset_dirs.items()}
    if rng_label is not None:
        bitstreams[rng_label] = random_bitstream(max((b.size for b in bitstreams.values()), default=0))
    return bitstreams


# ---------------------------------------------------------------- figures
def plot_kl(kl: pd.DataFrame, estimator: str, *, drop_nonpositive: bool, title: str):
    """Two panels (bit n-grams, n-bit tokens) of KL quantiles vs n on a log y axis."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    sub = kl[kl.estimator == estimator]
    for ax, unit in zip(axes, UNITS):
        for i, (method, rows) in enumerate(sub[sub.unit == unit].groupby("method", sort=False)):
            rows = rows.sort_values("n")
            colour = f"C{i}"
            for column, style in (("q50", "-"), ("q05", ":"), ("q95", ":")):
                values = rows[column].to_numpy(dtype=float)
                keep = values > 0 if drop_nonpositive else np.ones_like(values, dtype=bool)
                # A median broken by dropped points is drawn as markers only, as in the paper's Fig. 17.
                line = style if keep.all() else "none"
                ax.plot(
                    rows.n.to_numpy()[keep],
                    values[keep],
                    linestyle=line,
                    marker="o" if column == "q50" else None,
                    markersize=3,
                    color=colour,
                    label=method if column == "q50" else None,
                )
            lo, hi = rows.q05.to_numpy(float), rows.q95.to_numpy(float)
            ok = (lo > 0) & (hi > 0) if drop_nonpositive else np.ones_like(lo, dtype=bool)
            ax.fill_between(rows.n.to_numpy()[ok], lo[ok], hi[ok], color=colour, alpha=0.15, linewidth=0)
        ax.set_yscale("log")
        ax.set_xlabel("n (bits)")
        ax.set_title("bit n-grams (overlapping)" if unit == "bit n-gram" else "n-bit tokens")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"KL(P || uniform) [bits], {estimator}")
    axes[1].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_entropy_noise(noise: pd.DataFrame):
    """Fig. 16: 5/50/95% quantiles of the plug-in entropy / its mean over partitions, vs n."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, unit in zip(axes, UNITS):
        for i, (method, rows) in enumerate(noise[noise.unit == unit].groupby("method", sort=False)):
            rows = rows.sort_values("n")
            ax.plot(rows.n, rows.q50, "-o", markersize=3, color=f"C{i}", label=method)
            ax.fill_between(rows.n, rows.q05, rows.q95, color=f"C{i}", alpha=0.2, linewidth=0)
        ax.set_xlabel("n (bits)")
        ax.set_title("bit n-grams (overlapping)" if unit == "bit n-gram" else "n-bit tokens")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("entropy / mean entropy over partitions")
    axes[1].legend(fontsize=8)
    fig.suptitle("Entropy estimation noise: 5%, 50%, 95% quantiles over disjoint partitions (plug-in)", fontsize=10)
    fig.tight_layout()
    return fig


def run_entropy_analysis(
    dataset_dirs: Mapping[str, str | Path],
    *,
    max_n: int,
    num_partitions: int,
    max_bits: int | None,
    kl_table: str | Path,
    noise_table: str | Path,
    fig11: str | Path,
    fig16: str | Path,
    fig17: str | Path,
    progress: bool = True,
) -> pd.DataFrame:
    """Figures 11, 16, 17 and their tables from compressed datasets (``{label: dir}``).

    Figure paths are stems: ``.pdf`` and ``.png`` are written. Table paths are CSV files; a
    Markdown twin is written beside each.
    """
    bitstreams = load_bitstreams(dataset_dirs, max_bits=max_bits)
    kl, noise = bitstream_kl_tables(bitstreams, max_n=max_n, num_partitions=num_partitions, progress=progress)
    write_table(kl, kl_table, "Figures 11 and 17: KL divergence from uniform, 5/50/95% quantiles over partitions")
    write_table(noise, noise_table, "Figure 16: entropy / mean entropy over partitions (plug-in), 5/50/95% quantiles")
    save_figure(
        plot_kl(
            kl,
            "plugin",
            drop_nonpositive=False,
            title=f"KL from uniform (plug-in), 5/50/95% over {num_partitions} partitions",
        ),
        fig11,
    )
    save_figure(
        plot_kl(
            kl,
            "miller-madow",
            drop_nonpositive=True,
            title=f"KL from uniform (Miller-Madow), 5/50/95% over {num_partitions} partitions; "
            "non-positive points dropped",
        ),
        fig17,
    )
    save_figure(plot_entropy_noise(noise), fig16)
    return kl
