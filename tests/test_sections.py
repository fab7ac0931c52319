"""Typed config sections agree with the JSON schema that validates the config."""

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from nc.sections import CodingConfig

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "config" / "schema" / "config.schema.json").read_text())


def test_coding_config_has_the_schema_keys_and_requires_what_it_requires():
    section = SCHEMA["properties"]["coding"]
    fields = {f.name: f for f in dataclasses.fields(CodingConfig)}
    assert set(fields) == set(section["properties"])
    required = {n for n, f in fields.items() if f.default is dataclasses.MISSING}
    assert required == set(section["required"])


@pytest.mark.parametrize("scale", ["smoke", "tiny", "paper"])
def test_every_scale_s_coding_section_builds(scale):
    section = yaml.safe_load((ROOT / "config" / "scales" / f"{scale}.yaml").read_text())["coding"]
    coding = CodingConfig.from_config(section)
    assert coding.precision == section["precision"] and coding.m1_call_mb == section["m1_call_mb"]


def test_unknown_coding_key_is_named():
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['precison'\]"):
        CodingConfig.from_config({"precison": 14, "m1_call_mb": 1, "m1_max_rows": 1, "m1_length_step": 1})
