"""Dry run of rules/analysis_tokens.smk inside a minimal Snakefile: the DAG resolves every target."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
def test_token_analysis_rules_dry_run(tmp_path):
    (tmp_path / "Snakefile").write_text(
        f'RESULTS = "results/tiny"\n'
        f'config.setdefault("analysis", {{"tokens": {{"kl_max_n": 8}}}})\n'
        f'config.setdefault("coding", {{"precision": 14, "m1_call_mb": 8, "m1_max_rows": 8, "m1_length_step": 32}})\n'
        f'include: "{ROOT}/rules/analysis_tokens.smk"\n'
        f"rule all:\n    input: TOKEN_ANALYSIS_TARGETS\n"
    )
    r = tmp_path / "results/tiny"
    for slug in ("ac-v256", "eqinfo-b16-v256", "staticac-v256", "gzip-v256"):
        (r / f"compression/{slug}/m2_train").mkdir(parents=True)
        (r / f"compression/{slug}/m2_train/manifest.json").write_text("{}")
    for path in ("data/valid/manifest.json", "sentencepiece/spm.model", "m1/eval.json"):
        (r / path).parent.mkdir(parents=True, exist_ok=True)
        (r / path).write_text("x")
    snakemake = Path(sys.executable).parent / "snakemake"
    out = subprocess.run(
        [str(snakemake), "-n", "--cores", "1", "-s", str(tmp_path / "Snakefile"), "--directory", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    for rule in ("tokens_entropy", "tokens_stability", "tokens_alignment", "tokens_text_tables"):
        assert rule in out.stdout
