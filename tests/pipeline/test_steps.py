"""Pipeline steps that run without trained models: data preparation, sharded tokenisation, merge, stats."""
import json

import numpy as np
import pytest

from nc.data.dataset import TokenDataset
from nc.data.examples import load_examples
from nc.pipeline.steps import (compress_shard, compression_stats, merge_method_shards, merge_shards, m1_chunk_rows_for,
                               prepare_splits, window_tokens)
from nc.methods import parse_method

DATA = {"corpus": "embedded", "docs_per_sequence": 4, "example_bytes": 512, "max_train_documents": 24,
        "max_valid_documents": 8, "splits": {"m1_train": {"examples": 40, "seed": 0},
                                              "m2_train": {"examples": 12, "seed": 1},
                                              "valid": {"examples": 6, "seed": 2}}}


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    outputs = {s: root / f"{s}.npz" for s in DATA["splits"]}
    counts = prepare_splits(DATA, outputs)
    return outputs, counts


def test_prepare_splits_is_deterministic(splits, tmp_path):
    outputs, counts = splits
    assert counts == {"m1_train": 40, "m2_train": 12, "valid": 6}
    again = {s: tmp_path / f"{s}.npz" for s in DATA["splits"]}
    prepare_splits(DATA, again)
    for s in outputs:
        assert load_examples(outputs[s]) == load_examples(again[s])
    assert load_examples(outputs["m1_train"])[:12] != load_examples(outputs["m2_train"])  # own shuffle seeds


def test_valid_split_holds_only_held_out_text(splits):
    outputs, _ = splits
    valid = b"".join(load_examples(outputs["valid"]))
    train = b"".join(load_examples(outputs["m1_train"]))
    assert b"Macbeth" in valid or b"MACBETH" in valid or b"Tempest" in valid or b"VIOLA" in valid or b"KING HENRY" in valid
    assert valid[:200] not in train


def test_shards_merge_to_the_unsharded_dataset_and_stats(splits, tmp_path):
    outputs, _ = splits
    coding = {"precision": 14, "decode_check_examples": 2}
    for split in ("m2_train", "valid"):
        markers = []
        for shard in range(3):
            marker = tmp_path / "shards" / split / f"{shard}-of-3" / "meta.json"
            compress_shard(outputs[split], marker, slug="gzip-v256", split=split, shard=shard, num_shards=3,
                           seq_len=64, coding=coding, progress=False)
            markers.append(marker)
        merged = merge_shards(markers, tmp_path / split / "meta.json")
        whole = tmp_path / "whole" / split / "meta.json"
        single = compress_shard(outputs[split], whole, slug="gzip-v256", split=split, shard=0, num_shards=1,
                                seq_len=64, coding=coding, progress=False)
        assert np.array_equal(merged.tokens, single.tokens) and np.array_equal(merged.num_bytes, single.num_bytes)
    valid = TokenDataset.load(tmp_path / "valid")
    assert valid.meta["decode_check_examples"] == 6 and valid.meta["shards"] == 3  # 2 per valid shard
    stats = compression_stats(tmp_path / "m2_train" / "meta.json", tmp_path / "valid" / "meta.json", tmp_path / "stats.json")
    on_disk = json.loads((tmp_path / "stats.json").read_text())
    assert on_disk["decode_check"] == {"examples": 6, "exact": 6}
    assert stats["compression_ratio"] == pytest.approx(valid.compression_ratio) and stats["vocab_size"] == 256
    assert stats["bit_compression_ratio"] == pytest.approx(stats["compression_ratio"])
    assert stats["uniform_bits_per_byte"] == pytest.approx(8 / stats["compression_ratio"])
    assert stats["tokens"] == TokenDataset.load(tmp_path / "m2_train").total_tokens


def test_window_tokens():
    assert window_tokens(parse_method("EqualInfoAC[b=64;v=256]")) == 8
    assert window_tokens(parse_method("EqualInfoAC[b=16;v=65k]")) == 1
    assert window_tokens(parse_method("EqualInfoAC[b=24;v=65k]")) is None
    assert window_tokens(parse_method("AC[v=256]")) is None


def test_valid_shard_decodes_its_check_examples_together(splits, tmp_path):
    outputs, _ = splits
    coding = {"precision": 14, "batch_size": 2, "decode_check_examples": 5}
    dataset = compress_shard(outputs["valid"], tmp_path / "valid" / "meta.json", slug="staticac-v256", split="valid",
                             shard=0, num_shards=1, seq_len=48, coding=coding, unigram_text=outputs["m1_train"],
                             progress=False)
    assert dataset.meta["decode_check_examples"] == 5 and dataset.meta["decode_check_exact"] == 5


def test_m1_chunk_rows_shrink_only_for_whole_example_contexts():
    coding = {"precision": 14, "batch_size": 16, "whole_example_chunk_rows": 2}
    assert m1_chunk_rows_for(parse_method("AC[v=256]"), coding) == 2
    assert m1_chunk_rows_for(parse_method("EqualInfoAC[b=16;v=256;reset=never]"), coding) == 2
    assert m1_chunk_rows_for(parse_method("EqualInfoAC[b=16;v=256;reset=2]"), coding) == 16
    assert m1_chunk_rows_for(parse_method("EqualInfoAC[b=16;v=65k]"), coding) == 16
    assert m1_chunk_rows_for(parse_method("AC[v=256]"), {"precision": 14, "batch_size": 8}) == 8


def test_merge_method_shards_writes_both_splits_and_stats(splits, tmp_path):
    outputs, _ = splits
    coding = {"precision": 14, "decode_check_examples": 1}
    shards = {}
    for split, n in (("m2_train", 2), ("valid", 1)):
        shards[split] = [tmp_path / "shards" / split / f"{i}-of-{n}" / "meta.json" for i in range(n)]
        for i, marker in enumerate(shards[split]):
            compress_shard(outputs[split], marker, slug="bytes", split=split, shard=i, num_shards=n, seq_len=32,
                           coding=coding, progress=False)
    out = {split: tmp_path / split / "meta.json" for split in shards}
    stats = merge_method_shards(shards["m2_train"], shards["valid"], out["m2_train"], out["valid"], tmp_path / "stats.json")
    assert len(TokenDataset.load(tmp_path / "m2_train")) == 12 and len(TokenDataset.load(tmp_path / "valid")) == 6
    assert json.loads((tmp_path / "stats.json").read_text()) == stats
    assert stats["decode_check"] == {"examples": 1, "exact": 1} and stats["compression_ratio"] == pytest.approx(1.0)
