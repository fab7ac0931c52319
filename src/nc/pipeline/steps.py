"""One function per workflow rule. Each reads its inputs, calls the owning packages and writes its outputs
atomically (``nc.io``, ``TokenDataset.save``); the workflow scripts only unpack Snakemake's objects.

The packages that import JAX (``nc.train``, ``nc.eval``, ``nc.models``, M1 sources) are imported inside the
steps that run a model: the many jobs that only move bytes (corpus parts, split shards, manifests,
GZip / Bytes shards) then start in a fraction of the seconds a JAX import takes."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from nc.data import spelling as spelling_task
from nc.data.dataset import TokenDataset, TokenDatasetWriter, TokenRows, load_token_dataset, write_token_manifest
from nc.data.examples import shard_range
from nc.data.method_datasets import (
    PackedByteRows,
    TruncatedRows,
    decoded_prefixes,
    seq2seq_chunk_ranges,
    seq2seq_datasets,
    seq2seq_inputs,
    tokenize_chunks,
    truncate_dataset,
)
from nc.data.shards import ExampleSplit
from nc.data.splits import write_corpus_part, write_split, write_split_shard
from nc.data.tokenizers import SentencePieceTokenizer, train_sentencepiece
from nc.io import read_json, write_bytes, write_json
from nc.methods import MethodSpec, parse_method
from nc.records import (
    DEVICE_COLUMNS,
    POSITION_ACCURACY_PREFIX,
    CompressionRecord,
    EvalRecord,
    MethodIdentity,
    RunRecord,
    SpellingRecord,
    record_from_row,
    write_records,
)
from nc.sections import (
    CodingConfig,
    CorpusConfig,
    M1Config,
    M2Config,
    Schedule,
    SentencePieceConfig,
    Seq2SeqConfig,
    SpellingConfig,
    SplitConfig,
)

log = logging.getLogger(__name__)


def _given(value: str | Path | None, name: str, purpose: str) -> str | Path:
    """The path ``value``, which the caller must pass for ``purpose``."""
    if value is None:
        raise ValueError(f"{name} is required {purpose}")
    return value


def _shard_dir(marker: str | Path) -> Path:
    """The directory a shard's ``meta.json`` marker names."""
    return Path(marker).parent


# ------------------------------------------------------------------------------------------------ data
def corpus_part(
    out_marker: str | Path, corpus: CorpusConfig, corpus_split: str, part: int, progress: bool = True
) -> int:
    """Corpus part ``part`` of ``corpus.parts[corpus_split]``, in stream order (``nc.data.splits``)."""
    return write_corpus_part(
        _shard_dir(out_marker),
        corpus=corpus.corpus,
        corpus_split=corpus_split,
        part=part,
        num_parts=corpus.parts[corpus_split],
        docs_per_sequence=corpus.docs_per_sequence,
        example_bytes=corpus.example_bytes,
        max_documents_per_file=corpus.max_documents_per_file[corpus_split],
        progress=progress,
    )


def split_shard(
    out_marker: str | Path,
    part_markers: Sequence[str | Path],
    spec: SplitConfig,
    shard: int,
    progress: bool = True,
) -> int:
    """Shard ``shard`` of a split (``spec``: ``data.splits.<split>``): its bucket of the seeded shuffle."""
    return write_split_shard(
        _shard_dir(out_marker),
        [_shard_dir(m) for m in part_markers],
        seed=spec.seed,
        shard=shard,
        num_shards=spec.shards,
        max_examples=spec.examples,
        progress=progress,
    )


def split_manifest(
    shard_markers: Sequence[str | Path], manifest_path: str | Path, split: str, spec: SplitConfig
) -> dict[str, Any]:
    """The manifest of split ``split`` (counts, bytes, checksums of its shards; byte counts)."""
    return write_split(manifest_path, [_shard_dir(m) for m in shard_markers], split=split, seed=spec.seed)


def byte_unigram(m1_train_manifest: str | Path, out_path: str | Path) -> dict[str, Any]:
    """StaticAC's byte counts: M1's training text, summed from the counts each split shard recorded."""
    split = ExampleSplit(m1_train_manifest)
    if split.byte_counts is None:
        raise ValueError(f"{m1_train_manifest}: the split's shards recorded no byte counts")
    result = {"source": "m1_train", "bytes": split.num_bytes, "byte_counts": split.byte_counts.tolist()}
    write_json(out_path, result)
    return result


# ------------------------------------------------------------------------------------------------ M1
def _train_config(schedule: Schedule, seed: int, **extra):
    from nc.train import TrainConfig

    return TrainConfig(
        steps=schedule.steps,
        batch_size=schedule.batch_size,
        lr_constant=schedule.learning_rate,
        warmup_steps=schedule.warmup_steps,
        z_loss=schedule.z_loss,
        eval_batches=schedule.eval_batches,
        checkpoint_every=max(1, schedule.steps // 4),
        checkpoint_every_min=schedule.checkpoint_every_min,
        seed=seed,
        **extra,
    )


def _training_job(gpus: int):
    """Join the job's process group and check its devices: a job that asked for GPUs never trains on the
    CPU. Returns the mesh every process shares."""
    from nc.train.distributed import initialize_processes, require_devices
    from nc.train.sharding import data_mesh

    initialize_processes()
    require_devices(gpus)
    return data_mesh()


def _write_run_eval(eval_path: str | Path, result: dict[str, Any]) -> None:
    """eval.json with what ran where (``device_provenance``), written by process 0 of the job."""
    from nc.train.distributed import device_provenance, is_main_process

    if is_main_process():
        write_json(eval_path, {**result, "devices": device_provenance()})


def _final_evaluation(
    trained: Mapping[str, Any],
    cfg,
    run_dir: str | Path,
    valid: TokenRows,
    *,
    window_tokens: int | None = None,
    mesh=None,
) -> dict[str, Any]:
    """The run's final evaluation record (``nc.eval.run_record``): the training loop's own evaluation of
    the last step when ``trained`` (what ``train_lm`` returned) reached ``cfg.steps`` in this call, else
    the latest checkpoint evaluated again (a finished run resumed: the loop did not run)."""
    from nc.eval import evaluate_run, run_record
    from nc.train.sharding import replicated_sharding

    if trained["eval"] is not None and trained["step"] == cfg.steps:
        return run_record(read_json(Path(run_dir) / "config.json"), trained["step"], trained["eval"], valid)
    return evaluate_run(
        run_dir,
        valid,
        eval_batches=cfg.eval_batches,
        batch_size=cfg.eval_batch_size or cfg.batch_size,
        window_tokens=window_tokens,
        sharding=replicated_sharding(mesh),
    )


def train_m1(
    train_manifest: str | Path,
    valid_manifest: str | Path,
    m1: M1Config,
    run_dir: str | Path,
    eval_path: str | Path,
    progress: bool = True,
    gpus: int = 0,
) -> dict[str, Any]:
    """Train the byte-level M1 on packed ``m1.seq_len``-byte rows of m1_train; write its validation eval.json.

    Rows are read on demand in a seeded order (``nc.train.data_order``): memory does not grow with the split.
    ``gpus``: what the job requested (``require_devices``).
    """
    from nc.models.sizes import model_size
    from nc.train import train_lm

    mesh = _training_job(gpus)
    train = PackedByteRows(ExampleSplit(train_manifest), m1.seq_len)
    valid = PackedByteRows(ExampleSplit(valid_manifest), m1.seq_len)
    cfg = _train_config(m1, m1.seed)
    trained = train_lm(train, valid, model_size(m1.size), cfg, run_dir, progress=progress)
    result = _final_evaluation(trained, cfg, run_dir, valid, mesh=mesh)
    _write_run_eval(eval_path, result)
    return result


# --------------------------------------------------------------------------------------- tokenisation
def train_sentencepiece_model(
    train_manifest: str | Path | None, model_path: str | Path, sentencepiece: SentencePieceConfig, threads: int = 1
) -> None:
    """The SentencePiece baseline's unigram model, trained on the first ``max_sentences`` sentences of M2's
    training text: the split is shuffled, so its start is a uniform sample, and only that much is read.

    With ``sentencepiece.model_file`` the given pre-trained model is used instead (the paper: T5's
    ``cc_all.32000``): it is loaded to check it, its size compared with ``vocab_size`` when that is set,
    and copied to ``model_path``."""
    if sentencepiece.model_file:
        use_pretrained_sentencepiece(sentencepiece.model_file, model_path, sentencepiece.vocab_size)
        return
    train_sentencepiece(
        ExampleSplit(_given(train_manifest, "train_manifest", "to train a SentencePiece model")).examples(),
        model_path,
        sentencepiece.vocab_size,
        max_sentences=sentencepiece.max_sentences,
        seed=sentencepiece.seed,
        threads=threads,
    )


def use_pretrained_sentencepiece(model_file: str | Path, model_path: str | Path, vocab_size: int | None) -> None:
    """Copy a pre-trained SentencePiece model to ``model_path`` after checking that it loads and has
    ``vocab_size`` pieces (errors name the file)."""
    source = Path(model_file).expanduser()
    try:
        tokenizer = SentencePieceTokenizer(source)
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"sentencepiece.model_file {source}: not a loadable SentencePiece model ({exc})") from exc
    if vocab_size and tokenizer.vocab_size != vocab_size:
        raise ValueError(
            f"sentencepiece.model_file {source} has {tokenizer.vocab_size} pieces, but sentencepiece."
            f"vocab_size is {vocab_size}: set vocab_size to {tokenizer.vocab_size}"
        )
    data = source.read_bytes()
    write_bytes(model_path, data)
    log.info(
        "SentencePiece model: %s (%d pieces, sha256 %s)", source, tokenizer.vocab_size, hashlib.sha256(data).hexdigest()
    )


def probability_source(
    method: MethodSpec,
    coding: CodingConfig,
    *,
    m1_dir: str | Path | None = None,
    unigram_path: str | Path | None = None,
):
    """The coder's probability source: M1 (AC, EqualInfoAC), a static byte unigram (StaticAC), or None.

    M1 computes as many rows per call as ``coding.m1_call_mb`` holds (at most ``coding.m1_max_rows``);
    decoding must use the same settings (they are recorded in the dataset's meta). StaticAC reads
    ``byte_unigram``'s counts.
    """
    if method.uses_m1:
        from nc.train.run import load_coding_source

        return load_coding_source(_given(m1_dir, "m1_dir", f"for {method.label}"), coding)
    if method.kind == "StaticAC":
        from nc.coding import static_source

        # "byte unigram statistics from the C4 training data" (Section 3.3): M1's training text.
        unigram_path = _given(unigram_path, "unigram_path", "for StaticAC")
        return static_source(counts=np.asarray(read_json(unigram_path)["byte_counts"], np.int64))
    return None


def shard_encoder(method: MethodSpec, source, coding: CodingConfig, max_tokens: int | None, threads: int | None = None):
    """The encoder a compression job keeps for all its chunks: context lengths calibrated on the first."""
    if not method.is_bitstream or method.kind == "GZip":
        return None
    from nc.coding import ContextPlan, make_encoder

    return make_encoder(
        method,
        source,
        precision=coding.precision,
        max_tokens=max_tokens,
        batch_size=coding.batch_size,
        threads=threads,
        plan=ContextPlan("auto", length_step=coding.m1_length_step),
    )


def _sentencepiece_tokenizer(method: MethodSpec, model_path: str | Path | None) -> SentencePieceTokenizer | None:
    """The trained tokenizer of a SentencePiece method; None for every other method."""
    if method.kind != "SentencePiece":
        return None
    return SentencePieceTokenizer(_given(model_path, "sentencepiece_model", "for SentencePiece"))


def compress_shard(
    split_manifest: str | Path,
    out_marker: str | Path,
    *,
    slug: str,
    split: str,
    shard: int,
    num_shards: int,
    seq_len: int,
    coding: CodingConfig,
    m1_dir: str | Path | None = None,
    m1_size: str | None = None,
    sentencepiece_model: str | Path | None = None,
    unigram_path: str | Path | None = None,
    threads: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Tokenise examples ``shard`` of ``num_shards`` of a split with method ``slug``, trimmed to ``seq_len``.

    Examples stream through in chunks of ``coding.chunk_examples``; tokens go to disk as they are made.
    Validation shards also decode their first ``coding.decode_check_examples`` examples back: one that
    does not give back its text fails the job and nothing is written (meta ``decode_check_examples`` /
    ``decode_check_exact`` record the check). Returns the shard's meta.
    """
    method = parse_method(slug)
    examples = ExampleSplit(split_manifest)
    start, stop = shard_range(len(examples), shard, num_shards)
    source = probability_source(method, coding, m1_dir=m1_dir, unigram_path=unigram_path)
    encoder = shard_encoder(method, source, coding, seq_len, threads)
    tokenizer = _sentencepiece_tokenizer(method, sentencepiece_model)
    vocab_size = tokenizer.vocab_size if tokenizer is not None else method.fixed_vocab_size
    precision = coding.precision
    checked = min(stop - start, coding.decode_check_examples) if split == "valid" else 0
    check_examples, check_encoded, check_rows = [], [], []
    side_info_bits = 0
    rule_windows = {"windows": 0, "rule_exceptions": 0}
    meta = {"method": method.label, "split": split, "shard": shard, "num_shards": num_shards, "first_example": start}
    with TokenDatasetWriter(
        _shard_dir(out_marker), stop - start, seq_len=seq_len, vocab_size=vocab_size, meta=meta
    ) as writer:
        bar = tqdm(total=stop - start, desc=f"{method.label} {split} {shard}", unit="ex", disable=not progress)
        firsts: list[int] = []

        def parts():
            for first, part in examples.chunks(start, stop, coding.chunk_examples):
                firsts.append(first)
                yield part

        chunks = tokenize_chunks(
            parts(),
            method,
            seq_len=seq_len,
            source=source,
            sentencepiece=tokenizer,
            precision=precision,
            on_done=bar.update,
            encoder=encoder,
        )
        for k, result in enumerate(chunks):
            first, count = firsts[k], len(result.dataset)
            writer.write(first - start, result.dataset)
            side_info_bits += int(result.dataset.meta.get("side_info_bits", 0))
            for key in rule_windows:
                rule_windows[key] += int(result.dataset.meta.get(key, 0))
            wanted = max(0, min(count, start + checked - first))
            check_examples += examples.read(first, first + wanted)
            check_rows.append(result.dataset.rows(np.arange(wanted)))
            if result.encoded is not None:
                check_encoded += result.encoded[:wanted]
        bar.close()
        exact = 0
        if checked:
            tokens, num_tokens, num_bytes = (
                np.concatenate([getattr(r, k) for r in check_rows]) for k in ("tokens", "num_tokens", "num_bytes")
            )
            rows = TokenDataset(tokens, num_tokens, num_bytes, meta=writer.meta)
            decoded = decoded_prefixes(
                method,
                rows,
                check_encoded or None,
                range(checked),
                source=source,
                sentencepiece=tokenizer,
                precision=precision,
                batch_size=checked,
            )
            wrong = [i for i, text in enumerate(decoded) if text != check_examples[i][: rows.num_bytes[i]]]
            if wrong:
                raise RuntimeError(
                    f"{method.label} {split} shard {shard}: {len(wrong)} of {checked} checked examples do not "
                    f"decode back to their text (first: example {start + wrong[0]}); the shard is not written"
                )
            exact = checked
        writer.meta.update(
            {"side_info_bits": side_info_bits, "decode_check_examples": int(checked), "decode_check_exact": int(exact)}
        )
        if method.kind == "EqualInfoAC":
            writer.meta.update(rule_windows)
        if encoder is not None:
            writer.meta["context_ladder"] = list(
                encoder.window_ladder() if method.kind == "EqualInfoAC" and method.m1_reset else encoder.rungs or []
            )
        if method.uses_m1:
            writer.meta.update(
                {
                    "m1_size": m1_size,
                    "m1_call_mb": coding.m1_call_mb,
                    "m1_max_rows": coding.m1_max_rows,
                    "m1_busy_s": encoder.stats.busy_s,
                    "m1_wall_s": encoder.stats.wall_s,
                    "m1_positions": int(encoder.stats.positions),
                    "m1_kept_bytes": int(writer.num_bytes.sum()),
                }
            )
    return writer.meta


def bits_per_token(method: MethodSpec, vocab_size: int) -> int:
    """Storage bits of one token: token_bits for bitstream methods and Bytes, ceil(log2 V) for SentencePiece."""
    return method.token_bits if method.token_bits is not None else int(np.ceil(np.log2(vocab_size)))


def compression_stats(train_manifest: str | Path, valid_manifest: str | Path, out_path: str | Path) -> dict[str, Any]:
    """stats.json of a method: ratios on the validation split (as the paper), dataset size of m2_train
    (Table 12), trivial-model bits/byte (Table 3), side information, M1's cost and the decode check."""
    from nc.eval import trivial_baselines

    train = load_token_dataset(train_manifest)
    valid = load_token_dataset(valid_manifest)
    method = parse_method(valid.meta["method"])
    if valid.total_bytes == 0:
        raise ValueError(
            f"{method.label}: validation tokens cover no raw bytes; m2.seq_len={valid.seq_len} is "
            "too short for this method (e.g. GZip's block header)"
        )
    ratio = valid.compression_ratio
    positions = train.meta.get("m1_positions", 0) + valid.meta.get("m1_positions", 0)
    kept = train.meta.get("m1_kept_bytes", 0) + valid.meta.get("m1_kept_bytes", 0)
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
        "m1_positions_per_kept_byte": positions / kept if method.uses_m1 and kept else None,
        "rule_exception_rate": _rule_exception_rate(train.meta, valid.meta) if method.kind == "EqualInfoAC" else None,
        "decode_check": {
            "examples": int(valid.meta.get("decode_check_examples", 0)),
            "exact": int(valid.meta.get("decode_check_exact", 0)),
        },
    }
    write_json(out_path, stats)
    return stats


def _rule_exception_rate(*metas: Mapping[str, Any]) -> float | None:
    """Share of Equal-Info windows that the D.5 look-ahead rule alone decodes with the wrong byte count."""
    windows = sum(int(m.get("windows", 0)) for m in metas)
    return sum(int(m.get("rule_exceptions", 0)) for m in metas) / windows if windows else None


def method_manifests(
    train_shards: Sequence[str | Path],
    valid_shards: Sequence[str | Path],
    train_manifest: str | Path,
    valid_manifest: str | Path,
    stats_path: str | Path,
) -> dict[str, Any]:
    """Both splits of a method as manifests of their shards (read in place by M2), then its stats.json."""
    write_token_manifest([_shard_dir(m) for m in train_shards], train_manifest)
    write_token_manifest([_shard_dir(m) for m in valid_shards], valid_manifest)
    return compression_stats(train_manifest, valid_manifest, stats_path)


def seq2seq_shard(
    split_manifest: str | Path,
    out_markers: Mapping[str, str | Path],
    *,
    slug: str,
    m1_dir: str | Path,
    seq2seq: Seq2SeqConfig,
    coding: CodingConfig,
    split: str,
    shard: int,
    num_shards: int,
    total_chunks: int,
    progress: bool = True,
) -> int:
    """Table 5's compress / decompress / byte-LM datasets of chunks ``shard`` of ``num_shards`` of the first
    ``total_chunks`` ``seq2seq.input_bytes`` chunks of ``split`` (as many as training / evaluation read).

    Returns the chunks written (fewer than asked when the split runs out).
    """
    from nc.coding import encode_examples

    method = parse_method(slug)
    examples = ExampleSplit(split_manifest)
    first, stop = shard_range(total_chunks, shard, num_shards)
    input_bytes = seq2seq.input_bytes
    ranges = list(seq2seq_chunk_ranges(examples, input_bytes, first, stop))
    count = sum(keep for *_, keep in ranges)
    if count == 0 and shard == 0:
        raise ValueError(f"seq2seq.input_bytes={input_bytes}: no example of {split} is that long")
    source = probability_source(method, coding, m1_dir=m1_dir)
    encoder = shard_encoder(method, source, coding, None)
    chunk_examples = coding.chunk_examples
    code_vocab, seq_len = method.fixed_vocab_size, seq2seq.seq_len
    vocab = {"compress": 256 + code_vocab, "decompress": code_vocab + 256, "bytelm": 256}
    with contextlib.ExitStack() as stack:
        writers = {
            task: stack.enter_context(
                TokenDatasetWriter(
                    _shard_dir(out_markers[task]),
                    count,
                    seq_len=seq_len,
                    vocab_size=vocab[task],
                    loss_start=True,
                    meta={
                        "method": method.label,
                        "task": task,
                        "split": split,
                        "shard": shard,
                        "num_shards": num_shards,
                    },
                )
            )
            for task in out_markers
        }
        written, truncated = 0, dict.fromkeys(writers, 0)
        bar = tqdm(total=count, desc=f"seq2seq {method.label} {split} {shard}", unit="chunk", disable=not progress)
        for lo, hi, to_skip, to_keep in ranges:
            for _, part in examples.chunks(lo, hi, chunk_examples):
                chunks = seq2seq_inputs(part, input_bytes)
                dropped = min(to_skip, len(chunks))
                taken = chunks[dropped : dropped + to_keep]
                to_skip, to_keep = to_skip - dropped, to_keep - len(taken)
                if taken:
                    encoded = encode_examples(taken, method, source, precision=coding.precision, encoder=encoder)
                    for task, dataset in seq2seq_datasets(taken, encoded, method, seq_len).items():
                        writers[task].write(written, dataset)
                        truncated[task] += dataset.meta["truncated_rows"]
                    written += len(taken)
                    bar.update(len(taken))
                if not to_keep:
                    break
        bar.close()
        for task, writer in writers.items():
            writer.meta["truncated_rows"] = truncated[task]
    return written


def seq2seq_manifests(shards: Mapping[str, Sequence[str | Path]], manifests: Mapping[str, str | Path]) -> None:
    """One manifest per Table 5 task over that task's shards."""
    for task, markers in shards.items():
        write_token_manifest([_shard_dir(m) for m in markers], manifests[task])


# ------------------------------------------------------------------------------------------------ M2
def window_tokens(method: MethodSpec) -> int | None:
    """Tokens per Equal-Info window when a window is a whole number of tokens (Fig. 10), else None."""
    if method.kind == "EqualInfoAC" and method.fixed_window_bits % method.fixed_token_bits == 0:
        return method.fixed_window_bits // method.fixed_token_bits
    return None


def train_m2(
    train_manifest: str | Path,
    valid_manifest: str | Path,
    run_dir: str | Path,
    eval_path: str | Path,
    *,
    size: str,
    variant: str,
    seed: int,
    m2: M2Config,
    progress: bool = True,
    gpus: int = 0,
) -> dict[str, Any]:
    """Train one M2 run and write eval.json (final validation metrics, FLOPs/byte, run identity, devices).

    Training rows are read from the method's shards in place; the (small) validation split is held in memory.
    ``bytematched`` trains and evaluates on the first half of each sequence (Table 6: 512 -> 256 tokens), over
    twice the evaluation batches (footnote 16: 40 instead of 20). The validation sample depends on the seed
    as Appendix D.1 describes (``validation_sample``); each evaluation of a run reads the same sample.
    The train state's layout and remat come from ``m2.parallelism`` for ``size``; ``gpus``: what the job
    requested (``require_devices``).
    """
    from nc.eval import validation_sample
    from nc.models.sizes import model_size
    from nc.train import train_lm

    mesh = _training_job(gpus)
    train: TokenRows = load_token_dataset(train_manifest)
    valid_rows = load_token_dataset(valid_manifest)
    method = parse_method(valid_rows.meta["method"])
    if variant == "bytematched":
        m2 = dataclasses.replace(m2, eval_batches=2 * m2.eval_batches)
    sample = validation_sample(
        len(valid_rows), m2.eval_batches * m2.batch_size, seed, deterministic_dataset=not method.is_bitstream
    )
    valid = valid_rows.rows(sample)
    if variant == "bytematched":
        train, valid = TruncatedRows(train, train.seq_len // 2), truncate_dataset(valid, valid.seq_len // 2)
    windows = window_tokens(method) if variant == "default" else None
    cfg = _train_config(m2, seed, eval_every=m2.eval_every, **m2.training_layout(size))
    trained = train_lm(train, valid, model_size(size), cfg, run_dir, window_tokens=windows, progress=progress)
    result = _final_evaluation(trained, cfg, run_dir, valid, window_tokens=windows, mesh=mesh)
    result.update({"slug": method.slug, "variant": variant, "seed": int(seed), "task": valid.meta.get("task")})
    _write_run_eval(eval_path, result)
    return result


def train_m2_runs(runs: Sequence[Mapping[str, Any]], *, m2: M2Config, gpus: int = 0) -> None:
    """``train_m2`` for each of ``runs`` (keyword arguments: manifests, run_dir, eval_path, size, variant,
    seed), one after another in this process: runs of one shape reuse its compiled programs
    (``nc.train.loop.training_programs``). A rerun of the job resumes each run from its checkpoints (a
    finished run's last checkpoint is its end: only its evaluation is done again)."""
    for i, run in enumerate(runs):
        log.info("run %d/%d: %s", i + 1, len(runs), run["run_dir"])
        keys = ("train_manifest", "valid_manifest", "run_dir", "eval_path", "size", "variant", "seed")
        train_m2(**{key: run[key] for key in keys}, m2=m2, gpus=gpus)


# ------------------------------------------------------------------------------------------- spelling


def spelling_finetune(
    pretrained_eval: str | Path,
    curve_csv: str | Path,
    *,
    scheme: str,
    spelling: SpellingConfig,
    coding: CodingConfig,
    m1_dir: str | Path | None = None,
    sentencepiece_model: str | Path | None = None,
    progress: bool = True,
) -> list[SpellingRecord]:
    """Appendix A.3 / Figure 13: fine-tune the pre-trained M2 whose ``eval.json`` is ``pretrained_eval`` on
    the spelling task (``nc.data.spelling``) and write its curve: exact-match accuracy on the held-out
    words and on as many training words, before and every ``spelling.eval_every`` fine-tune steps."""
    from nc.coding import encode_examples
    from nc.train.finetune import finetune_lm

    spec = spelling_task.spelling_scheme(scheme)
    method = spec.spec
    train_words, held_out = spelling_task.split_words(
        spelling_task.shipped_words(), spelling.held_out_fraction, spelling.seed
    )
    words = train_words + held_out
    tokenizer = _sentencepiece_tokenizer(method, sentencepiece_model)
    if tokenizer is not None:
        vocab_size = tokenizer.vocab_size
        inputs = {w: tokenizer.encode(w.encode("utf-8"))[0] for w in words}
    else:
        vocab_size = method.fixed_vocab_size
        source = probability_source(method, coding, m1_dir=m1_dir)
        encoded = encode_examples([w.encode("utf-8") for w in words], method, source, precision=coding.precision)
        inputs = {w: e.tokens for w, e in zip(words, encoded)}
    char_ids = spelling_task.character_ids(spec, "".join(words), vocab_size, tokenizer, seed=spelling.seed)
    make = lambda ws: spelling_task.spelling_dataset(
        ws, inputs, char_ids, spelling_task.separator_id(spec), vocab_size, method.label
    )
    evaluations = {"held_out": make(held_out), "train": make(train_words[: len(held_out)])}
    curve = finetune_lm(
        Path(pretrained_eval).parent,
        make(train_words),
        evaluations,
        steps=spelling.steps,
        batch_size=spelling.batch_size,
        eval_every=spelling.eval_every,
        seed=spelling.seed,
        progress=progress,
    )
    size = read_json(pretrained_eval)["size"]
    rows = [
        SpellingRecord(
            scheme=spec.name,
            label=spec.label,
            method=method.label,
            size=size,
            **point,
            held_out_words=len(held_out),
            train_words=len(train_words),
        )
        for point in curve
    ]
    write_records(curve_csv, rows, SpellingRecord)
    return rows


# ------------------------------------------------------------------------------------------- summaries
def collect_summaries(
    eval_paths: Sequence[str | Path],
    stats_paths: Sequence[str | Path],
    runs_csv: str | Path,
    evals_csv: str | Path,
    compression_csv: str | Path,
    spelling_paths: Sequence[str | Path] = (),
    spelling_csv: str | Path | None = None,
) -> None:
    """runs.csv (one row per M2 run), evals.csv (every evaluation of every run), compression.csv (per method)
    and spelling.csv (the fine-tuning curves of ``spelling_finetune``, one after another).

    A run's identity is read from its directory, ``m2/<slug>/<size>/<variant>/seed<k>/eval.json``.
    """
    from nc.models.sizes import model_size

    runs: list[RunRecord] = []
    evals: list[EvalRecord] = []
    position_accuracies: list[dict[str, str]] = []
    for path in sorted(map(Path, eval_paths)):
        slug, size, variant, seed_dir = path.parts[-5:-1]
        result = read_json(path)
        ident = {**MethodIdentity.from_slug(slug), "size": size, "variant": variant, "seed": int(seed_dir[4:])}
        devices = result.get("devices", {})
        runs.append(
            RunRecord(
                **ident,
                nominal_params=model_size(size).nominal_params,
                m1_params=result.get("m1_params"),
                steps=result["step"],
                loss_nats_per_token=result["loss"],
                accuracy=result["accuracy"],
                bits_per_byte=result["bits_per_byte"],
                bits_per_byte_se=result.get("bits_per_byte_se"),
                compression_ratio=result["compression_ratio"],
                mflops_per_byte=result["mflops_per_byte"],
                eval_tokens=result["tokens"],
                eval_bytes=round(result["tokens"] * result["compression_ratio"]),
                **{key: devices.get(key) for key in DEVICE_COLUMNS},
            )
        )
        with open(path.parent / "evals.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                evals.append(record_from_row(EvalRecord, {**row, **ident}, str(path.parent / "evals.csv")))
                position_accuracies.append({k: v for k, v in row.items() if k.startswith(POSITION_ACCURACY_PREFIX)})
    max_positions = max((len(p) for p in position_accuracies), default=0)
    compression = [
        record_from_row(CompressionRecord, {**read_json(p), **MethodIdentity.from_slug(Path(p).parent.name)}, p)
        for p in sorted(map(str, stats_paths))
    ]
    write_records(runs_csv, runs, RunRecord)
    position_columns = [f"{POSITION_ACCURACY_PREFIX}{i + 1}" for i in range(max_positions)]
    write_records(evals_csv, evals, EvalRecord, position_columns, position_accuracies)
    write_records(compression_csv, compression, CompressionRecord)
    if spelling_csv is not None:
        curves = []
        for curve_path in sorted(map(str, spelling_paths)):
            with open(curve_path, newline="", encoding="utf-8") as f:
                curves += [record_from_row(SpellingRecord, row, curve_path) for row in csv.DictReader(f)]
        write_records(spelling_csv, curves, SpellingRecord)
