"""One function per workflow rule. Each reads its inputs, calls the owning packages and writes its outputs
atomically (``nc.io``, ``TokenDataset.save``); the workflow scripts only unpack Snakemake's objects."""
from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nc.data.dataset import TokenDataset
from nc.data.examples import build_examples, count_examples, load_examples, save_examples, shard_range
from nc.data.method_datasets import (
    SEQ2SEQ_TASKS,
    byte_lm_dataset,
    decoded_prefixes,
    seq2seq_datasets,
    seq2seq_inputs,
    tokenize_examples,
    truncate_dataset,
)
from nc.data.readers import iter_documents
from nc.data.tokenizers import SentencePieceTokenizer, train_sentencepiece
from nc.io import read_json, write_json, write_text
from nc.methods import MethodSpec, parse_method

log = logging.getLogger(__name__)

# Keys of shard meta.json that merging sums instead of copying from the first shard.
SUMMED_META = ("side_info_bits", "decode_check_examples", "decode_check_exact", "truncated_rows")
RUN_COLUMNS = ["method", "paper_label", "slug", "kind", "token_bits", "window_bits", "size", "nominal_params",
               "variant", "seed", "steps", "loss_nats_per_token", "accuracy", "bits_per_byte", "compression_ratio",
               "mflops_per_byte", "eval_tokens", "eval_bytes"]
COMPRESSION_COLUMNS = ["method", "paper_label", "slug", "kind", "token_bits", "window_bits", "compression_ratio",
                       "bit_compression_ratio", "tokens", "bytes", "vocab_size", "uniform_bits_per_byte",
                       "unigram_bits_per_byte", "side_info_bits_per_example"]


def _eval_api():
    """``nc.eval``, imported after ``nc.train``: the two import each other and only that order initialises."""
    import nc.train  # noqa: F401
    import nc.eval

    return nc.eval


# ------------------------------------------------------------------------------------------------ data
def prepare_splits(data: Mapping[str, Any], outputs: Mapping[str, str | Path]) -> dict[str, int]:
    """Build the m1_train, m2_train and valid example files from the configured corpus.

    Training splits come from the corpus's ``train`` documents (M1 and M2 both train on them, as in the
    paper), ``valid`` from its ``validation`` documents, which M1 never sees. Returns examples per split.
    """
    counts = {}
    for split, path in outputs.items():
        corpus_split, limit = ("validation", data.get("max_valid_documents")) if split == "valid" else (
            "train", data.get("max_train_documents"))
        spec = data["splits"][split]
        examples = build_examples(
            iter_documents(data["corpus"], corpus_split, limit),
            docs_per_sequence=data["docs_per_sequence"], example_bytes=data["example_bytes"],
            seed=spec["seed"], max_examples=spec["examples"],
        )
        if not examples:
            raise ValueError(f"data.splits.{split}: the corpus yields no examples")
        save_examples(path, examples)
        counts[split] = len(examples)
        log.info("%s: %d examples", split, len(examples))
    return counts


# ------------------------------------------------------------------------------------------------ M1
def _train_config(cfg: Mapping[str, Any], seed: int, **extra):
    from nc.train import TrainConfig

    return TrainConfig(steps=cfg["steps"], batch_size=cfg["batch_size"], lr_constant=cfg["learning_rate"],
                       warmup_steps=cfg["warmup_steps"], z_loss=cfg["z_loss"], eval_batches=cfg["eval_batches"],
                       seed=seed, **extra)


def train_m1(train_path: str | Path, valid_path: str | Path, m1: Mapping[str, Any], run_dir: str | Path,
             eval_path: str | Path, progress: bool = True) -> dict[str, Any]:
    """Train the byte-level M1 on m1_train (rows of ``m1.seq_len`` bytes) and write its validation eval.json."""
    from nc.models.sizes import model_size
    from nc.train import train_lm

    evaluate_run = _eval_api().evaluate_run

    train = byte_lm_dataset(load_examples(train_path), m1["seq_len"])
    valid = byte_lm_dataset(load_examples(valid_path), m1["seq_len"])
    cfg = _train_config(m1, m1["seed"], checkpoint_every=max(1, m1["steps"] // 4))
    train_lm(train, valid, model_size(m1["size"]), cfg, run_dir, progress=progress)
    result = evaluate_run(run_dir, valid, eval_batches=m1["eval_batches"], batch_size=m1["batch_size"])
    write_json(eval_path, result)
    return result


# --------------------------------------------------------------------------------------- tokenisation
def train_sentencepiece_model(train_path: str | Path, model_path: str | Path, sentencepiece: Mapping[str, Any],
                              threads: int = 1) -> None:
    """The SentencePiece baseline's unigram model, trained on M2's training text."""
    train_sentencepiece(load_examples(train_path), model_path, sentencepiece["vocab_size"],
                        max_sentences=sentencepiece.get("max_sentences", 2_000_000),
                        seed=sentencepiece.get("seed", 0), threads=threads)


def m1_chunk_rows_for(method: MethodSpec, coding: Mapping[str, Any]) -> int:
    """Rows per M1 call for ``method``: ``coding.batch_size``, or ``coding.whole_example_chunk_rows`` when
    M1 reads whole examples (AC, EqualInfoAC reset=never).

    Decoding such a method calls M1 once per symbol over the example's full length, padded to the chunk,
    so a chunk no larger than the lossless check's batch keeps that check from computing padding rows.
    """
    rows = coding.get("batch_size", 64)
    if method.m1_sees_whole_example:
        rows = coding.get("whole_example_chunk_rows", rows)
    return int(rows)


def probability_source(method: MethodSpec, *, m1_dir: str | Path | None = None,
                       unigram_text: str | Path | None = None, m1_chunk_rows: int = 64):
    """The coder's probability source: M1 (AC, EqualInfoAC), a static byte unigram (StaticAC), or None.

    M1 runs on fixed chunks of ``m1_chunk_rows`` rows (see ``m1_chunk_rows_for``). Decoding must use the
    same value (it is recorded in the dataset's meta).
    """
    if method.uses_m1:
        from nc.models.m1 import load_probability_source

        return load_probability_source(m1_dir, chunk_rows=m1_chunk_rows)
    if method.kind == "StaticAC":
        from nc.coding import static_source

        # "byte unigram statistics from the C4 training data" (Section 3.3): M1's training text.
        return static_source(load_examples(unigram_text))
    return None


def compress_shard(examples_path: str | Path, out_marker: str | Path, *, slug: str, split: str, shard: int,
                   num_shards: int, seq_len: int, coding: Mapping[str, Any], m1_dir: str | Path | None = None,
                   m1_size: str | None = None, sentencepiece_model: str | Path | None = None,
                   unigram_text: str | Path | None = None, progress: bool = True) -> TokenDataset:
    """Tokenise examples ``shard`` of ``num_shards`` of a split with method ``slug``, trimmed to ``seq_len``.

    Validation shards also decode their first ``coding.decode_check_examples`` examples back and count
    exact round trips (meta ``decode_check_examples`` / ``decode_check_exact``).
    """
    method = parse_method(slug)
    start, stop = shard_range(count_examples(examples_path), shard, num_shards)
    examples = load_examples(examples_path, start, stop)
    chunk_rows = m1_chunk_rows_for(method, coding)
    source = probability_source(method, m1_dir=m1_dir, unigram_text=unigram_text, m1_chunk_rows=chunk_rows)
    tokenizer = SentencePieceTokenizer(sentencepiece_model) if method.kind == "SentencePiece" else None
    precision = coding["precision"]
    result = tokenize_examples(examples, method, seq_len=seq_len, source=source, sentencepiece=tokenizer,
                               precision=precision, batch_size=coding.get("batch_size", 64), progress=progress)
    dataset = result.dataset
    checked = min(len(examples), coding.get("decode_check_examples", 0)) if split == "valid" else 0
    decoded = decoded_prefixes(method, dataset, result.encoded, range(checked), source=source,
                               sentencepiece=tokenizer, precision=precision, batch_size=chunk_rows)
    exact = sum(text == examples[i][: dataset.num_bytes[i]] for i, text in enumerate(decoded))
    dataset.meta.update({"split": split, "shard": shard, "num_shards": num_shards, "examples": [start, stop],
                         "side_info_bits": int(dataset.meta.get("side_info_bits", 0)),
                         "decode_check_examples": int(checked), "decode_check_exact": int(exact)})
    if method.uses_m1:
        dataset.meta.update({"m1_size": m1_size, "m1_chunk_rows": source.chunk_rows})
    dataset.save(Path(out_marker).parent)
    return dataset


def merge_shards(shard_markers: Sequence[str | Path], out_marker: str | Path) -> TokenDataset:
    """Concatenate shard datasets in shard order into one split dataset (summing per-shard counters)."""
    parts = [TokenDataset.load(Path(p).parent) for p in shard_markers]
    merged = TokenDataset.concatenate(parts)
    for key in SUMMED_META:
        if key in merged.meta:
            merged.meta[key] = int(sum(p.meta.get(key, 0) for p in parts))
    for key in ("shard", "num_shards", "examples"):
        merged.meta.pop(key, None)
    merged.meta["shards"] = len(parts)
    merged.save(Path(out_marker).parent)
    return merged


def bits_per_token(method: MethodSpec, vocab_size: int) -> int:
    """Storage bits of one token: token_bits for bitstream methods and Bytes, ceil(log2 V) for SentencePiece."""
    return method.token_bits if method.token_bits is not None else int(np.ceil(np.log2(vocab_size)))


def compression_stats(train_marker: str | Path, valid_marker: str | Path, out_path: str | Path) -> dict[str, Any]:
    """stats.json of a method: ratios on the validation split (as the paper), dataset size of m2_train
    (Table 12), trivial-model bits/byte (Table 3), side information and the decode check."""
    trivial_baselines = _eval_api().trivial_baselines
    train = TokenDataset.load(Path(train_marker).parent, mmap=True)
    valid = TokenDataset.load(Path(valid_marker).parent, mmap=True)
    method = parse_method(valid.meta["method"])
    if valid.total_bytes == 0:
        raise ValueError(f"{method.label}: validation tokens cover no raw bytes; m2.seq_len={valid.seq_len} is "
                         "too short for this method (e.g. GZip's block header)")
    ratio = valid.compression_ratio
    stats = {
        "method": method.label,
        "compression_ratio": ratio,
        "bit_compression_ratio": ratio * 8 / bits_per_token(method, valid.vocab_size),
        "tokens": train.total_tokens,
        "bytes": train.total_bytes,
        "examples": len(train),
        "valid_tokens": valid.total_tokens,
        "valid_bytes": valid.total_bytes,
        "vocab_size": valid.vocab_size,
        **trivial_baselines(train, valid),
        "side_info_bits_per_example": valid.meta.get("side_info_bits", 0) / max(len(valid), 1),
        "decode_check": {"examples": int(valid.meta.get("decode_check_examples", 0)),
                         "exact": int(valid.meta.get("decode_check_exact", 0))},
    }
    write_json(out_path, stats)
    return stats


def merge_method_shards(train_shards: Sequence[str | Path], valid_shards: Sequence[str | Path],
                        train_marker: str | Path, valid_marker: str | Path, stats_path: str | Path) -> dict[str, Any]:
    """Both splits of a method from their shards, then its stats.json (``compression_stats``)."""
    merge_shards(train_shards, train_marker)
    merge_shards(valid_shards, valid_marker)
    return compression_stats(train_marker, valid_marker, stats_path)


def seq2seq_data(examples_path: str | Path, out_markers: Mapping[str, str | Path], *, slug: str, m1_dir: str | Path,
                 seq2seq: Mapping[str, Any], coding: Mapping[str, Any], split: str, progress: bool = True) -> None:
    """Table 5's compress / decompress / byte-LM datasets of ``split`` for method ``slug``."""
    from nc.coding import encode_examples

    method = parse_method(slug)
    limit = seq2seq.get("valid_examples" if split == "valid" else "train_examples")
    chunks = seq2seq_inputs(load_examples(examples_path), seq2seq["input_bytes"], limit)
    if not chunks:
        raise ValueError(f"seq2seq.input_bytes={seq2seq['input_bytes']}: no example of {split} is that long")
    source = probability_source(method, m1_dir=m1_dir, m1_chunk_rows=m1_chunk_rows_for(method, coding))
    encoded = encode_examples(chunks, method, source, precision=coding["precision"],
                              batch_size=coding.get("batch_size", 64), progress=progress)
    for task, dataset in seq2seq_datasets(chunks, encoded, method, seq2seq["seq_len"]).items():
        dataset.meta["split"] = split
        dataset.save(Path(out_markers[task]).parent)


# ------------------------------------------------------------------------------------------------ M2
def window_tokens(method: MethodSpec) -> int | None:
    """Tokens per Equal-Info window when a window is a whole number of tokens (Fig. 10), else None."""
    if method.kind == "EqualInfoAC" and method.window_bits % method.token_bits == 0:
        return method.window_bits // method.token_bits
    return None


def train_m2(train_marker: str | Path, valid_marker: str | Path, run_dir: str | Path, eval_path: str | Path, *,
             size: str, variant: str, seed: int, m2: Mapping[str, Any], progress: bool = True) -> dict[str, Any]:
    """Train one M2 run and write eval.json (final validation metrics, FLOPs/byte, run identity).

    ``bytematched`` trains and evaluates on the first half of each sequence (Table 6: 512 -> 256 tokens).
    """
    from nc.models.sizes import model_size
    from nc.train import train_lm

    evaluate_run = _eval_api().evaluate_run

    train = TokenDataset.load(Path(train_marker).parent, mmap=True)
    valid = TokenDataset.load(Path(valid_marker).parent)
    if variant == "bytematched":
        train, valid = truncate_dataset(train, train.seq_len // 2), truncate_dataset(valid, valid.seq_len // 2)
    method = parse_method(valid.meta["method"])
    windows = window_tokens(method) if variant == "default" else None
    cfg = _train_config(m2, seed, eval_every=m2["eval_every"], checkpoint_every=max(1, m2["steps"] // 4))
    train_lm(train, valid, model_size(size), cfg, run_dir, window_tokens=windows, progress=progress)
    result = evaluate_run(run_dir, valid, eval_batches=m2["eval_batches"], batch_size=m2["batch_size"],
                          window_tokens=windows)
    result.update({"slug": method.slug, "variant": variant, "seed": int(seed), "task": valid.meta.get("task")})
    write_json(eval_path, result)
    return result


# ------------------------------------------------------------------------------------------- summaries
def _method_columns(slug: str) -> dict[str, Any]:
    method = parse_method(slug)
    return {"method": method.label, "paper_label": method.paper_label, "slug": method.slug, "kind": method.kind,
            "token_bits": method.token_bits, "window_bits": method.window_bits}


def _write_csv(path: str | Path, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    write_text(path, buffer.getvalue())


def collect_summaries(eval_paths: Sequence[str | Path], stats_paths: Sequence[str | Path], runs_csv: str | Path,
                      evals_csv: str | Path, compression_csv: str | Path) -> None:
    """runs.csv (one row per M2 run), evals.csv (every evaluation of every run), compression.csv (per method).

    A run's identity is read from its directory, ``m2/<slug>/<size>/<variant>/seed<k>/eval.json``.
    """
    from nc.models.sizes import model_size

    runs, evals, max_positions = [], [], 0
    for path in sorted(map(Path, eval_paths)):
        slug, size, variant, seed_dir = path.parts[-5:-1]
        result = read_json(path)
        ident = {**_method_columns(slug), "size": size, "variant": variant, "seed": int(seed_dir[4:])}
        runs.append({**ident, "nominal_params": model_size(size).nominal_params, "steps": result["step"],
                     "loss_nats_per_token": result["loss"], "accuracy": result["accuracy"],
                     "bits_per_byte": result["bits_per_byte"], "compression_ratio": result["compression_ratio"],
                     "mflops_per_byte": result["mflops_per_byte"], "eval_tokens": result["tokens"],
                     "eval_bytes": round(result["tokens"] * result["compression_ratio"])})
        with open(path.parent / "evals.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                evals.append({**ident, **row})
                max_positions = max(max_positions, sum(k.startswith("acc_pos_") for k in row))
    eval_columns = ["slug", "method", "size", "variant", "seed", "step", "loss", "accuracy", "bits_per_byte",
                    *(f"acc_pos_{i + 1}" for i in range(max_positions))]
    compression = [{**_method_columns(Path(p).parent.name), **read_json(p)} for p in sorted(map(str, stats_paths))]
    for row in compression:
        row["method"] = parse_method(row["slug"]).label
    _write_csv(runs_csv, RUN_COLUMNS, runs)
    _write_csv(evals_csv, eval_columns, evals)
    _write_csv(compression_csv, COMPRESSION_COLUMNS, compression)
