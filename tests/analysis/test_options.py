"""Analysis options: the measured Figure 4's settings and the runs that generate for it."""

import pytest

from nc.analysis.options import AnalysisOptions, GenerationOptions
from nc.pipeline.config import Run, prepare_config, study_runs


def test_generation_options_are_typed_and_bad_keys_named():
    options = AnalysisOptions.from_config({"generation": {"size": "t2", "seeds": ["3", 4], "temperature": "0.5"}})
    assert options.generation == GenerationOptions(size="t2", seeds=(3, 4), temperature=0.5)
    assert AnalysisOptions.from_config({}).generation == GenerationOptions()
    with pytest.raises(ValueError, match=r"analysis.generation: unknown key\(s\) \['seed'\]"):
        GenerationOptions.from_config({"seed": [0]})
    with pytest.raises(ValueError, match="at least one seed"):
        GenerationOptions.from_config({"seeds": []})
    with pytest.raises(ValueError, match="temperature must be positive"):
        GenerationOptions.from_config({"temperature": 0})
    assert GenerationOptions.from_config({"steps": "128"}).steps == 128
    assert GenerationOptions.from_config({"steps": None}).steps is None
    with pytest.raises(ValueError, match="steps must be positive"):
        GenerationOptions.from_config({"steps": 0})


def test_generation_runs_are_figure_3_methods_at_one_size_lowest_seed_default_variant():
    runs = [
        Run("bytes", "t2", "default", 0),
        Run("bytes", "t1", "default", 2),
        Run("bytes", "t1", "default", 1),
        Run("eqinfo-b16-v65k", "t1", "bytematched", 0),  # not the default variant
        Run("eqinfo-b32-v256", "t1", "default", 0),  # not a Figure 3 method
        Run("sentencepiece", "t1", "default", 0),
    ]
    chosen = GenerationOptions().runs(runs)
    assert chosen == [Run("bytes", "t1", "default", 1), Run("sentencepiece", "t1", "default", 0)]
    assert GenerationOptions(size="t2").runs(runs) == [Run("bytes", "t2", "default", 0)]
    assert GenerationOptions().runs(runs[3:5]) == []


def test_tiny_generates_with_every_figure_3_method_at_its_smallest_size():
    runs = GenerationOptions().runs(study_runs(prepare_config({"scale": "tiny"})))
    assert {run.size for run in runs} == {"t1"} and {run.seed for run in runs} == {0}
    assert [run.slug for run in runs][:2] == ["bytes", "sentencepiece"]
    assert "eqinfo-b16-v65k" in {run.slug for run in runs} and len(runs) == 10
