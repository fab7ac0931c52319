"""The two baseline tokenisers of Section 3.6: UTF-8 bytes and a SentencePiece unigram model.

Both map a raw byte example (documents separated by ``END_OF_DOCUMENT``) to token ids and report how
many raw bytes a prefix of tokens covers, which is what trimming to M2's sequence length needs.

SentencePiece: the paper used T5's pre-trained 32k vocabulary, which cannot be downloaded here, so nc
trains a unigram model with the ``sentencepiece`` library on training text. Unlike T5's model it is
lossless (identity normalisation, no dummy prefix, whitespace kept, byte fallback), so the bytes its
tokens cover are exactly the bytes of the text. Ids follow T5: 0 = pad, 1 = EOS (the end-of-document
marker, one byte), 2 = unknown.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from nc.data.examples import END_OF_DOCUMENT, split_documents
from nc.io import atomic_path
from nc.sections import SentencePieceConfig

BYTES_VOCAB_SIZE = 256
PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
# SentencePiece's trainer skips longer sentences; documents are fed in chunks of at most this many bytes.
_MAX_SENTENCE_BYTES = 4096
_EOD = bytes([END_OF_DOCUMENT])


def bytes_tokens(example: bytes, max_tokens: int | None = None) -> np.ndarray:
    """The Bytes baseline (ByT5-style, vocabulary 256): token i is byte i; each covers one byte."""
    return np.frombuffer(example[:max_tokens], dtype=np.uint8).copy()


def train_sentencepiece(
    examples: Iterable[bytes],
    model_path: str | Path,
    vocab_size: int,
    *,
    max_sentences: int = SentencePieceConfig.max_sentences,
    threads: int = 1,
    seed: int = SentencePieceConfig.seed,
) -> None:
    """Train a lossless unigram SentencePiece model on the documents of ``examples``; write it atomically.

    Reads ``examples`` lazily and stops after the first ``max_sentences`` training sentences, so its cost is
    bounded by that number, not by the corpus. ``vocab_size`` is a soft limit (the trainer may stop below it
    on small corpora).
    """
    import sentencepiece as spm

    model = io.BytesIO()
    spm.set_random_generator_seed(seed)
    spm.SentencePieceTrainer.train(
        sentence_iterator=itertools.islice(_training_sentences(examples), max_sentences),
        model_writer=model,
        model_type="unigram",
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        normalization_rule_name="identity",
        add_dummy_prefix=False,
        remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True,
        split_by_whitespace=True,
        byte_fallback=True,
        character_coverage=0.9995,
        pad_id=PAD_ID,
        eos_id=EOS_ID,
        unk_id=UNK_ID,
        bos_id=-1,
        max_sentence_length=_MAX_SENTENCE_BYTES * 4,
        input_sentence_size=max_sentences,
        shuffle_input_sentence=True,
        num_threads=threads,
        minloglevel=2,
    )
    with atomic_path(model_path) as tmp:
        tmp.write_bytes(model.getvalue())


def _training_sentences(examples: Iterable[bytes]) -> Iterator[str]:
    """Document texts cut at line ends into chunks the trainer accepts (it rejects very long sentences)."""
    for piece in split_documents(examples):
        text = piece.decode("utf-8", errors="ignore")
        chunk: list[str] = []
        size = 0
        for line in text.splitlines(keepends=True):
            if chunk and size + len(line) > _MAX_SENTENCE_BYTES:
                yield "".join(chunk)
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            yield "".join(chunk)


class SentencePieceTokenizer:
    """A trained model applied to raw byte examples."""

    def __init__(self, model_path: str | Path):
        import sentencepiece as spm

        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"SentencePiece model {path} does not exist")
        self.processor = spm.SentencePieceProcessor(model_file=str(path))
        self.vocab_size = int(self.processor.get_piece_size())
        self.token_bytes = self._token_byte_lengths()

    def _token_byte_lengths(self) -> np.ndarray:
        """Raw bytes each id stands for: byte pieces 1, EOS 1 (the end-of-document byte), controls 0."""
        sp = self.processor
        lengths = np.zeros(self.vocab_size, dtype=np.int64)
        for i in range(self.vocab_size):
            if sp.is_byte(i) or i == EOS_ID:
                lengths[i] = 1
            elif not (sp.is_control(i) or sp.is_unknown(i)):
                lengths[i] = len(sp.id_to_piece(i).replace("\u2581", " ").encode("utf-8"))
        return lengths

    def encode(self, example: bytes, max_tokens: int | None = None) -> tuple[np.ndarray, int]:
        """(ids, bytes covered) of ``example``, stopped after ``max_tokens`` tokens.

        Each end-of-document byte becomes EOS. A UTF-8 character cut by the example boundary cannot be
        tokenised: its bytes are skipped and not counted as covered.
        """
        ids: list[int] = []
        pieces = example.split(_EOD)
        for j, piece in enumerate(pieces):
            if piece:
                ids.extend(self.processor.encode(piece.decode("utf-8", errors="ignore")))
            if j < len(pieces) - 1:
                ids.append(EOS_ID)
            if max_tokens is not None and len(ids) >= max_tokens:
                break
        tokens = np.asarray(ids[:max_tokens], dtype=np.int64)
        return tokens, int(self.token_bytes[tokens].sum())

    def decode(self, ids: np.ndarray) -> bytes:
        """Raw bytes of ``ids`` (EOS back to the end-of-document byte)."""
        out: list[bytes] = []
        run: list[int] = []
        for i in (int(t) for t in ids):
            if i == EOS_ID:
                out.append(self.processor.decode(run).encode("utf-8") + _EOD)
                run = []
            elif i != PAD_ID:
                run.append(i)
        out.append(self.processor.decode(run).encode("utf-8"))
        return b"".join(out)
