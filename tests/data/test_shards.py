"""Sharded example files, split manifests and the streaming scatter-gather shuffle."""

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nc.data.dataset import ShardedTokenDataset, TokenDataset, TokenDatasetWriter, write_token_manifest
from nc.data.examples import join_documents, split_examples
from nc.data.readers import iter_documents
from nc.data.shards import (
    NPY_HEADER_BYTES,
    ExampleShard,
    ExampleShardWriter,
    ExampleSplit,
    NpyAppender,
    NpyReader,
    write_split_manifest,
)
from nc.data.splits import (
    bucket_of_examples,
    bucket_permutation,
    part_files,
    write_corpus_part,
    write_split,
    write_split_shard,
)


def write_shard(directory, examples, **kw):
    with ExampleShardWriter(directory, **kw) as writer:
        for e in examples:
            writer.add(e)
    return ExampleShard(directory)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=30))
def test_example_shard_round_trips_through_numpy_and_pread(tmp_path_factory, examples):
    directory = tmp_path_factory.mktemp("shard") / "s"
    shard = write_shard(directory, examples, count_bytes=True)
    assert shard.read() == examples and len(shard) == len(examples)
    data, offsets = np.load(directory / "data.npy", mmap_mode="r"), np.load(directory / "offsets.npy")
    assert [bytes(data[offsets[i] : offsets[i + 1]]) for i in range(len(examples))] == examples
    assert shard.meta["byte_counts"] == np.bincount(np.frombuffer(b"".join(examples), np.uint8), minlength=256).tolist()
    if examples:
        i = len(examples) // 2
        assert shard.read(i, len(examples)) == examples[i:]
        assert shard.take(np.arange(0, len(examples), 2)) == examples[::2]
    shard.verify()


def test_npy_appender_writes_a_standard_file_of_any_length(tmp_path):
    appender = NpyAppender(tmp_path / "a.npy", np.int32)
    for chunk in (np.arange(5), np.arange(3)):
        appender.append(chunk.astype(np.int32))
    appender.close()
    assert np.load(tmp_path / "a.npy").tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
    assert NpyReader(tmp_path / "a.npy").data_offset == NPY_HEADER_BYTES


def test_shard_problems_name_the_file(tmp_path):
    shard_dir = tmp_path / "s"
    write_shard(shard_dir, [b"abc", b"defg"])
    with open(shard_dir / "data.npy", "r+b") as f:
        f.truncate(NPY_HEADER_BYTES + 2)
    with pytest.raises(ValueError, match=r"data.npy is truncated"):
        ExampleShard(shard_dir)
    with pytest.raises(FileNotFoundError, match="not an example shard: missing data.npy"):
        (shard_dir / "data.npy").unlink() or ExampleShard(shard_dir)
    with pytest.raises(FileNotFoundError, match="split manifest .*missing.json does not exist"):
        ExampleSplit(tmp_path / "missing.json")


def test_a_failed_writer_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with ExampleShardWriter(tmp_path / "s") as writer:
            writer.add(b"x")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_split_reads_across_shard_boundaries(tmp_path):
    examples = [bytes([i]) * (i % 7 + 1) for i in range(40)]
    dirs = [tmp_path / f"{k}" for k in range(3)]
    for d, part in zip(dirs, (examples[:13], examples[13:13], examples[13:])):
        write_shard(d, part)
    manifest = write_split_manifest(dirs, tmp_path / "split" / "manifest.json", split="x")
    split = ExampleSplit(tmp_path / "split" / "manifest.json")
    assert manifest["examples"] == 40 and len(split) == 40 and split.num_bytes == len(b"".join(examples))
    assert split.read(10, 20) == examples[10:20] and list(split.examples(5, 38, size=4)) == examples[5:38]
    stream = b"".join(examples)
    assert (
        split.read_bytes(30, 90) == stream[30:90] and split.read_bytes(len(stream) - 3, len(stream) + 9) == stream[-3:]
    )


# ------------------------------------------------------------------------------------------ shuffle
def make_corpus(root, files, docs_per_file):
    rng = np.random.default_rng(0)
    text = " ".join(iter_documents(None, "train", 40))
    for split, count in (("train", files), ("validation", 1)):
        for i in range(count):
            with gzip.open(root / f"c4-{split}.{i:05d}-of-{count:05d}.json.gz", "wt", encoding="utf-8") as f:
                for _ in range(docs_per_file):
                    start = int(rng.integers(0, len(text) - 3000))
                    f.write(json.dumps({"text": text[start : start + int(rng.integers(50, 3000))]}) + "\n")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("c4"), files=5, docs_per_file=40)


def build_parts(corpus, root, num_parts, example_bytes=512):
    parts = [root / f"part{p}" for p in range(num_parts)]
    for p, d in enumerate(parts):
        write_corpus_part(
            d,
            corpus=corpus,
            corpus_split="train",
            part=p,
            num_parts=num_parts,
            docs_per_sequence=8,
            example_bytes=example_bytes,
        )
    return parts


def build_split(parts, root, *, seed, shards, max_examples=None):
    dirs = [root / f"shard{j}" for j in range(shards)]
    for j, d in enumerate(dirs):
        write_split_shard(d, parts, seed=seed, shard=j, num_shards=shards, max_examples=max_examples)
    write_split(root / "manifest.json", dirs, split="m1_train", seed=seed)
    return ExampleSplit(root / "manifest.json")


def reference_order(parts, seed, shards):
    """The documented shuffle written out naively: every example in memory."""
    buckets = [[] for _ in range(shards)]
    for p, d in enumerate(parts):
        examples = ExampleShard(d).read()
        for example, b in zip(examples, bucket_of_examples(seed, p, len(examples), shards)):
            buckets[b].append(example)
    return [
        e for j, bucket in enumerate(buckets) for i in bucket_permutation(seed, j, len(bucket)) for e in [bucket[i]]
    ]


def test_parts_cover_the_corpus_files_in_order(corpus, tmp_path):
    assert [len(part_files(corpus, "train", p, 2)) for p in range(2)] == [2, 3]
    with pytest.raises(ValueError, match=r"data.parts.train = 6, but the corpus has only 5 c4-train files"):
        part_files(corpus, "train", 0, 6)
    parts = build_parts(corpus, tmp_path, 1)
    docs = list(iter_documents(corpus, "train"))
    expected = [e for s in join_documents(docs, 8) for e in split_examples(s, 512)]
    assert ExampleShard(parts[0]).read() == expected


def test_split_is_the_documented_shuffle_and_a_permutation(corpus, tmp_path):
    parts = build_parts(corpus, tmp_path / "parts", 3)
    split = build_split(parts, tmp_path / "split", seed=7, shards=4)
    everything = [e for d in parts for e in ExampleShard(d).read()]
    assert split.read() == reference_order(parts, 7, 4)
    assert sorted(split.read()) == sorted(everything) and split.read() != everything
    assert (
        split.manifest["byte_counts"]
        == np.bincount(np.frombuffer(b"".join(everything), np.uint8), minlength=256).tolist()
    )
    again = build_split(parts, tmp_path / "again", seed=7, shards=4)
    other = build_split(parts, tmp_path / "other", seed=8, shards=4)
    assert again.read() == split.read() and other.read() != split.read()
    for entry in split.shards:  # the manifest's checksums are those of the data
        ExampleShard(tmp_path / "split" / entry.path).verify()


def test_a_capped_split_is_the_prefix_of_the_full_order(corpus, tmp_path):
    parts = build_parts(corpus, tmp_path / "parts", 2)
    full = build_split(parts, tmp_path / "full", seed=3, shards=5)
    capped = build_split(parts, tmp_path / "capped", seed=3, shards=5, max_examples=len(full) // 3)
    assert capped.read() == full.read(0, len(full) // 3)
    assert [e.examples for e in capped.shards][-1] == 0  # buckets past the cap are empty shards


def test_shard_job_memory_does_not_hold_the_corpus(tmp_path):
    """A shard job of a 10x larger corpus with 10x more shards peaks at the same memory."""

    def peak_mb(files, shards):
        root = tmp_path / f"c{files}"
        root.mkdir()
        parts = build_parts(make_corpus(root, files=files, docs_per_file=2000), root, files, example_bytes=4096)
        child = (
            "import sys; from nc.data.splits import write_split_shard; from nc.pipeline.runtime import peak_rss_mb;"
            "write_split_shard(sys.argv[1], sys.argv[3:], seed=0, shard=0, num_shards=int(sys.argv[2]));"
            "print(peak_rss_mb())"
        )  # a fresh process, as a Snakemake job is
        done = subprocess.run(
            [sys.executable, "-c", child, str(root / "out"), str(shards), *map(str, parts)],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(done.stdout.split()[-1]), sum(os.path.getsize(p / "data.npy") for p in parts) / 2**20

    small_rss, small_mb = peak_mb(1, 1)
    large_rss, large_mb = peak_mb(10, 10)
    assert large_mb > 9 * small_mb > 18
    assert large_rss < small_rss + small_mb, (small_rss, large_rss, small_mb)  # holding the corpus: + large_mb


# ------------------------------------------------------------------------------------ token shards
def test_sharded_token_dataset_reads_rows_in_place(tmp_path):
    rng = np.random.default_rng(1)
    parts, dirs = [], []
    for k, n in enumerate((5, 0, 7)):
        tokens = rng.integers(0, 300, (n, 6)).astype(np.uint16)
        num_tokens = rng.integers(0, 7, n).astype(np.int32)
        tokens[np.arange(6)[None, :] >= num_tokens[:, None]] = 0
        ds = TokenDataset(tokens, num_tokens, num_tokens * 2, {"method": "Bytes", "vocab_size": 300, "seq_len": 6})
        with TokenDatasetWriter(tmp_path / f"s{k}", n, seq_len=6, vocab_size=300, meta={"method": "Bytes"}) as w:
            w.write(0, ds.rows(np.arange(n // 2)))
            w.write(n // 2, ds.rows(np.arange(n // 2, n)))
        parts.append(ds)
        dirs.append(tmp_path / f"s{k}")
    write_token_manifest(dirs, tmp_path / "manifest.json")
    sharded = ShardedTokenDataset(tmp_path / "manifest.json")
    whole = TokenDataset(
        *(np.concatenate([getattr(p, k) for p in parts]) for k in ("tokens", "num_tokens", "num_bytes")),
        meta=parts[0].meta,
    )
    order = np.array([11, 0, 5, 4, 6, 6, 3])
    got = sharded.rows(order)
    assert np.array_equal(got.tokens, whole.tokens[order]) and np.array_equal(got.num_bytes, whole.num_bytes[order])
    assert len(sharded) == 12 and sharded.total_tokens == whole.total_tokens
    assert np.array_equal(sharded.token_counts, whole.token_counts)
    assert sharded.compression_ratio == pytest.approx(whole.compression_ratio)
