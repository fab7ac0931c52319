"""From documents to fixed-length raw byte examples (Section 3.1), and their on-disk format.

Documents are UTF-8 encoded and each is followed by ``END_OF_DOCUMENT`` (0xFF, a byte that never occurs
in UTF-8, playing the role of C4's ``<EOS>``). ``docs_per_sequence`` (128 in the paper) documents are
concatenated into one long "contiguous" sequence, which is cut into examples of ``example_bytes``
(10,240 in the paper); the last, shorter piece of each sequence is kept, as in the paper's data
(Appendix D.2). The examples of a split are then shuffled with a seeded permutation.

On disk a split is an ``.npz`` with ``data`` (uint8, all examples concatenated) and ``offsets``
(int64 [N + 1]): example i is ``data[offsets[i]:offsets[i + 1]]``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from nc.io import atomic_path

END_OF_DOCUMENT = 0xFF
_EOD = bytes([END_OF_DOCUMENT])


def join_documents(documents: Iterable[str], docs_per_sequence: int) -> Iterator[bytes]:
    """Concatenate documents, each followed by the end-of-document byte, ``docs_per_sequence`` at a time.

    The final sequence holds the remaining (fewer) documents.
    """
    if docs_per_sequence < 1:
        raise ValueError(f"docs_per_sequence must be >= 1, got {docs_per_sequence}")
    group: list[bytes] = []
    for text in documents:
        group.append(text.encode("utf-8") + _EOD)
        if len(group) == docs_per_sequence:
            yield b"".join(group)
            group = []
    if group:
        yield b"".join(group)


def split_examples(sequence: bytes, example_bytes: int) -> list[bytes]:
    """Cut a long sequence into consecutive examples of ``example_bytes``; the last may be shorter."""
    if example_bytes < 1:
        raise ValueError(f"example_bytes must be >= 1, got {example_bytes}")
    return [sequence[i : i + example_bytes] for i in range(0, len(sequence), example_bytes)]


def shuffle_examples(examples: Sequence[bytes], seed: int) -> list[bytes]:
    """A seeded permutation of ``examples``: the same seed always gives the same order."""
    order = np.random.default_rng(seed).permutation(len(examples))
    return [examples[i] for i in order]


def build_examples(
    documents: Iterable[str],
    *,
    docs_per_sequence: int,
    example_bytes: int,
    seed: int,
    max_examples: int | None = None,
) -> list[bytes]:
    """Join, split and shuffle; keep the first ``max_examples`` of the shuffled examples (None: all)."""
    examples = [
        example
        for sequence in join_documents(documents, docs_per_sequence)
        for example in split_examples(sequence, example_bytes)
    ]
    examples = shuffle_examples(examples, seed)
    return examples if max_examples is None else examples[:max_examples]


def save_examples(path: str | Path, examples: Sequence[bytes]) -> None:
    """Write examples atomically in the ``.npz`` format described above."""
    lengths = np.fromiter((len(e) for e in examples), dtype=np.int64, count=len(examples))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    data = np.frombuffer(b"".join(examples), dtype=np.uint8)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:  # a file object keeps numpy from appending ".npz" to the temporary name
            np.savez(f, data=data, offsets=offsets)


def load_examples(path: str | Path, start: int = 0, stop: int | None = None) -> list[bytes]:
    """Examples ``start:stop`` of a split written by ``save_examples``."""
    with np.load(path) as archive:
        offsets, data = archive["offsets"], archive["data"]
    count = len(offsets) - 1
    stop = count if stop is None else min(stop, count)
    return [data[offsets[i] : offsets[i + 1]].tobytes() for i in range(start, stop)]


def count_examples(path: str | Path) -> int:
    """Number of examples in a split file, without materialising them."""
    with np.load(path) as archive:
        return len(archive["offsets"]) - 1


def shard_range(count: int, shard: int, num_shards: int) -> tuple[int, int]:
    """The [start, stop) example range of shard ``shard`` of ``num_shards`` contiguous, near-equal shards."""
    if not 0 <= shard < num_shards:
        raise ValueError(f"shard {shard} is outside 0..{num_shards - 1}")
    return count * shard // num_shards, count * (shard + 1) // num_shards


def split_documents(examples: Iterable[bytes]) -> Iterator[bytes]:
    """The document pieces of examples (split at end-of-document bytes), markers removed, empties dropped."""
    for example in examples:
        for piece in example.split(_EOD):
            if piece:
                yield piece
