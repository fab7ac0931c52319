"""Raw byte examples -> M2 token datasets, one per method (Sections 3.3-3.6, 5.2, 5.3).

* Bytes and SentencePiece tokenise (``nc.data.tokenizers``); bitstream methods compress with
  ``nc.coding.encode_examples``. Every example is trimmed to M2's sequence length (512 tokens at paper
  scale); ``num_bytes`` counts only the raw bytes the kept tokens cover.
* Sequence-to-sequence datasets (Table 5): 1,024-byte inputs compressed whole; ``compress`` is bytes then
  compressed tokens, ``decompress`` compressed tokens then bytes, target ids shifted by the input vocabulary
  size so the two never collide, with ``loss_start`` at the first target; ``bytelm`` is the bytes alone
  (the control that never sees the compressed input).
* M1's rows (``PackedByteRows``): consecutive ``seq_len``-byte slices of a split's examples concatenated in
  split order (packing, as T5X does for language modelling), read on demand; no row is padding but the last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from nc.data.dataset import PAD_ID, TokenDataset, TokenRows, row_chunks, token_dtype
from nc.data.shards import ExampleSplit
from nc.data.tokenizers import BYTES_VOCAB_SIZE, SentencePieceTokenizer, bytes_tokens
from nc.methods import PAPER_PRECISION, MethodSpec
from nc.sections import CodingConfig


@dataclass
class MethodTokens:
    """A tokenised split before packing, plus what compression statistics need from the coder."""

    dataset: TokenDataset
    encoded: list | None  # nc.coding.Encoded per example for bitstream methods, else None


def pack_rows(
    rows: Sequence[np.ndarray],
    num_bytes: Sequence[int],
    *,
    vocab_size: int,
    seq_len: int,
    meta: dict,
    loss_start: Sequence[int] | None = None,
) -> TokenDataset:
    """Pad token rows with ``PAD_ID`` to ``seq_len`` columns (rows must not be longer)."""
    tokens = np.full((len(rows), seq_len), PAD_ID, dtype=token_dtype(vocab_size))
    for i, row in enumerate(rows):
        if len(row) > seq_len:
            raise ValueError(f"row {i} has {len(row)} tokens, more than seq_len={seq_len}")
        if len(row) and int(np.max(row)) >= vocab_size:
            raise ValueError(f"row {i} holds token id {int(np.max(row))} >= vocab_size {vocab_size}")
        tokens[i, : len(row)] = row
    return TokenDataset(
        tokens=tokens,
        num_tokens=np.fromiter((len(r) for r in rows), dtype=np.int32, count=len(rows)),
        num_bytes=np.asarray(num_bytes, dtype=np.int64).reshape(len(rows)),
        meta={**meta, "vocab_size": int(vocab_size), "seq_len": int(seq_len)},
        loss_start=None if loss_start is None else np.asarray(loss_start, dtype=np.int32),
    )


def tokenize_examples(
    examples: Sequence[bytes],
    method: MethodSpec,
    *,
    seq_len: int,
    source=None,
    sentencepiece: SentencePieceTokenizer | None = None,
    precision: int = PAPER_PRECISION,
    batch_size: int = CodingConfig.batch_size,
    progress: bool = False,
    encoder=None,
) -> MethodTokens:
    """Tokenise / compress ``examples`` with ``method``, each trimmed to ``seq_len`` tokens.

    ``source`` is the probability source of bitstream methods (M1 for AC / EqualInfoAC, a static unigram
    for StaticAC, None for GZip); ``sentencepiece`` the trained tokenizer for SentencePiece; ``encoder``
    (``nc.coding.make_encoder``) a coder kept across calls.
    """
    bar = tqdm(total=len(examples), desc=f"tokenize {method.label}", disable=not progress, unit="ex")
    chunks = tokenize_chunks(
        [examples],
        method,
        seq_len=seq_len,
        source=source,
        sentencepiece=sentencepiece,
        precision=precision,
        batch_size=batch_size,
        on_done=bar.update,
        encoder=encoder,
    )
    (tokens,) = list(chunks)
    bar.close()
    return tokens


def tokenize_chunks(
    chunks: Iterable[Sequence[bytes]],
    method: MethodSpec,
    *,
    seq_len: int,
    source=None,
    sentencepiece: SentencePieceTokenizer | None = None,
    precision: int = PAPER_PRECISION,
    batch_size: int = CodingConfig.batch_size,
    on_done: Callable[[int], object] | None = None,
    encoder=None,
) -> Iterator[MethodTokens]:
    """``tokenize_examples`` of each chunk of a stream, in order; bitstream methods code the stream without
    a break between chunks (``nc.coding.encode_example_chunks``). ``on_done(n)``: n more examples are done."""
    meta: dict[str, Any] = {"method": method.label}
    if method.kind in ("Bytes", "SentencePiece"):
        for examples in chunks:
            yield _tokenized(examples, method, seq_len, sentencepiece, meta)
            on_done and on_done(len(examples))
        return
    from nc.coding import encode_example_chunks  # numba's import costs seconds; Bytes / SentencePiece jobs skip it

    for encoded in encode_example_chunks(
        chunks,
        method,
        source,
        precision=precision,
        max_tokens=seq_len,
        batch_size=batch_size,
        on_done=on_done,
        encoder=encoder,
    ):
        coded = dict(meta, side_info_bits=int(sum(e.side_info_bits for e in encoded)))
        if method.kind == "EqualInfoAC":
            coded["windows"] = int(sum(0 if e.window_starts is None else len(e.window_starts) for e in encoded))
            coded["rule_exceptions"] = int(sum(e.rule_exceptions for e in encoded))
        dataset = pack_rows(
            [e.tokens for e in encoded],
            [e.num_bytes for e in encoded],
            vocab_size=method.fixed_vocab_size,
            seq_len=seq_len,
            meta=coded,
        )
        yield MethodTokens(dataset, encoded)


def _tokenized(
    examples: Sequence[bytes],
    method: MethodSpec,
    seq_len: int,
    sentencepiece: SentencePieceTokenizer | None,
    meta: dict[str, Any],
) -> MethodTokens:
    """Bytes or SentencePiece tokens of ``examples``, trimmed to ``seq_len``."""
    if method.kind == "Bytes":
        rows = [bytes_tokens(e, seq_len) for e in examples]
        return MethodTokens(
            pack_rows(rows, [len(r) for r in rows], vocab_size=BYTES_VOCAB_SIZE, seq_len=seq_len, meta=meta), None
        )
    if sentencepiece is None:
        raise ValueError("SentencePiece needs a trained tokenizer (sentencepiece=...)")
    pairs = [sentencepiece.encode(e, seq_len) for e in examples]
    rows = [p[0] for p in pairs]
    return MethodTokens(
        pack_rows(rows, [p[1] for p in pairs], vocab_size=sentencepiece.vocab_size, seq_len=seq_len, meta=meta),
        None,
    )


def decoded_prefixes(
    method: MethodSpec,
    dataset: TokenDataset,
    encoded: list | None,
    indices: Sequence[int],
    *,
    source=None,
    sentencepiece: SentencePieceTokenizer | None = None,
    precision: int = PAPER_PRECISION,
    batch_size: int = CodingConfig.batch_size,
) -> list[bytes]:
    """The raw bytes examples ``indices`` of a tokenised split decode back to (for lossless checks).

    Bitstream methods decode the examples together, ``batch_size`` per source call, so a check of k
    examples costs about as many M1 calls as one example."""
    if method.kind == "Bytes":
        return [dataset.tokens[i, : dataset.num_tokens[i]].tobytes() for i in indices]
    if method.kind == "SentencePiece":
        if sentencepiece is None:
            raise ValueError("decoding SentencePiece rows needs the tokenizer (sentencepiece=...)")
        return [sentencepiece.decode(dataset.tokens[i, : dataset.num_tokens[i]]) for i in indices]
    if encoded is None:
        raise ValueError(f"decoding {method.label} rows needs their encodings (encoded=...)")
    from nc.coding import decode_examples  # (numba, as above)

    return decode_examples([encoded[i] for i in indices], method, source, precision=precision, batch_size=batch_size)


def seq2seq_inputs(examples: Sequence[bytes], input_bytes: int, max_examples: int | None = None) -> list[bytes]:
    """Consecutive full ``input_bytes`` chunks of each example (shorter tails dropped), in order."""
    chunks = [e[i : i + input_bytes] for e in examples for i in range(0, len(e) - input_bytes + 1, input_bytes)]
    return chunks if max_examples is None else chunks[:max_examples]


def seq2seq_chunk_ranges(split: ExampleSplit, input_bytes: int, first: int, stop: int):
    """Where chunks ``first:stop`` of ``seq2seq_inputs`` over the whole split lie, without reading examples.

    Yields (example start, example stop, chunks to skip in that range, chunks to keep), one per split shard
    the range touches; reads only the offsets of shards up to the range's end.
    """
    seen = 0  # chunks before the current shard
    for s in range(len(split.shards)):
        if seen >= stop:
            return
        counts = split.shard(s).lengths() // input_bytes
        total = int(counts.sum())
        if seen + total > first and total:
            ends = np.cumsum(counts) + seen  # chunks up to and including each example
            lo = int(np.searchsorted(ends, first, side="right"))
            hi = min(int(np.searchsorted(ends, stop, side="left")) + 1, len(counts))
            before = seen if lo == 0 else int(ends[lo - 1])
            keep = min(stop, seen + total) - max(first, before)
            base = int(split.example_starts[s])
            yield base + lo, base + hi, max(first, before) - before, keep
        seen += total


def seq2seq_datasets(
    chunks: Sequence[bytes], encoded: Sequence, method: MethodSpec, seq_len: int
) -> dict[str, TokenDataset]:
    """The three Table 5 datasets of ``chunks`` and their whole-chunk encodings ``encoded``.

    Rows longer than ``seq_len`` lose their final target tokens (counted in meta ``truncated_rows``).
    """
    code_vocab = method.fixed_vocab_size
    byte_rows = [bytes_tokens(c).astype(np.int64) for c in chunks]
    code_rows = [np.asarray(e.tokens, dtype=np.int64) for e in encoded]
    layouts = {
        "compress": (
            [np.concatenate([b, c + BYTES_VOCAB_SIZE]) for b, c in zip(byte_rows, code_rows)],
            [len(b) for b in byte_rows],
            BYTES_VOCAB_SIZE + code_vocab,
        ),
        "decompress": (
            [np.concatenate([c, b + code_vocab]) for b, c in zip(byte_rows, code_rows)],
            [len(c) for c in code_rows],
            code_vocab + BYTES_VOCAB_SIZE,
        ),
        "bytelm": (byte_rows, [0] * len(byte_rows), BYTES_VOCAB_SIZE),
    }
    out = {}
    for task, (rows, starts, vocab) in layouts.items():
        truncated = sum(len(r) > seq_len for r in rows)
        meta = {"method": method.label, "task": task, "truncated_rows": int(truncated)}
        out[task] = pack_rows(
            [r[:seq_len] for r in rows],
            [len(c) for c in chunks],
            vocab_size=vocab,
            seq_len=seq_len,
            meta=meta,
            loss_start=starts,
        )
    return out


class TruncatedRows:
    """The first ``seq_len`` columns of a dataset's rows (Table 6's byte-matched run: half-length sequences).

    Bytes covered by the kept tokens are not stored per token, so ``num_bytes`` is scaled by the kept
    fraction of each row's tokens: the dataset's compression ratio is preserved, which is what bits/byte uses.
    """

    def __init__(self, base: TokenRows, seq_len: int):
        if seq_len > base.seq_len:
            raise ValueError(f"cannot truncate seq_len {base.seq_len} to a longer {seq_len}")
        self.base = base
        self._seq_len = int(seq_len)
        self.meta = {**base.meta, "seq_len": int(seq_len)}
        self._ratio: float | None = None

    def __len__(self) -> int:
        return len(self.base)

    @property
    def seq_len(self) -> int:
        return self._seq_len

    @property
    def vocab_size(self) -> int:
        return self.base.vocab_size

    @property
    def compression_ratio(self) -> float:
        if self._ratio is None:  # a pass over the per-row counts: only validation sets ask
            tokens = total = 0
            for part in row_chunks(self):
                tokens += int(part.num_tokens.sum())
                total += int(part.num_bytes.sum())
            self._ratio = total / max(tokens, 1)
        return self._ratio

    def rows(self, indices: np.ndarray) -> TokenDataset:
        return truncate_dataset(self.base.rows(indices), self._seq_len)


def truncate_dataset(dataset: TokenDataset, seq_len: int) -> TokenDataset:
    """``TruncatedRows`` of an in-memory dataset, materialised."""
    if seq_len > dataset.seq_len:
        raise ValueError(f"cannot truncate seq_len {dataset.seq_len} to a longer {seq_len}")
    kept = np.minimum(dataset.num_tokens, seq_len)
    fraction = kept / np.maximum(dataset.num_tokens, 1)
    return TokenDataset(
        tokens=np.ascontiguousarray(dataset.tokens[:, :seq_len]),
        num_tokens=kept.astype(np.int32),
        num_bytes=np.rint(dataset.num_bytes * fraction).astype(np.int64),
        meta={**dataset.meta, "seq_len": int(seq_len)},
        loss_start=None if dataset.loss_start is None else np.minimum(dataset.loss_start, seq_len),
    )


class PackedByteRows:
    """M1's training or validation rows: bytes ``[r * seq_len, (r + 1) * seq_len)`` of a split's examples
    concatenated in split order, read on demand (only the last row is short)."""

    def __init__(self, split: ExampleSplit, seq_len: int):
        if seq_len < 1:
            raise ValueError(f"seq_len must be >= 1, got {seq_len}")
        self.split = split
        self._seq_len = int(seq_len)
        self.meta = {"method": "Bytes", "vocab_size": BYTES_VOCAB_SIZE, "seq_len": self._seq_len}

    def __len__(self) -> int:
        return -(-self.split.num_bytes // self._seq_len)

    @property
    def seq_len(self) -> int:
        return self._seq_len

    @property
    def vocab_size(self) -> int:
        return BYTES_VOCAB_SIZE

    @property
    def compression_ratio(self) -> float:
        return 1.0

    def rows(self, indices: np.ndarray) -> TokenDataset:
        rows = [
            bytes_tokens(self.split.read_bytes(r * self._seq_len, (r + 1) * self._seq_len))
            for r in np.asarray(indices, dtype=np.int64)
        ]
        return pack_rows(
            rows, [len(r) for r in rows], vocab_size=BYTES_VOCAB_SIZE, seq_len=self._seq_len, meta=self.meta
        )
