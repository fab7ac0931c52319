"""The spelling task of Appendix A.3 (Figure 13), built from the shipped word list.

WikiSpell (Liu et al., 2023) cannot be downloaded here, so nc builds its protocol from the 3,000 most
frequent English words shipped with the analysis (``nc/analysis/prefix_words.txt``): a seeded shuffle
splits them into training and held-out words (``held_out_fraction``). An example is the word
tokenised by the method M2 was pre-trained on, a separator, then one token per character; only the
characters are scored. Character tokens follow the paper's three schemes:

* ``byt5`` (EqualInfoAC[b=16;v=256]): the ByT5 id of the character's byte (byte + 3), which overlaps
  arbitrarily with the 256 ids M2 saw in pre-training;
* ``shared`` (SentencePiece): a seeded, arbitrary id of a multi-character subword piece per character;
* ``characters`` (SentencePiece): the id of the character's own piece (its byte piece when the
  vocabulary has no piece for it).

The separator is id 0 for EqualInfoAC (an arbitrary id, as the outputs are) and SentencePiece's EOS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from nc.data.dataset import TokenDataset
from nc.data.method_datasets import pack_rows
from nc.data.tokenizers import EOS_ID, SentencePieceTokenizer
from nc.methods import SENTENCEPIECE, MethodSpec, equal_info

BYT5_OFFSET = 3  # ByT5: pad 0, eos 1, unk 2, then the 256 bytes


@dataclass(frozen=True)
class SpellingScheme:
    """One line of Figure 13: the pre-trained method and how characters become output ids (``ids``: the
    paper's name for a SentencePiece scheme's ids; None for a method whose ids are bytes)."""

    name: str
    spec: MethodSpec
    ids: str | None = None

    @property
    def label(self) -> str:
        """Figure 13's name of the line, e.g. ``SentencePiece (Shared)``."""
        return self.spec.paper_label if self.ids is None else f"{self.spec.paper_label} ({self.ids})"


SCHEMES: dict[str, SpellingScheme] = {
    s.name: s
    for s in (
        SpellingScheme("byt5", equal_info(16)),
        SpellingScheme("shared", SENTENCEPIECE, "Shared"),
        SpellingScheme("characters", SENTENCEPIECE, "Characters"),
    )
}


def spelling_scheme(name: str) -> SpellingScheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown spelling scheme {name!r}; known: {', '.join(SCHEMES)}") from None


def shipped_words() -> list[str]:
    """The shipped word list (lowercase ASCII words, most frequent first)."""
    text = (resources.files("nc.analysis") / "prefix_words.txt").read_text(encoding="utf-8")
    return [w for w in (line.strip() for line in text.splitlines()) if w and not w.startswith("#")]


def split_words(words: Sequence[str], held_out_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """(training words, held-out words): a seeded shuffle, the last ``held_out_fraction`` held out."""
    if not 0 < held_out_fraction < 1:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
    unique = list(dict.fromkeys(words))
    order = np.random.default_rng(seed).permutation(len(unique))
    shuffled = [unique[i] for i in order]
    held = max(1, round(held_out_fraction * len(shuffled)))
    if held >= len(shuffled):
        raise ValueError(f"{len(shuffled)} words leave none for training at held_out_fraction {held_out_fraction}")
    return shuffled[:-held], shuffled[-held:]


def character_ids(
    scheme: SpellingScheme,
    characters: Sequence[str],
    vocab_size: int,
    tokenizer: SentencePieceTokenizer | None = None,
    seed: int = 0,
) -> dict[str, int]:
    """The output id of every character under ``scheme`` (errors name a character it cannot map)."""
    chars = sorted(set(characters))
    if scheme.name == "byt5":
        ids = {c: ord(c) + BYT5_OFFSET for c in chars}
        bad = [c for c, i in ids.items() if len(c.encode()) != 1 or i >= vocab_size]
        if bad:
            raise ValueError(f"characters {bad} have no ByT5 id below the vocabulary size {vocab_size}")
        return ids
    if tokenizer is None:
        raise ValueError(f"scheme {scheme.name!r} needs the SentencePiece tokenizer")
    sp = tokenizer.processor
    if scheme.name == "characters":
        ids = {}
        for c in chars:
            i = sp.piece_to_id(c)
            if sp.is_unknown(i):
                i = sp.piece_to_id(f"<0x{ord(c):02X}>")
            if sp.is_unknown(i):
                raise ValueError(f"character {c!r} has no piece (nor byte piece) in the SentencePiece vocabulary")
            ids[c] = int(i)
        return ids
    # shared: distinct multi-character pieces, drawn with the seed
    pool = [
        i
        for i in range(tokenizer.vocab_size)
        if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i))
        and len(sp.id_to_piece(i).replace("\u2581", "")) > 1
    ]
    if len(pool) < len(chars):
        raise ValueError(f"the vocabulary has {len(pool)} multi-character pieces for {len(chars)} characters")
    drawn = np.random.default_rng(seed).choice(len(pool), len(chars), replace=False)
    return {c: int(pool[j]) for c, j in zip(chars, drawn)}


def spelling_dataset(
    words: Sequence[str],
    inputs: Mapping[str, np.ndarray],
    char_ids: Mapping[str, int],
    separator: int,
    vocab_size: int,
    method: str,
) -> TokenDataset:
    """Rows ``input tokens, separator, character ids`` (``inputs``: each word's tokens under the method)
    scored from the first character on; the sequence length fits the longest row."""
    rows, starts = [], []
    for word in words:
        source = np.asarray(inputs[word], np.int64)
        target = np.asarray([char_ids[c] for c in word], np.int64)
        rows.append(np.concatenate([source, [separator], target]))
        starts.append(len(source) + 1)
    seq_len = max(len(r) for r in rows)
    return pack_rows(
        rows,
        [len(w.encode()) for w in words],
        vocab_size=vocab_size,
        seq_len=seq_len,
        meta={"method": method, "task": "spelling"},
        loss_start=starts,
    )


def separator_id(scheme: SpellingScheme) -> int:
    return EOS_ID if scheme.spec.kind == "SentencePiece" else 0
