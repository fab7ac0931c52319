"""Config sections that cross package boundaries, as typed values built from the validated config
(``config/schema/config.schema.json``; tests/test_sections.py checks each against the schema).

``CodingConfig``: how every dataset is coded, and so how anything that codes text again (the token
analyses, decoding checks) must code it to get the same tokens. ``SentencePieceConfig``: the
SentencePiece baseline's vocabulary, trained or given."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

SectionT = TypeVar("SectionT")


def section_from_config(cls: type[SectionT], name: str, section: Mapping[str, Any]) -> SectionT:
    """``cls`` built from the config section ``name`` (unknown keys are an error naming them)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(section) - names)
    if unknown:
        raise ValueError(f"{name}: unknown key(s) {unknown}; expected some of {sorted(names)}")
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
