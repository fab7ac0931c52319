import gzip
import json

import pytest

from nc.data.examples import END_OF_DOCUMENT, join_documents, shard_range, split_examples
from nc.data.readers import EMBEDDED_CORPUS, file_documents, iter_documents, shard_paths


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
    (c4_dir / "c4-train.00000-of-00002.json.gz").write_bytes(b"plain text, not gzip")
    with pytest.raises(ValueError, match=r"c4-train.00000-of-00002.json.gz: not a readable gzip file"):
        list(iter_documents(c4_dir, "train"))


def test_file_documents_stops_after_its_limit(c4_dir):
    assert list(file_documents(c4_dir / "c4-train.00000-of-00002.json.gz", 1)) == ["first"]


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


def test_shard_range_covers_everything_once():
    ranges = [shard_range(10, i, 3) for i in range(3)]
    assert ranges == [(0, 3), (3, 6), (6, 10)]
    with pytest.raises(ValueError, match="shard 3"):
        shard_range(10, 3, 3)
