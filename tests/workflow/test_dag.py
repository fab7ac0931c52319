"""The DAG itself: the paper scale plans every run quickly, lint is clean, bad config fails at once."""
import re
import time

import pytest

from nc.methods import parse_method
from nc.models.sizes import PAPER_M2_SIZES

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TABLE12 = ROOT.parent / "shared" / "paper" / "values" / "table12_dataset_sizes.csv"


def job_counts(output: str) -> dict[str, int]:
    block = output.split("Job stats:")[1].split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.M)}


def test_paper_dry_run_lists_every_run(tmp_path, snakemake_run):
    start = time.perf_counter()
    result = snakemake_run(tmp_path, "-n", "--config", "scale=paper", "--printshellcmds", timeout=300)
    elapsed = time.perf_counter() - start
    out = result.stdout + result.stderr
    counts = job_counts(out)
    runs = set(re.findall(r"results/paper/m2/([a-z0-9-]+)/(\w+)/([a-z0-9-]+)/seed(\d+)/eval\.json", out))
    labels = [line.split(",")[0] for line in TABLE12.read_text().splitlines()[1:]] if TABLE12.exists() else [
        "Bytes", "SentencePiece", "AC[v=256]", "EqualInfoAC[b=16;v=65k]"]
    for label in labels:
        slug = parse_method(label).slug
        assert {size for s, size, v, _ in runs if s == slug and v == "default"} == set(PAPER_M2_SIZES), label
    assert {seed for s, size, v, seed in runs if size == "25m" and s == "ac-v256"} == {"0", "1", "2", "3", "4"}
    assert counts["train_m2"] == len(runs) == 143
    assert counts["prepare_data"] == counts["train_m1"] == counts["collect_summaries"] == 1
    assert counts["compress_shard"] == 26 * (64 + 2)
    assert elapsed < 120, f"paper dry run took {elapsed:.0f} s"


OWN_RULE_FILES = ("Snakefile", "common.smk", "data.smk", "m1.smk", "compress.smk", "baselines.smk", "m2.smk")


def test_lint_is_clean(tmp_path, snakemake_run):
    """No lint for the data, M1, compression and M2 rules (the analysis rule files are linted by their tests)."""
    result = snakemake_run(tmp_path, "--lint", "--config", "scale=smoke", timeout=120, check=False)
    out = result.stdout + result.stderr
    lints = [line for line in out.splitlines() if line.startswith("Lints for")]
    own = [line for line in lints if any(f"/{name}" in line for name in OWN_RULE_FILES)]
    assert not own, out[-3000:]


def test_config_typo_fails_naming_the_key(tmp_path, snakemake_run):
    (tmp_path / "typo.yaml").write_text("m2:\n  seq_lenght: 512\n")
    result = snakemake_run(tmp_path, "-n", "--configfile", str(tmp_path / "typo.yaml"), timeout=120, check=False)
    assert result.returncode != 0
    assert "seq_lenght" in result.stdout + result.stderr
