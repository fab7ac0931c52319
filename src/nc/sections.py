"""Config sections that cross package boundaries, as typed values built from the validated config
(``config/schema/config.schema.json``; tests/test_sections.py checks each against the schema).

``CodingConfig``: how every dataset is coded, and so how anything that codes text again (the token
analyses, decoding checks) must code it to get the same tokens. ``SentencePieceConfig``: the
SentencePiece baseline's vocabulary, trained or given. ``M1Config`` / ``M2Config``: how M1 and the M2s
train (their shared fields are ``Schedule``'s). ``Seq2SeqConfig``: Table 5's datasets. ``SpellingConfig``:
Figure 13's fine-tunes. ``DataConfig``: the corpus (``CorpusConfig``, what corpus parts depend on) and
the splits (``SplitConfig``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

SectionT = TypeVar("SectionT")


def reject_unknown_keys(cls: type, name: str, section: Mapping[str, Any]) -> None:
    """ValueError naming the keys of config section ``name`` that are not fields of dataclass ``cls``."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(section) - names)
    if unknown:
        raise ValueError(f"{name}: unknown key(s) {unknown}; expected some of {sorted(names)}")


def section_from_config(cls: type[SectionT], name: str, section: Mapping[str, Any]) -> SectionT:
    """``cls`` built from the config section ``name`` (unknown keys are an error naming them)."""
    reject_unknown_keys(cls, name, section)
    return cls(**section)


@dataclass(frozen=True, kw_only=True)
class CodingConfig:
    """precision: range-coder precision (Section 3.3: 14); m1_call_mb / m1_max_rows: working memory and
    row cap of one M1 call (rows per call follow from them, ``nc.models.m1.M1Source``); m1_length_step:
    AC / reset=never contexts are multiples of it; batch_size: rows per call of a source without a memory
    budget (StaticAC); chunk_examples: examples a compression job reads and codes at a time;
    decode_check_examples: validation examples each job decodes back."""

    precision: int
    m1_call_mb: float
    m1_max_rows: int
    m1_length_step: int
    batch_size: int = 64
    chunk_examples: int = 1024
    decode_check_examples: int = 0

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> CodingConfig:
        """The section of a validated config (unknown keys are an error naming them)."""
        return section_from_config(cls, "coding", section)


@dataclass(frozen=True, kw_only=True)
class SentencePieceConfig:
    """vocab_size: pieces of the trained model (a given one is checked against it); model_file: a
    pre-trained model used instead of training (the paper: T5's cc_all.32000), None to train one;
    max_sentences: training sentences read from the start of the shuffled m2_train; seed: the trainer's."""

    vocab_size: int
    model_file: str | None = None
    max_sentences: int = 2_000_000
    seed: int = 0

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> SentencePieceConfig:
        """The section of a validated config (unknown keys are an error naming them)."""
        return section_from_config(cls, "sentencepiece", section)


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """The training fields M1 and M2 share (the schema's ``definitions/training``): rows of ``seq_len``
    tokens, ``batch_size`` rows per step for ``steps`` steps; inverse-square-root decay from
    ``learning_rate`` after ``warmup_steps``; ``z_loss``; ``eval_batches`` batches per evaluation;
    a checkpoint every ``checkpoint_every_min`` minutes of wall time (0: none) besides every steps / 4."""

    seq_len: int
    batch_size: int
    steps: int
    learning_rate: float
    warmup_steps: int
    z_loss: float
    eval_batches: int
    checkpoint_every_min: float


@dataclass(frozen=True, kw_only=True)
class M1Config(Schedule):
    """M1's schedule, its model ``size`` (``nc.models.sizes``) and its ``seed``."""

    size: str
    seed: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> M1Config:
        return section_from_config(cls, "m1", section)


@dataclass(frozen=True, kw_only=True)
class M2Config(Schedule):
    """The M2s' schedule; ``eval_every`` steps between evaluations; ``sizes`` of the scaling study;
    ``studies`` (``nc.pipeline.config.study_runs`` reads them); ``parallelism`` per size
    (``training_layout``); ``runs_per_job``: runs of one shape trained in one job."""

    eval_every: int
    sizes: tuple[str, ...]
    studies: Mapping[str, Any]
    parallelism: Mapping[str, Any]
    runs_per_job: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> M2Config:
        return section_from_config(cls, "m2", {**section, "sizes": tuple(section.get("sizes", ()))})

    def training_layout(self, size: str) -> dict[str, Any]:
        """{'layout', 'remat'} of M2 model ``size``: ``parallelism.by_size[size]``, else its default."""
        return dict(self.parallelism.get("by_size", {}).get(size, self.parallelism["default"]))


@dataclass(frozen=True, kw_only=True)
class Seq2SeqConfig:
    """Table 5: chunks of ``input_bytes`` raw bytes, rows of ``seq_len`` tokens (inputs and targets);
    ``train_examples`` / ``valid_examples`` chunks built (None: what M2 reads, steps x batch_size and
    eval_batches x batch_size); ``shards`` jobs per split."""

    input_bytes: int
    seq_len: int
    shards: Mapping[str, int]
    train_examples: int | None = None
    valid_examples: int | None = None

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Seq2SeqConfig:
        return section_from_config(cls, "seq2seq", section)


@dataclass(frozen=True, kw_only=True)
class SpellingConfig:
    """Figure 13: fine-tunes of the ``size`` M2s for ``steps`` steps of ``batch_size`` words, evaluated every
    ``eval_every`` steps; ``held_out_fraction`` of the word list held out, split with ``seed``."""

    size: str
    steps: int
    batch_size: int
    eval_every: int
    held_out_fraction: float
    seed: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> SpellingConfig:
        return section_from_config(cls, "spelling", section)


@dataclass(frozen=True, kw_only=True)
class CorpusConfig:
    """What the corpus parts depend on (a split's seed is not among it, so changing one reuses the parts):
    ``corpus`` (``embedded`` or a directory of C4 json.gz shards), ``docs_per_sequence`` documents joined
    into examples of ``example_bytes`` bytes, ``parts`` jobs per corpus split, ``max_documents_per_file``
    per corpus split (None: all)."""

    corpus: str
    docs_per_sequence: int
    example_bytes: int
    parts: Mapping[str, int]
    max_documents_per_file: Mapping[str, int | None]


@dataclass(frozen=True, kw_only=True)
class SplitConfig:
    """One split (``m1_train``, ``m2_train``, ``valid``): the first ``examples`` of its seeded shuffle
    (None: all), ``seed``, ``shards`` shuffle buckets (a job and a file each)."""

    examples: int | None
    seed: int
    shards: int


@dataclass(frozen=True, kw_only=True)
class DataConfig(CorpusConfig):
    """The ``data`` section: the corpus and its ``splits``."""

    splits: Mapping[str, SplitConfig]

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> DataConfig:
        splits = {
            name: section_from_config(SplitConfig, f"data.splits.{name}", split)
            for name, split in section.get("splits", {}).items()
        }
        return section_from_config(cls, "data", {**section, "splits": splits})

    @property
    def corpus_config(self) -> CorpusConfig:
        return CorpusConfig(**{f.name: getattr(self, f.name) for f in dataclasses.fields(CorpusConfig)})
