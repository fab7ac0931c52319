"""Typed config sections agree with the JSON schema that validates the config."""

import dataclasses
import inspect
import json
from pathlib import Path

import pytest
import yaml

from nc.data.tokenizers import train_sentencepiece
from nc.sections import (
    CodingConfig,
    DataConfig,
    M1Config,
    M2Config,
    SentencePieceConfig,
    Seq2SeqConfig,
    SpellingConfig,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "config" / "schema" / "config.schema.json").read_text())


SECTIONS = [
    ("coding", CodingConfig),
    ("sentencepiece", SentencePieceConfig),
    ("m1", M1Config),
    ("m2", M2Config),
    ("seq2seq", Seq2SeqConfig),
    ("spelling", SpellingConfig),
    ("data", DataConfig),
]


@pytest.mark.parametrize("name, cls", SECTIONS)
def test_section_has_the_schema_keys_and_requires_what_it_requires(name, cls):
    section = SCHEMA["properties"][name]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert set(fields) == set(section["properties"])
    required = {n for n, f in fields.items() if f.default is dataclasses.MISSING}
    assert required == set(section["required"])


@pytest.mark.parametrize("scale", ["smoke", "tiny", "paper"])
def test_every_scale_s_sections_build(scale):
    config = yaml.safe_load((ROOT / "config" / "scales" / f"{scale}.yaml").read_text())
    coding = CodingConfig.from_config(config["coding"])
    assert coding.precision == config["coding"]["precision"] and coding.m1_call_mb == config["coding"]["m1_call_mb"]
    sentencepiece = SentencePieceConfig.from_config(config["sentencepiece"])
    assert sentencepiece.vocab_size == config["sentencepiece"]["vocab_size"]
    assert sentencepiece.model_file == config["sentencepiece"].get("model_file")
    data = DataConfig.from_config(config["data"])
    assert {name: dataclasses.asdict(split) for name, split in data.splits.items()} == config["data"]["splits"]
    assert data.corpus_config.example_bytes == config["data"]["example_bytes"]
    for name, cls in SECTIONS[2:-1]:
        section = cls.from_config(config[name])
        assert {k: getattr(section, k) for k in config[name]} == {
            k: tuple(v) if isinstance(v, list) else v for k, v in config[name].items()
        }


def test_sentencepiece_trainer_defaults_are_the_section_s():
    signature = inspect.signature(train_sentencepiece)
    defaults = SentencePieceConfig(vocab_size=300)
    assert signature.parameters["max_sentences"].default == defaults.max_sentences
    assert signature.parameters["seed"].default == defaults.seed


def test_unknown_coding_key_is_named():
    with pytest.raises(ValueError, match=r"coding: unknown key\(s\) \['precison'\]"):
        CodingConfig.from_config({"precison": 14, "m1_call_mb": 1, "m1_max_rows": 1, "m1_length_step": 1})


def test_a_split_s_unknown_key_is_named_with_its_path():
    config = yaml.safe_load((ROOT / "config" / "scales" / "tiny.yaml").read_text())["data"]
    config["splits"]["valid"] = {**config["splits"]["valid"], "sed": 1}
    with pytest.raises(ValueError, match=r"data.splits.valid: unknown key\(s\) \['sed'\]"):
        DataConfig.from_config(config)
