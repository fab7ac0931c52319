import gzip
import json

import numpy as np
import pytest

from nc.data.examples import (
    END_OF_DOCUMENT,
    build_examples,
    count_examples,
    join_documents,
    load_examples,
    save_examples,
    shard_range,
    shuffle_examples,
    split_examples,
)
from nc.data.readers import EMBEDDED_CORPUS, iter_documents, shard_paths


def write_shard(path, records):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")


@pytest.fixture
def c4_dir(tmp_path):
    write_shard(tmp_path / "c4-train.00001-of-00002.json.gz", [{"text": "third"}, {"text": "fourth", "url": "u"}])
    write_shard(tmp_path / "c4-train.00000-of-00002.json.gz", [{"text": "first"}, {"text": "sécond"}])
    write_shard(tmp_path / "c4-validation.00000-of-00001.json.gz", [{"text": "held out"}])
    return tmp_path


def test_reader_streams_shards_in_order(c4_dir):
    assert list(iter_documents(c4_dir, "train")) == ["first", "sécond", "third", "fourth"]
    assert list(iter_documents(c4_dir, "validation")) == ["held out"]
    assert list(iter_documents(c4_dir, "train", max_documents=3)) == ["first", "sécond", "third"]


def test_reader_errors_name_the_problem(c4_dir, tmp_path):
    with pytest.raises(ValueError, match="unknown C4 split 'test'"):
        shard_paths(c4_dir, "test")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no c4-train"):
        shard_paths(tmp_path / "empty", "train")
    write_shard(c4_dir / "c4-validation.00000-of-00001.json.gz", [{"text": "ok"}, {"body": "no text"}])
    with pytest.raises(ValueError, match=r"c4-validation.00000-of-00001.json.gz:2: record has no string 'text'"):
        list(iter_documents(c4_dir, "validation"))
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        list(iter_documents(tmp_path / "missing", "train"))


def test_embedded_corpus_is_real_shakespeare_with_held_out_plays():
    assert len(shard_paths(None, "train")) == 4 and len(shard_paths("embedded", "validation")) == 1
    train = list(iter_documents(None, "train"))
    valid = list(iter_documents(None, "validation"))
    assert len(train) > 500 and len(valid) > 50
    assert any("To be, or not to be" in d for d in train)  # Hamlet trains
    assert any("Fair is foul, and foul is fair" in d for d in valid)  # Macbeth is held out
    assert not any("Fair is foul, and foul is fair" in d for d in train)
    assert not any(c in d for d in train[:50] for c in "*_#\\")  # markdown stripped
    assert all(END_OF_DOCUMENT not in d.encode("utf-8") for d in train + valid)
    assert (EMBEDDED_CORPUS / "README.md").is_file()


def test_join_documents_appends_marker_and_groups():
    seqs = list(join_documents(["ab", "c", "dé", "e", "f"], docs_per_sequence=2))
    eod = bytes([END_OF_DOCUMENT])
    assert seqs == [b"ab" + eod + b"c" + eod, "dé".encode() + eod + b"e" + eod, b"f" + eod]
    with pytest.raises(ValueError, match="docs_per_sequence"):
        list(join_documents(["a"], 0))


def test_split_examples_keeps_short_tail():
    assert split_examples(b"abcdefg", 3) == [b"abc", b"def", b"g"]
    assert split_examples(b"abcdef", 3) == [b"abc", b"def"]
    with pytest.raises(ValueError, match="example_bytes"):
        split_examples(b"a", 0)


def test_shuffle_is_deterministic_permutation():
    examples = [bytes([i]) for i in range(50)]
    a, b, c = shuffle_examples(examples, 7), shuffle_examples(examples, 7), shuffle_examples(examples, 8)
    assert a == b and a != c and a != examples
    assert sorted(a) == sorted(examples)


def test_build_examples_and_roundtrip(tmp_path):
    docs = [f"document number {i} " * (i + 1) for i in range(40)]
    ex = build_examples(docs, docs_per_sequence=8, example_bytes=64, seed=3)
    eod = bytes([END_OF_DOCUMENT])
    assert all(len(e) <= 64 for e in ex)
    assert b"".join(sorted(ex)) != b"" and sum(map(len, ex)) == sum(len(d.encode()) + 1 for d in docs)
    assert sum(e.count(eod) for e in ex) == 40
    assert build_examples(docs, docs_per_sequence=8, example_bytes=64, seed=3, max_examples=5) == ex[:5]
    path = tmp_path / "split.npz"
    save_examples(path, ex)
    assert path.exists() and not list(tmp_path.glob("*.tmp"))
    assert load_examples(path) == ex and count_examples(path) == len(ex)
    assert load_examples(path, 2, 5) == ex[2:5]


def test_shard_range_covers_everything_once():
    ranges = [shard_range(10, i, 3) for i in range(3)]
    assert ranges == [(0, 3), (3, 6), (6, 10)]
    with pytest.raises(ValueError, match="shard 3"):
        shard_range(10, 3, 3)
