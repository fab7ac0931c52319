"""From documents to fixed-length raw byte examples (Section 3.1).

Documents are UTF-8 encoded and each is followed by ``END_OF_DOCUMENT`` (0xFF, a byte that never occurs
in UTF-8, playing the role of C4's ``<EOS>``). ``docs_per_sequence`` (128 in the paper) documents are
concatenated into one long "contiguous" sequence, which is cut into examples of ``example_bytes``
(10,240 in the paper); the last, shorter piece of each sequence is kept, as in the paper's data
(Appendix D.2). ``nc.data.splits`` streams a corpus through these functions into shuffled, sharded
splits (``nc.data.shards``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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
