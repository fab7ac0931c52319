"""Pipeline steps that run without trained models: sharded data preparation, tokenisation, manifests, stats."""

import json
from pathlib import Path

import numpy as np
import pytest

from nc.data.dataset import ShardedTokenDataset, TokenDataset
from nc.data.examples import END_OF_DOCUMENT
from nc.data.readers import iter_documents
from nc.data.shards import ExampleSplit
from nc.methods import parse_method
from nc.pipeline import steps
from nc.pipeline.config import CORPUS_SPLIT_OF
from nc.pipeline.steps import (
    byte_unigram,
    compress_shard,
    compression_stats,
    corpus_part,
    method_manifests,
    split_manifest,
    split_shard,
    train_sentencepiece_model,
    window_tokens,
)
from nc.sections import CodingConfig, DataConfig, SentencePieceConfig

DATA = {
    "corpus": "embedded",
    "docs_per_sequence": 4,
    "example_bytes": 512,
    "parts": {"train": 2, "validation": 1},
    "max_documents_per_file": {"train": 6, "validation": 8},
    "splits": {
        "m1_train": {"examples": 40, "seed": 0, "shards": 2},
        "m2_train": {"examples": 12, "seed": 1, "shards": 3},
        "valid": {"examples": 6, "seed": 2, "shards": 1},
    },
}
CODING = CodingConfig(
    precision=14,
    batch_size=4,
    m1_call_mb=8,
    m1_max_rows=8,
    m1_length_step=32,
    decode_check_examples=2,
    chunk_examples=5,
)


def prepare(root, data=DATA):
    """The data rules' jobs in order; returns {split: manifest path}."""
    data = DataConfig.from_config(data)
    parts = {}
    for corpus_split, n in data.parts.items():
        parts[corpus_split] = [root / "parts" / corpus_split / f"{i}-of-{n}" / "meta.json" for i in range(n)]
        for i, marker in enumerate(parts[corpus_split]):
            corpus_part(marker, data.corpus_config, corpus_split, i, progress=False)
    manifests = {}
    for split, spec in data.splits.items():
        shards = [root / split / "shards" / f"{j}-of-{spec.shards}" / "meta.json" for j in range(spec.shards)]
        for j, marker in enumerate(shards):
            split_shard(marker, parts[CORPUS_SPLIT_OF[split]], spec, j, progress=False)
        manifests[split] = root / split / "manifest.json"
        split_manifest(shards, manifests[split], split, spec)
    return manifests


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("data"))


def test_prepared_splits_are_deterministic_and_shuffled_apart(splits, tmp_path):
    assert {s: len(ExampleSplit(p)) for s, p in splits.items()} == {"m1_train": 40, "m2_train": 12, "valid": 6}
    again = prepare(tmp_path)
    for s in splits:
        assert ExampleSplit(splits[s]).read() == ExampleSplit(again[s]).read()
    m1, m2 = ExampleSplit(splits["m1_train"]).read(), ExampleSplit(splits["m2_train"]).read()
    assert m1[:12] != m2 and set(m2) <= set(m1) | set(ExampleSplit(again["m2_train"]).read())


def test_valid_split_holds_only_held_out_text(splits):
    held_out = "\n".join(iter_documents(None, "validation")).encode()
    train = b"".join(ExampleSplit(splits["m1_train"]).read())
    pieces = [p for e in ExampleSplit(splits["valid"]).read() for p in e.split(bytes([END_OF_DOCUMENT])) if len(p) > 50]
    assert pieces and all(p in held_out for p in pieces)
    assert not any(p[:50] in train for p in pieces)


def test_a_missing_corpus_is_named(tmp_path):
    data = DataConfig.from_config({**DATA, "corpus": str(tmp_path / "nowhere")}).corpus_config
    with pytest.raises(FileNotFoundError, match=r"corpus path .*nowhere' is not a directory"):
        corpus_part(tmp_path / "p" / "meta.json", data, "train", 0)
    many_parts = DataConfig.from_config({**DATA, "parts": {"train": 2, "validation": 3}}).corpus_config
    with pytest.raises(ValueError, match=r"data.parts.validation = 3, but the corpus has only 1 c4-validation files"):
        corpus_part(tmp_path / "p" / "meta.json", many_parts, "validation", 0)


def compress_split(splits, root, slug, split, num_shards, **kw):
    markers = [root / "shards" / split / f"{i}-of-{num_shards}" / "meta.json" for i in range(num_shards)]
    for i, marker in enumerate(markers):
        compress_shard(
            splits[split],
            marker,
            slug=slug,
            split=split,
            shard=i,
            num_shards=num_shards,
            seq_len=64,
            coding=CODING,
            progress=False,
            **kw,
        )
    return markers


def test_shards_read_in_place_equal_the_unsharded_dataset_and_stats(splits, tmp_path):
    markers = {split: compress_split(splits, tmp_path, "gzip-v256", split, 3) for split in ("m2_train", "valid")}
    stats = method_manifests(
        markers["m2_train"],
        markers["valid"],
        tmp_path / "m2_train" / "manifest.json",
        tmp_path / "valid" / "manifest.json",
        tmp_path / "stats.json",
    )
    for split in ("m2_train", "valid"):
        (single,) = compress_split(splits, tmp_path / "whole", "gzip-v256", split, 1)
        whole = TokenDataset.load(single.parent)
        sharded = ShardedTokenDataset(tmp_path / split / "manifest.json")
        rows = sharded.rows(np.arange(len(sharded)))
        assert np.array_equal(rows.tokens, whole.tokens) and np.array_equal(rows.num_bytes, whole.num_bytes)
    valid = ShardedTokenDataset(tmp_path / "valid" / "manifest.json")
    assert valid.meta["decode_check_examples"] == 6
    assert len(json.loads((tmp_path / "valid" / "manifest.json").read_text())["shards"]) == 3
    on_disk = json.loads((tmp_path / "stats.json").read_text())
    assert on_disk == stats and on_disk["decode_check"] == {"examples": 6, "exact": 6}  # 2 per valid shard
    assert stats["compression_ratio"] == pytest.approx(valid.compression_ratio) and stats["vocab_size"] == 256
    assert stats["bit_compression_ratio"] == pytest.approx(stats["compression_ratio"])
    assert stats["uniform_bits_per_byte"] == pytest.approx(8 / stats["compression_ratio"])
    assert stats["tokens"] == ShardedTokenDataset(tmp_path / "m2_train" / "manifest.json").total_tokens
    assert stats["m1_positions_per_kept_byte"] is None
    again = compression_stats(
        tmp_path / "m2_train" / "manifest.json", tmp_path / "valid" / "manifest.json", tmp_path / "again.json"
    )
    assert again == stats


def test_static_ac_reads_the_unigram_counted_once(splits, tmp_path):
    unigram = byte_unigram(splits["m1_train"], tmp_path / "byte_unigram.json")
    assert sum(unigram["byte_counts"]) == unigram["bytes"] == ExampleSplit(splits["m1_train"]).num_bytes
    (marker,) = compress_split(
        splits, tmp_path, "staticac-v256", "valid", 1, unigram_path=tmp_path / "byte_unigram.json"
    )
    meta = json.loads(marker.read_text())
    assert meta["decode_check_examples"] == 2 and meta["decode_check_exact"] == 2


def test_a_shard_that_does_not_decode_back_fails_and_writes_nothing(splits, tmp_path, monkeypatch):
    def corrupted(*args, **kwargs):
        return [b"not the text"] * len(args[3])

    monkeypatch.setattr(steps, "decoded_prefixes", corrupted)
    with pytest.raises(RuntimeError, match=r"Bytes valid shard 0: 2 of 2 checked examples do not decode back"):
        compress_split(splits, tmp_path, "bytes", "valid", 1)
    assert not (tmp_path / "shards" / "valid").exists() or not any((tmp_path / "shards" / "valid").rglob("*.npy"))


def test_window_tokens():
    assert window_tokens(parse_method("EqualInfoAC[b=64;v=256]")) == 8
    assert window_tokens(parse_method("EqualInfoAC[b=16;v=65k]")) == 1
    assert window_tokens(parse_method("EqualInfoAC[b=24;v=65k]")) is None
    assert window_tokens(parse_method("AC[v=256]")) is None


SHARED = Path(__file__).resolve().parents[2].parent / "shared"
T5_VOCAB = SHARED / "t5_vocab" / "sentencepiece_cc_all.32000.100extra.model"
needs_t5_vocab = pytest.mark.skipif(
    not T5_VOCAB.is_file(),
    reason=f"T5's SentencePiece vocabulary is not at {T5_VOCAB} "
    "(get it from gs://t5-data/vocabs/cc_all.32000/sentencepiece.model)",
)


def test_a_pretrained_sentencepiece_model_is_checked_and_used(splits, tmp_path):
    trained = tmp_path / "trained.model"
    train_sentencepiece_model(splits["m2_train"], trained, SentencePieceConfig(vocab_size=400, max_sentences=1000))
    used = tmp_path / "out" / "spm.model"
    train_sentencepiece_model(None, used, SentencePieceConfig(vocab_size=400, model_file=str(trained)))
    assert used.read_bytes() == trained.read_bytes()
    with pytest.raises(ValueError, match=r"has 400 pieces, but sentencepiece.vocab_size is 500"):
        train_sentencepiece_model(
            None, tmp_path / "x.model", SentencePieceConfig(vocab_size=500, model_file=str(trained))
        )
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="bad.model: not a loadable SentencePiece model"):
        train_sentencepiece_model(None, tmp_path / "y.model", SentencePieceConfig(vocab_size=400, model_file=str(bad)))
    with pytest.raises(ValueError, match="missing.model"):
        train_sentencepiece_model(
            None, tmp_path / "z.model", SentencePieceConfig(vocab_size=400, model_file=str(tmp_path / "missing.model"))
        )
    assert not (tmp_path / "x.model").exists() and not (tmp_path / "y.model").exists()


@needs_t5_vocab
def test_t5_vocabulary_is_accepted_with_the_paper_config_size(tmp_path):
    train_sentencepiece_model(
        None, tmp_path / "spm.model", SentencePieceConfig(vocab_size=32101, model_file=str(T5_VOCAB))
    )
    assert (tmp_path / "spm.model").read_bytes() == T5_VOCAB.read_bytes()
