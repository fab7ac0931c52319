import numpy as np
import pytest

from nc.data.examples import END_OF_DOCUMENT, join_documents, split_examples
from nc.data.method_datasets import (
    PackedByteRows,
    TruncatedRows,
    decoded_prefixes,
    seq2seq_chunk_ranges,
    seq2seq_datasets,
    seq2seq_inputs,
    tokenize_examples,
    truncate_dataset,
)
from nc.data.readers import iter_documents
from nc.data.shards import ExampleShardWriter, ExampleSplit, write_split_manifest
from nc.data.tokenizers import SentencePieceTokenizer, train_sentencepiece
from nc.methods import parse_method

EOD = bytes([END_OF_DOCUMENT])


@pytest.fixture(scope="module")
def examples():
    sequences = join_documents(iter_documents(None, "validation", 12), docs_per_sequence=4)
    return [e for s in sequences for e in split_examples(s, 512)]


@pytest.fixture(scope="module")
def spm_tokenizer(tmp_path_factory, examples):
    path = tmp_path_factory.mktemp("spm") / "spm.model"
    train_sentencepiece(examples, path, 400)
    return SentencePieceTokenizer(path)


def test_bytes_trimmed_to_seq_len(examples):
    ds = tokenize_examples(examples[:5], parse_method("Bytes"), seq_len=100).dataset
    assert ds.vocab_size == 256 and ds.seq_len == 100
    assert np.array_equal(ds.num_tokens, [min(len(e), 100) for e in examples[:5]])
    assert np.array_equal(ds.num_bytes, ds.num_tokens)
    assert ds.tokens[0].tobytes() == examples[0][:100]


def test_sentencepiece_is_lossless_and_counts_covered_bytes(examples, spm_tokenizer):
    method = parse_method("SentencePiece")
    ds = tokenize_examples(examples[:8], method, seq_len=64, sentencepiece=spm_tokenizer).dataset
    assert ds.vocab_size == spm_tokenizer.vocab_size <= 400
    assert (ds.num_tokens == 64).all()  # 512-byte examples hold more than 64 pieces
    assert ds.compression_ratio > 1.5
    for i, text in enumerate(decoded_prefixes(method, ds, None, range(8), sentencepiece=spm_tokenizer)):
        assert len(text) == ds.num_bytes[i]
        assert text in examples[i]  # a cut UTF-8 character at the start may be skipped
    full, covered = spm_tokenizer.encode(examples[0])
    assert spm_tokenizer.decode(full) == examples[0][len(examples[0]) - covered :] or covered == len(examples[0])
    assert (full == 1).sum() == examples[0].count(EOD)  # end-of-document byte -> EOS


def test_sentencepiece_training_is_deterministic(examples, tmp_path):
    train_sentencepiece(examples, tmp_path / "a.model", 400)
    train_sentencepiece(examples, tmp_path / "b.model", 400)
    assert (tmp_path / "a.model").read_bytes() == (tmp_path / "b.model").read_bytes()


def test_gzip_examples_trimmed_with_coder(examples):
    pytest.importorskip("nc.coding")
    method = parse_method("GZip[v=256]")
    result = tokenize_examples(examples[:4], method, seq_len=200)
    ds = result.dataset
    assert (ds.num_tokens <= 200).all() and (ds.num_bytes <= 512).all() and (ds.num_bytes > 0).all()
    decoded = decoded_prefixes(method, ds, result.encoded, range(4), batch_size=3)
    assert decoded == [examples[i][: ds.num_bytes[i]] for i in range(4)]


def test_seq2seq_layouts():
    class Fake:
        def __init__(self, tokens):
            self.tokens = np.asarray(tokens, dtype=np.uint8)

    chunks = seq2seq_inputs([b"abcdefgh", b"xyz"], 4)
    assert chunks == [b"abcd", b"efgh"]
    method = parse_method("AC[v=256]")
    sets = seq2seq_datasets(chunks, [Fake([7, 9]), Fake([5])], method, seq_len=6)
    comp, decomp, lm = sets["compress"], sets["decompress"], sets["bytelm"]
    assert comp.vocab_size == decomp.vocab_size == 512 and lm.vocab_size == 256
    assert list(comp.tokens[0]) == [97, 98, 99, 100, 256 + 7, 256 + 9] and comp.loss_start[0] == 4
    assert list(decomp.tokens[1][:5]) == [5, 256 + 101, 256 + 102, 256 + 103, 256 + 104] and decomp.loss_start[1] == 1
    assert list(lm.tokens[0][:4]) == [97, 98, 99, 100] and lm.loss_start[0] == 0
    assert decomp.loss_mask()[1].sum() == 4 and comp.meta["truncated_rows"] == 0
    assert (
        seq2seq_datasets(chunks, [Fake([1, 2, 3]), Fake([5])], method, seq_len=6)["compress"].meta["truncated_rows"]
        == 1
    )


def split_of(tmp_path, examples, shard_sizes):
    dirs, first = [], 0
    for k, size in enumerate(shard_sizes):
        with ExampleShardWriter(tmp_path / f"s{k}") as writer:
            for e in examples[first : first + size]:
                writer.add(e)
        dirs.append(tmp_path / f"s{k}")
        first += size
    write_split_manifest(dirs, tmp_path / "manifest.json")
    return ExampleSplit(tmp_path / "manifest.json")


def test_truncate_and_packed_byte_rows(examples, tmp_path):
    ds = tokenize_examples(examples[:3], parse_method("Bytes"), seq_len=100).dataset
    half = truncate_dataset(ds, 50)
    assert half.seq_len == 50 and (half.num_tokens == 50).all() and (half.num_bytes == 50).all()
    lazy = TruncatedRows(ds, 50)
    assert np.array_equal(lazy.rows(np.array([2, 0])).tokens, half.tokens[[2, 0]])
    assert lazy.compression_ratio == pytest.approx(half.compression_ratio) and lazy.seq_len == 50
    with pytest.raises(ValueError, match="longer"):
        truncate_dataset(ds, 200)
    split = split_of(tmp_path, [b"a" * 10, b"b" * 4, b"c" * 3], [1, 2])
    rows = PackedByteRows(split, 4)
    assert len(rows) == 5 and rows.vocab_size == 256
    got = rows.rows(np.array([4, 2, 0]))
    assert [got.tokens[i, :n].tobytes() for i, n in enumerate(got.num_tokens)] == [b"c", b"aabb", b"aaaa"]
    assert list(got.num_tokens) == [1, 4, 4]


def test_seq2seq_chunk_ranges_locate_chunks_without_reading_examples(tmp_path):
    examples = [bytes([i]) * n for i, n in enumerate([10, 3, 8, 0, 12, 5, 9])]
    split = split_of(tmp_path, examples, [3, 0, 2, 2])
    everything = seq2seq_inputs(examples, 4)
    for first, stop in ((0, len(everything)), (1, 4), (3, 3), (2, 6), (5, 100)):
        got = []
        for lo, hi, skip, keep in seq2seq_chunk_ranges(split, 4, first, stop):
            got += seq2seq_inputs(split.read(lo, hi), 4)[skip : skip + keep]
        assert got == everything[first:stop], (first, stop)
