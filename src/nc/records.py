"""The records of the summary CSVs: one frozen dataclass per file, shared by the writer
(``nc.pipeline.steps``: ``collect_summaries``, ``spelling_finetune``) and the reader (``nc.analysis.summary``).

A record's fields, in order, are the file's columns. A field without a default is one the reader needs and
names when a file lacks it; a field with a default may be absent (files from older versions, synthetic
tables in tests) and is filled with its default. ``MethodIdentity`` columns repeat what the slug says, for
people reading the file; the reader derives them from the slug again.

``EvalRecord`` rows may carry ``acc_pos_1``, ``acc_pos_2``, ... after their fields: the accuracy at each
token position of an Equal-Info window (Figure 10), as many as the run's windows have tokens.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nc.io import write_text
from nc.methods import parse_method

POSITION_ACCURACY_PREFIX = "acc_pos_"


@dataclass(frozen=True, kw_only=True)
class MethodIdentity:
    """The method columns every summary row starts with (``from_slug`` fills them)."""

    method: str | None = None
    paper_label: str | None = None
    slug: str
    kind: str | None = None
    token_bits: int | None = None
    window_bits: int | None = None

    @staticmethod
    def from_slug(slug: str) -> dict[str, Any]:
        """The identity columns of method ``slug``, as keyword arguments of any record."""
        method = parse_method(slug)
        return {
            "method": method.label,
            "paper_label": method.paper_label,
            "slug": method.slug,
            "kind": method.kind,
            "token_bits": method.token_bits,
            "window_bits": method.window_bits,
        }


@dataclass(frozen=True, kw_only=True)
class RunIdentity(MethodIdentity):
    """Which run: method, model size, variant (``default``, ``bytematched``, ``seq2seq-*``) and seed."""

    size: str
    variant: str
    seed: int


@dataclass(frozen=True, kw_only=True)
class RunRecord(RunIdentity):
    """runs.csv: one trained M2 run's final evaluation, and where it trained (``nc.train.distributed``).
    ``m1_params``: nominal parameters of the M1 whose FLOPs the method's bytes carry (0 without M1)."""

    nominal_params: float | None = None
    m1_params: float | None = None
    steps: int
    loss_nats_per_token: float
    accuracy: float
    bits_per_byte: float
    bits_per_byte_se: float | None = None
    compression_ratio: float
    mflops_per_byte: float | None = None
    eval_tokens: int | None = None
    eval_bytes: int | None = None
    backend: str | None = None
    device_kind: str | None = None
    device_count: int | None = None
    process_count: int | None = None
    jax_version: str | None = None
    jaxlib_version: str | None = None


DEVICE_COLUMNS = ("backend", "device_kind", "device_count", "process_count", "jax_version", "jaxlib_version")


@dataclass(frozen=True, kw_only=True)
class EvalPoint:
    """One evaluation during training: a row of a run's own ``evals.csv`` (``nc.train.loop``)."""

    step: int
    loss: float
    accuracy: float
    bits_per_byte: float
    bits_per_byte_se: float | None = None
    tokens: int | None = None


@dataclass(frozen=True, kw_only=True)
class EvalRecord(EvalPoint, RunIdentity):
    """evals.csv: every run's evaluation points, each with the run's identity."""


@dataclass(frozen=True, kw_only=True)
class CompressionRecord(MethodIdentity):
    """compression.csv: one method's dataset statistics (its ``stats.json``)."""

    compression_ratio: float
    bit_compression_ratio: float
    tokens: int
    bytes: int
    vocab_size: int
    uniform_bits_per_byte: float | None = None
    unigram_bits_per_byte: float
    side_info_bits_per_example: float | None = None
    m1_positions_per_kept_byte: float | None = None
    rule_exception_rate: float | None = None


@dataclass(frozen=True, kw_only=True)
class SpellingRecord:
    """spelling.csv (and each fine-tune's curve.csv): exact-match accuracy of one spelling fine-tune at a step."""

    scheme: str
    label: str
    method: str | None = None
    size: str
    step: int
    held_out_accuracy: float
    train_accuracy: float
    held_out_words: int
    train_words: int


def columns(record: type) -> tuple[str, ...]:
    """The file's columns: the record's fields, in order."""
    return tuple(f.name for f in dataclasses.fields(record))


def required_columns(record: type) -> tuple[str, ...]:
    """The columns a reader needs: fields without a default."""
    return tuple(
        f.name
        for f in dataclasses.fields(record)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def optional_defaults(record: type) -> dict[str, Any]:
    """Default of each optional column, for filling files that lack it."""
    return {f.name: f.default for f in dataclasses.fields(record) if f.default is not dataclasses.MISSING}


def record_from_row(record: type, row: Mapping[str, Any], what: str = "row") -> Any:
    """``record`` built from the keys of ``row`` it has (others ignored; missing optional ones defaulted);
    a missing required key is a ValueError naming ``what`` and the keys."""
    missing = [c for c in required_columns(record) if c not in row]
    if missing:
        raise ValueError(f"{what}: missing {missing} for a {record.__name__}; has {sorted(row)}")
    names = set(columns(record))
    return record(**{k: v for k, v in row.items() if k in names})


def write_records(
    path,
    records: Sequence[Any],
    record: type[Any],
    extra_columns: Iterable[str] = (),
    extras: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """CSV of ``records`` (instances of ``record``) with the record's columns, then ``extra_columns`` taken
    from the matching mapping of ``extras``; None is written as an empty cell. Atomic (``nc.io``)."""
    extra_columns = list(extra_columns)
    header = [*columns(record), *extra_columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for i, rec in enumerate(records):
        if not isinstance(rec, record):
            raise TypeError(f"write_records: row {i} is a {type(rec).__name__}, not a {record.__name__}")
        row = {**dataclasses.asdict(rec), **({k: extras[i].get(k) for k in extra_columns} if extras else {})}
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in header})
    write_text(path, buffer.getvalue())
