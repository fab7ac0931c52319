"""The SLURM profile without a cluster: how Snakemake resolves and expands it (dry runs only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.workflow

ONE_RULE_SNAKEFILE = """
rule a:
    output: "a.txt"
    shell: "touch {output}"

rule b:
    output: "b.txt"
    resources: mem_mb=500, runtime=7, cpus_per_task=2, gpu=0
    shell: "touch {output}"
"""


def dry_run_resources(tmp_path: Path, target: str, **env_overrides: str) -> str:
    """The `resources:` line Snakemake prints for `target` in a dry run with `--profile slurm`."""
    (tmp_path / "Snakefile").write_text(ONE_RULE_SNAKEFILE)
    if not (tmp_path / "slurm").exists():
        (tmp_path / "slurm").symlink_to(REPO / "profiles" / "slurm", target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NC_SLURM_") and k != "SNAKEMAKE_PROFILE"}
    env.update(env_overrides)
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "slurm", "--dry-run", target],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = [line.strip() for line in (result.stdout + result.stderr).splitlines()]
    resources = [line for line in lines if line.startswith("resources:")]
    assert len(resources) == 1, lines
    return resources[0]


def resource_map(line: str) -> dict[str, str]:
    pairs = line.removeprefix("resources:").split(",")
    return dict(pair.strip().split("=", 1) for pair in pairs)


def test_repository_root_resolves_slurm_profile_name():
    from snakemake.cli import get_profile_dir

    cwd = os.getcwd()
    try:
        os.chdir(REPO)
        profile_dir, config_file = get_profile_dir("slurm")
    finally:
        os.chdir(cwd)
    assert Path(profile_dir).resolve() == (REPO / "profiles" / "slurm").resolve()
    assert config_file.name == "config.yaml"


@pytest.mark.slow
def test_default_resources_apply_only_where_a_rule_sets_none(tmp_path):
    defaults = resource_map(dry_run_resources(tmp_path, "a.txt"))
    own = resource_map(dry_run_resources(tmp_path, "b.txt"))

    assert {"mem_mb", "runtime", "cpus_per_task"} <= defaults.keys()
    assert (own["mem_mb"], own["runtime"], own["cpus_per_task"], own["gpu"]) == ("500", "7", "2", "0")
    assert "slurm_account" not in defaults and "slurm_partition" not in defaults


@pytest.mark.slow
def test_account_and_partition_come_from_the_environment(tmp_path):
    resources = resource_map(
        dry_run_resources(tmp_path, "a.txt", NC_SLURM_ACCOUNT="proj_42", NC_SLURM_PARTITION="gpu-long")
    )
    assert resources["slurm_account"] == "proj_42"
    assert resources["slurm_partition"] == "gpu-long"
