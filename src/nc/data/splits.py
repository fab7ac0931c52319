"""The corpus as shuffled, sharded splits (Section 3.1), built in two streaming passes.

**Parts.** The json.gz files of one corpus split (C4's ``train`` or ``validation``) are divided into
``num_parts`` contiguous groups of files. Each *corpus part* streams its files' documents, joins them
``docs_per_sequence`` at a time (each followed by ``END_OF_DOCUMENT``), cuts the sequences into examples of
``example_bytes`` (the last, shorter piece of each sequence kept, as in the paper's data) and writes them in
stream order to one example shard (``nc.data.shards``). A part's sequences never span two parts.

**Shuffle.** A split (``m1_train``, ``m2_train``, ``valid``) of ``num_shards`` shards with seed ``s`` orders
the examples of all parts by the scatter-gather shuffle of Rao (1961) and Sandelius (1962):

1. example k of part p goes to bucket ``B[p][k]``, where ``B[p] = default_rng(SeedSequence(s, spawn_key=(0, p)))
   .integers(num_shards, size=len(part p))``;
2. bucket j (its examples in part order, then stream order) is permuted by
   ``default_rng(SeedSequence(s, spawn_key=(1, j))).permutation(len(bucket j))``;
3. the split is bucket 0, then bucket 1, ...; with ``max_examples`` only its first ``max_examples`` are kept.

Independent uniform buckets followed by uniform permutations within them give a uniformly random
permutation of all examples, and shard j of the split is bucket j (its kept part): each shard job reads
only its own examples from every part, and no job holds more than one bucket. The order is an exact
function of the seed, the parts and ``num_shards``.

Relation of the splits (as before streaming): ``m1_train`` and ``m2_train`` are two independently shuffled
orders of the same training examples (``m2_train`` a prefix of its order), ``valid`` a shuffled prefix of the
validation examples, which M1 never sees (Section 3.2).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from nc.data.examples import join_documents, split_examples
from nc.data.readers import file_documents, shard_paths
from nc.data.shards import ExampleShard, ExampleShardWriter, write_split_manifest

log = logging.getLogger(__name__)


def part_files(corpus: str | Path | None, corpus_split: str, part: int, num_parts: int) -> list[Path]:
    """The json.gz files of corpus part ``part`` of ``num_parts`` (contiguous, near-equal groups)."""
    files = shard_paths(corpus, corpus_split)
    if not 0 <= part < num_parts:
        raise ValueError(f"corpus part {part} is outside 0..{num_parts - 1}")
    if num_parts > len(files):
        raise ValueError(
            f"data.parts.{corpus_split} = {num_parts}, but the corpus has only {len(files)} "
            f"c4-{corpus_split} files in {files[0].parent}: use at most {len(files)} parts"
        )
    return files[part * len(files) // num_parts : (part + 1) * len(files) // num_parts]


def part_examples(
    files: Sequence[Path],
    *,
    docs_per_sequence: int,
    example_bytes: int,
    max_documents_per_file: int | None = None,
    progress: bool = False,
) -> Iterator[bytes]:
    """The examples of a corpus part in stream order."""

    def documents() -> Iterator[str]:
        for path in tqdm(files, desc="corpus files", unit="file", disable=not progress):
            yield from file_documents(path, max_documents_per_file)

    for sequence in join_documents(documents(), docs_per_sequence):
        yield from split_examples(sequence, example_bytes)


def write_corpus_part(
    out_dir: str | Path,
    *,
    corpus: str | Path | None,
    corpus_split: str,
    part: int,
    num_parts: int,
    docs_per_sequence: int,
    example_bytes: int,
    max_documents_per_file: int | None = None,
    progress: bool = False,
) -> int:
    """Stream corpus part ``part`` into an example shard at ``out_dir``; returns its example count."""
    files = part_files(corpus, corpus_split, part, num_parts)
    meta = {
        "corpus_split": corpus_split,
        "part": part,
        "num_parts": num_parts,
        "files": [p.name for p in files],
        "docs_per_sequence": docs_per_sequence,
        "example_bytes": example_bytes,
    }
    with ExampleShardWriter(out_dir, meta=meta) as writer:
        for example in part_examples(
            files,
            docs_per_sequence=docs_per_sequence,
            example_bytes=example_bytes,
            max_documents_per_file=max_documents_per_file,
            progress=progress,
        ):
            writer.add(example)
    log.info("%s part %d/%d: %d examples from %d files", corpus_split, part, num_parts, len(writer.lengths), len(files))
    return len(writer.lengths)


def bucket_of_examples(seed: int, part: int, count: int, num_buckets: int) -> np.ndarray:
    """Step 1 of the shuffle: the bucket of each of the ``count`` examples of ``part``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, part)))
    return rng.integers(num_buckets, size=count, dtype=np.int64)


def bucket_permutation(seed: int, bucket: int, size: int) -> np.ndarray:
    """Step 2 of the shuffle: the order of bucket ``bucket``'s ``size`` examples."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, bucket))).permutation(size)


def kept_in_bucket(bucket_sizes: np.ndarray, bucket: int, max_examples: int | None) -> int:
    """Step 3: how many of bucket ``bucket``'s examples fall within the split's first ``max_examples``."""
    size = int(bucket_sizes[bucket])
    if max_examples is None:
        return size
    before = int(bucket_sizes[:bucket].sum())
    return max(0, min(size, int(max_examples) - before))


def write_split_shard(
    out_dir: str | Path,
    part_dirs: Sequence[str | Path],
    *,
    seed: int,
    shard: int,
    num_shards: int,
    max_examples: int | None = None,
    progress: bool = False,
) -> int:
    """Shard ``shard`` of a split: its bucket's kept examples, in shuffled order. Returns their count.

    Reads only the kept examples, one part at a time; memory holds this shard's bytes.
    """
    if not 0 <= shard < num_shards:
        raise ValueError(f"split shard {shard} is outside 0..{num_shards - 1}")
    parts = [ExampleShard(p) for p in part_dirs]
    sizes = np.zeros(num_shards, np.int64)
    members = []  # bucket order: part, then stream position
    for i, part in enumerate(parts):  # one part's assignments at a time: memory ~ the largest part's count
        buckets = bucket_of_examples(seed, i, len(part), num_shards)
        sizes += np.bincount(buckets, minlength=num_shards)
        members.append(np.flatnonzero(buckets == shard))
    order = bucket_permutation(seed, shard, int(sizes[shard]))[: kept_in_bucket(sizes, shard, max_examples)]
    # Read only what is kept, part by part in file order, then write in shuffled order.
    part_of = np.concatenate([np.full(len(m), i) for i, m in enumerate(members)]) if members else np.zeros(0, int)
    local = np.concatenate(members) if members else np.zeros(0, np.int64)
    wanted = np.sort(order)
    examples: dict[int, bytes] = {}
    for i in tqdm(np.unique(part_of[wanted]), desc=f"shard {shard}", unit="part", disable=not progress):
        positions = wanted[part_of[wanted] == i]
        examples.update(zip(positions.tolist(), parts[i].take(local[positions])))
    meta = {"shard": shard, "num_shards": num_shards, "seed": seed, "bucket_examples": int(sizes[shard])}
    with ExampleShardWriter(out_dir, count_bytes=True, meta=meta) as writer:
        for position in order:
            writer.add(examples.pop(int(position)))
    return len(order)


def write_split(manifest_path: str | Path, shard_dirs: Sequence[str | Path], *, split: str, seed: int) -> dict:
    """The manifest of a split from its shards (``nc.data.shards.write_split_manifest``)."""
    manifest = write_split_manifest(shard_dirs, manifest_path, split=split, seed=seed)
    if manifest["examples"] == 0:
        raise ValueError(f"data.splits.{split}: the corpus yields no examples")
    log.info(
        "%s: %d examples, %d bytes in %d shards",
        split,
        manifest["examples"],
        manifest["bytes"],
        len(manifest["shards"]),
    )
    return manifest
