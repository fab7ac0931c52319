"""Running Snakemake against the private SLURM cluster of `slurm_cluster` through the repository's
`slurm` profile, exactly as docs/RUNNING.md documents it, and reading back which SLURM jobs ran."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

try:
    from .slurm_cluster import SlurmCluster
except ImportError:  # tests/workflow is not a package: imported from its own directory
    from slurm_cluster import SlurmCluster  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles" / "slurm"

# Fast polling for a cluster on localhost; MinJobAge in the harness stays far above 3x these delays.
FAST_POLLING = [
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--seconds-between-status-checks",
    "2",
    "--max-status-checks-per-second",
    "10",
    "--latency-wait",
    "10",
]

# The smoke scale puts data, compression and M2 jobs in Snakemake groups (config cluster.groups); these
# pack each group's jobs into one SLURM job, so the ~160-job DAG needs a dozen job starts on a 2-core machine.
# `--resources` caps what one group job asks for at the node's two CPUs (its members share them).
SMOKE_GROUPING = ["--group-components", "data=8", "compress=64", "m2=128", "--resources", "cpus_per_task=2"]
# Targets (none here) would go before --config: it takes every following word as a key=value pair.
SMOKE_ARGS = ["--profile", "slurm", "--config", "scale=smoke", *SMOKE_GROUPING, *FAST_POLLING]


def snakemake_command(cluster: SlurmCluster, args: list[str], timeout_s: int) -> tuple[list[str], dict[str, str]]:
    """snakemake against `cluster`, interrupted with SIGINT (it ignores SIGTERM while polling) once
    `timeout_s` has passed; job states from squeue (the harness runs no accounting daemon)."""
    env = cluster.env()
    for key in ("NC_SLURM_ACCOUNT", "NC_SLURM_PARTITION", "SNAKEMAKE_PROFILE"):
        env.pop(key, None)  # settings for a real cluster would be rejected by this one
    env["NC_SLURM_STATUS"] = "squeue"
    return ["timeout", "-s", "INT", "-k", "60", str(timeout_s), sys.executable, "-m", "snakemake", *args], env


def run_snakemake(cluster: SlurmCluster, workdir: Path, args: list[str], timeout_s: int):
    """Run snakemake in `workdir` against `cluster` (``snakemake_command``) and wait for it."""
    cmd, env = snakemake_command(cluster, args, timeout_s)
    return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)


def slurm_log_job_ids(workdir: Path) -> dict[str, str]:
    """Job id -> rule, from the per-job SLURM logs the executor writes (and the profile keeps)."""
    logs = sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
    return {log.stem: log.relative_to(workdir / ".snakemake" / "slurm_logs").parts[0] for log in logs}


def assert_all_completed_in_slurm(cluster: SlurmCluster, workdir: Path, result) -> dict[str, str]:
    """Snakemake succeeded and every job it logged is COMPLETED in SLURM; returns job id -> rule."""
    report = f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-8000:]}\n{cluster.logs()}"
    assert result.returncode == 0, f"snakemake exited {result.returncode}\n{report}"
    jobs = slurm_log_job_ids(workdir)
    assert jobs, f"no SLURM job logs under .snakemake/slurm_logs\n{report}"
    states = cluster.job_states()
    not_completed = {job: states.get(job, "unknown to slurmctld") for job in jobs if states.get(job) != "COMPLETED"}
    assert not not_completed, f"jobs not COMPLETED in SLURM: {not_completed}\n{report}"
    return jobs


def copy_workflow(destination: Path) -> None:
    """Copy the repository's files (tracked and untracked, minus git-ignored ones) to `destination`, so
    a run writes its results/ and .snakemake/ there instead of into the working tree."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = REPO / name
        if source.is_symlink() or source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
