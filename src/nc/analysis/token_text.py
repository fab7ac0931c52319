"""Token -> text correspondences of SentencePiece and EqualInfoAC (Section 6.1, Appendix D.8).

* Table 7: one passage tokenised by SentencePiece and by EqualInfoAC[b=16;v=65k] (one token per
  window, so each token maps to its window's text).
* Table 8: for EqualInfoAC[b=16;v=256] (two tokens per window), the window text of a random sample
  of occurrences of a token at window position 1 and at position 2.
* Table 14: the deduplicated window text of every token that occurs more than once, and the share
  of attested tokens that repeat (paper: 34.5% for v=65k on 20 documents of 1,024 bytes).

Also home of ``TokenAnalysisOptions`` (the ``analysis.tokens`` config block) and of the path
conventions the token-level analyses write with (``write_table``: CSV + Markdown twin;
``save_figure``: PDF + PNG stem), both atomic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nc.analysis.figures import save_figure as save_pdf_and_png
from nc.analysis.markdown import dataframe_to_markdown
from nc.analysis.paper import paper_scalar
from nc.coding import encode_examples
from nc.data.shards import ExampleSplit
from nc.data.tokenizers import SentencePieceTokenizer
from nc.io import write_text
from nc.methods import SENTENCEPIECE, V65K_BITS, ac, equal_info, gzip, static_ac
from nc.sections import CodingConfig, reject_unknown_keys
from nc.train.run import load_coding_source

# The passage of the paper's Table 7 (three occurrences of "elephants", two of "African").
TABLE7_TEXT = (
    "The three currently living species are: African savanna elephants, African forest elephants, "
    "and the Asian elephants."
)


# ---------------------------------------------------------------- options
# Integer knobs whose lower bound is not 1 (the schema's "minimum"; tests/analysis/test_token_text.py
# checks these bounds and the defaults against config/schema/analysis_tokens.schema.json).
MINIMUMS = {"seed": 0, "prefix_words": 2}


@dataclass(frozen=True)
class TokenAnalysisOptions:
    """The ``analysis.tokens`` config block (schema: config/schema/analysis_tokens.schema.json).

    kl_max_n: largest n of bit n-grams / n-bit tokens in Figures 11, 16, 17.
    kl_partitions: disjoint partitions for the entropy quantiles (paper: 100).
    kl_max_bits: bits read from the start of each bitstream (memory bound at large scales).
    kl_methods: bitstream methods of Figure 11 (the RNG baseline is always added).
    prefix_words: one-word prefixes sampled from the shipped word list for Figure 8 (paper: 500).
    stability_sentences: validation sentences each prefixed with every word (paper: 1).
    stability_methods: tokenisers compared in Figure 8.
    num_documents / document_bytes: validation documents for Tables 8 and 14 (paper: 20 x 1,024).
    table8_samples: window texts shown per token and position in Table 8 (paper: 8).
    table7_text: the passage of Table 7.
    alignment_windows: windows drawn in Figure 9.
    seed: seeds every sample (prefix words, Table 8 occurrences).
    """

    kl_max_n: int = 16
    kl_partitions: int = 100
    kl_max_bits: int = 2**25
    kl_methods: Sequence[str] = tuple(m.label for m in (ac(), equal_info(16), static_ac(), gzip()))
    prefix_words: int = 500
    stability_sentences: int = 1
    stability_methods: Sequence[str] = tuple(
        m.label for m in (SENTENCEPIECE, ac(), equal_info(16), equal_info(16, V65K_BITS))
    )
    num_documents: int = 20
    document_bytes: int = 1024
    table8_samples: int = 8
    table7_text: str = TABLE7_TEXT
    alignment_windows: int = 8
    seed: int = 0

    @classmethod
    def from_config(cls, block: Mapping[str, Any] | None) -> TokenAnalysisOptions:
        """Build from ``analysis.tokens``; unknown keys or out-of-range values raise ValueError naming them."""
        block = dict(block or {})
        reject_unknown_keys(cls, "analysis.tokens", block)
        for key, value in block.items():
            if key in ("kl_methods", "stability_methods"):
                if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"analysis.tokens.{key} must be a list of method labels, got {value!r}")
                block[key] = tuple(value)
            elif key == "table7_text":
                if not isinstance(value, str) or not value:
                    raise ValueError(f"analysis.tokens.table7_text must be a non-empty string, got {value!r}")
            elif not isinstance(value, int) or isinstance(value, bool) or value < MINIMUMS.get(key, 1):
                raise ValueError(f"analysis.tokens.{key} must be an integer >= {MINIMUMS.get(key, 1)}, got {value!r}")
        if block.get("kl_max_n", cls.kl_max_n) > 24:
            raise ValueError(f"analysis.tokens.kl_max_n must be <= 24 (2**n count bins), got {block['kl_max_n']}")
        return cls(**block)


# ---------------------------------------------------------------- output helpers
def write_table(table: pd.DataFrame, csv_path: str | Path, title: str) -> None:
    """Atomically write ``table`` as CSV and as a Markdown twin (same stem, ``.md``, ``# title`` heading)."""

    csv_path = Path(csv_path)
    write_text(csv_path, table.to_csv(index=False))
    write_text(csv_path.with_suffix(".md"), f"# {title}\n\n" + dataframe_to_markdown(table))


def save_figure(fig, stem: str | Path) -> None:
    """Atomically save a matplotlib figure as ``stem.pdf`` and ``stem.png``, then close it."""

    stem = Path(stem)
    save_pdf_and_png(fig, stem.with_name(f"{stem.name}.pdf"), stem.with_name(f"{stem.name}.png"))


def display_text(raw: bytes) -> str:
    """Bytes as readable text: UTF-8 with undecodable bytes (split characters) escaped."""
    return raw.decode("utf-8", errors="backslashreplace")


# ---------------------------------------------------------------- windowed encodings
@dataclass(frozen=True)
class WindowedEncoding:
    """One EqualInfoAC encoding seen as windows: window w covers ``text[starts[w]:starts[w+1]]``
    (the last window runs to the end of ``text``) and tokens ``[w*k, (w+1)*k)``, k = tokens_per_window."""

    text: bytes
    tokens: np.ndarray
    window_starts: np.ndarray
    tokens_per_window: int

    def __post_init__(self) -> None:
        starts = np.asarray(self.window_starts)
        if self.tokens_per_window < 1:
            raise ValueError(f"tokens_per_window must be >= 1, got {self.tokens_per_window}")
        if len(self.tokens) != len(starts) * self.tokens_per_window:
            raise ValueError(
                f"{len(self.tokens)} tokens do not fill {len(starts)} windows of {self.tokens_per_window} tokens"
            )
        if len(starts) and (starts[0] != 0 or np.any(np.diff(starts) < 0) or starts[-1] > len(self.text)):
            raise ValueError("window_starts must start at 0, never decrease and stay within the text")

    @property
    def num_windows(self) -> int:
        return len(self.window_starts)

    def window_bytes(self, w: int) -> bytes:
        end = self.window_starts[w + 1] if w + 1 < self.num_windows else len(self.text)
        return self.text[int(self.window_starts[w]) : int(end)]

    def window_tokens(self, w: int) -> np.ndarray:
        k = self.tokens_per_window
        return np.asarray(self.tokens)[w * k : (w + 1) * k]


def windowed(encoded, text: bytes, method) -> WindowedEncoding:
    """Adapt an ``nc.coding.Encoded`` of an EqualInfoAC ``method`` (a MethodSpec) to a WindowedEncoding."""
    if method.kind != "EqualInfoAC":
        raise ValueError(f"window text needs an EqualInfoAC method, got {method.label}")
    if encoded.window_starts is None:
        raise ValueError(f"{method.label}: encoding has no window_starts")
    if method.window_bits % method.token_bits:
        raise ValueError(f"{method.label}: window_bits is not a multiple of token_bits")
    return WindowedEncoding(
        text=bytes(text[: encoded.num_bytes]),
        tokens=np.asarray(encoded.tokens),
        window_starts=np.asarray(encoded.window_starts, dtype=np.int64),
        tokens_per_window=method.window_bits // method.token_bits,
    )


def window_occurrences(encodings: Iterable[WindowedEncoding]) -> pd.DataFrame:
    """One row per token occurrence: ``token``, ``position`` (1-based within its window), ``window_text``."""
    rows: list[tuple] = []
    for enc in encodings:
        for w in range(enc.num_windows):
            text = display_text(enc.window_bytes(w))
            rows.extend((int(t), p + 1, text) for p, t in enumerate(enc.window_tokens(w)))
    return pd.DataFrame(rows, columns=["token", "position", "window_text"])


def repeated_token_fraction(tokens: np.ndarray) -> float:
    """Share of attested (distinct) token ids that occur more than once."""
    tokens = np.asarray(tokens).reshape(-1)
    if tokens.size == 0:
        raise ValueError("no tokens")
    _, counts = np.unique(tokens, return_counts=True)
    return float((counts > 1).mean())


def repeated_token_windows(occurrences: pd.DataFrame) -> pd.DataFrame:
    """Table 14: for every token occurring more than once, per window position, its deduplicated
    (sorted) window texts. Columns: token, position, occurrences, window_texts (" / "-joined ``[text]``)."""
    totals = occurrences.groupby("token").size()
    repeated = occurrences[occurrences.token.isin(totals[totals > 1].index)]
    rows = [
        (token, position, len(group), " / ".join(f"[{t}]" for t in sorted(set(group.window_text))))
        for (token, position), group in repeated.groupby(["token", "position"], sort=True)
    ]
    return pd.DataFrame(rows, columns=["token", "position", "occurrences", "window_texts"])


def most_common_both_positions(occurrences: pd.DataFrame, count: int = 2) -> list[int]:
    """Tokens with the most occurrences at their rarer window position (ties: smaller id)."""
    per_position = occurrences.groupby(["token", "position"]).size().unstack(fill_value=0)
    if per_position.shape[1] < 2:
        raise ValueError("windows hold one token: no second position to compare")
    score = per_position[[1, 2]].min(axis=1)
    return sorted(score.index, key=lambda t: (-score[t], t))[:count]


def sample_window_texts(occurrences: pd.DataFrame, tokens: Sequence[int], samples: int, seed: int) -> pd.DataFrame:
    """Table 8: a seeded random sample of up to ``samples`` window texts per (token, position 1/2)."""
    rng = np.random.default_rng(seed)
    rows = []
    for token in tokens:
        for position in (1, 2):
            texts = occurrences[(occurrences.token == token) & (occurrences.position == position)].window_text
            picked = rng.choice(texts.to_numpy(), size=min(samples, len(texts)), replace=False) if len(texts) else ()
            rows.append((token, position, len(texts), " / ".join(f"[{t}]" for t in picked)))
    return pd.DataFrame(rows, columns=["token", "position", "occurrences", "window_texts"])


# ---------------------------------------------------------------- Table 7
def sentencepiece_pieces(sp_model_path: str | Path, text: str) -> list[tuple[int, str]]:
    """SentencePiece (id, piece text) pairs, with the word-boundary marker removed as the paper shows."""

    tokenizer = SentencePieceTokenizer(sp_model_path)
    ids, _ = tokenizer.encode(text.encode("utf-8"))
    return [(int(i), tokenizer.processor.id_to_piece(int(i)).replace("\u2581", "")) for i in ids]


def token_text_rows(method_label: str, pieces: Sequence[tuple[int, str]]) -> pd.DataFrame:
    """Long-format Table 7 rows: method, position (1-based), token, text."""
    return pd.DataFrame(
        [(method_label, i + 1, tok, text) for i, (tok, text) in enumerate(pieces)],
        columns=["method", "position", "token", "text"],
    )


def equal_info_pieces(enc: WindowedEncoding) -> list[tuple[int, str]]:
    """(token, window text) per window of a one-token-per-window encoding (EqualInfoAC[b=16;v=65k])."""
    if enc.tokens_per_window != 1:
        raise ValueError(f"token -> text is defined for one token per window, got {enc.tokens_per_window}")
    return [(int(enc.window_tokens(w)[0]), display_text(enc.window_bytes(w))) for w in range(enc.num_windows)]


def table7_markdown(rows: pd.DataFrame, text: str) -> str:
    """The paper's layout: the input passage, then one line of [piece] per method."""
    lines = [
        "# Table 7: tokenisation under SentencePiece vs EqualInfoAC",
        "",
        "| | |",
        "|---|---|",
        f"| Input Text | {text} |",
    ]
    for method, group in rows.groupby("method", sort=False):
        tokens = " ".join(f"[{t.strip()}]" for t in group.sort_values("position").text)
        lines.append(f"| {method} Tokens | {tokens.replace('|', '&#124;')} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the rule's entry point
def run_token_text_tables(
    *,
    valid_path: str | Path,
    m1_dir: str | Path,
    sp_model: str | Path,
    options: TokenAnalysisOptions,
    coding: CodingConfig,
    table7: str | Path,
    table8: str | Path,
    table14: str | Path,
    repeated_table: str | Path,
) -> dict[str, float]:
    """Tables 7, 8, 14 and the repeated-token fractions (CSV) from M1 and the validation split, coded as the
    datasets are (``coding``)."""

    source = load_coding_source(m1_dir, coding)
    v65k, v256 = equal_info(16, V65K_BITS), equal_info(16)

    passage = options.table7_text.encode("utf-8")
    (enc65k,) = encode_examples([passage], v65k, source, precision=coding.precision)
    rows = pd.concat(
        [
            token_text_rows(SENTENCEPIECE.label, sentencepiece_pieces(sp_model, options.table7_text)),
            token_text_rows(v65k.label, equal_info_pieces(windowed(enc65k, passage, v65k))),
        ],
        ignore_index=True,
    )
    write_text(table7, rows.to_csv(index=False))
    write_text(Path(table7).with_suffix(".md"), table7_markdown(rows, options.table7_text))

    documents = [doc[: options.document_bytes] for doc in ExampleSplit(valid_path).read(0, options.num_documents)]
    if not documents:
        raise ValueError(f"{valid_path}: no validation examples")
    encodings = {
        m: encode_examples(documents, m, source, precision=coding.precision, progress=True) for m in (v256, v65k)
    }
    occurrences = window_occurrences(windowed(e, d, v256) for e, d in zip(encodings[v256], documents))
    chosen = most_common_both_positions(occurrences)
    write_table(
        sample_window_texts(occurrences, chosen, options.table8_samples, options.seed),
        table8,
        "Table 8: window text of a token at window positions 1 and 2, EqualInfoAC[b=16;v=256]",
    )
    write_table(
        repeated_token_windows(occurrences),
        table14,
        "Table 14: deduplicated window text of repeated tokens, EqualInfoAC[b=16;v=256]",
    )
    fractions = {
        m.label: repeated_token_fraction(np.concatenate([np.asarray(e.tokens) for e in encodings[m]]))
        for m in (v256, v65k)
    }
    write_table(
        pd.DataFrame(
            [(label, frac, len(documents), options.document_bytes) for label, frac in fractions.items()],
            columns=["method", "repeated_token_fraction", "documents", "document_bytes"],
        ).assign(
            paper=lambda t: np.where(t.method == v65k.label, paper_scalar("repeated_token_fraction_b16_v65k"), np.nan)
        ),
        repeated_table,
        "Appendix D.8: share of attested tokens occurring more than once",
    )
    return fractions
