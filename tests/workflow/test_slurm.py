"""The SLURM profile against a real single-node SLURM cluster (Debian packages, started by the harness).

Two runs, both through `snakemake --profile slurm` from a directory holding the repository's `slurm`
profile link, exactly as docs/RUNNING.md documents it:

* a two-rule throwaway workflow, which proves the harness and the profile independently of the project;
* the project's whole smoke DAG (`--config scale=smoke`), its compression and M2 jobs packed into
  group jobs (the smoke scale's ``cluster.groups`` with ``--group-components``).

Both check that every job really ran as a SLURM batch job: each job's SLURM log file names a job id that
the controller reports as COMPLETED, and the throwaway rules record the ``SLURM_JOB_ID`` they ran under.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

try:
    from .restart_workflow import TARGET, assert_same_run, checkpoint_steps, wait_for, write_workflow
    from .slurm_cluster import SlurmCluster, ensure_installed, unavailable_reason
except ImportError:  # tests/workflow is not a package: imported from its own directory
    from restart_workflow import TARGET, assert_same_run, checkpoint_steps, wait_for, write_workflow  # type: ignore[no-redef]
    from slurm_cluster import SlurmCluster, ensure_installed, unavailable_reason  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles" / "slurm"

pytestmark = [pytest.mark.slurm, pytest.mark.workflow, pytest.mark.xdist_group("slurm")]

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

TWO_RULE_SNAKEFILE = """
localrules: all

rule all:
    input: "b.txt"

rule a:
    output: "a.txt"
    resources: mem_mb=100, runtime=5, cpus_per_task=1
    shell: "echo $SLURM_JOB_ID > {output}"

rule b:
    input: "a.txt"
    output: "b.txt"
    shell: "cat {input} > {output} && echo $SLURM_JOB_ID >> {output}"
"""


@pytest.fixture(scope="module")
def slurm_cluster():
    """A private single-node cluster for this module; daemons stopped by PID when the module ends."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        reason = unavailable_reason()
        if reason:
            pytest.skip(f"{reason} (and cannot install: apt-get unavailable or not root)")
    install_error = ensure_installed()
    if install_error:
        pytest.fail(f"installing SLURM failed: {install_error}")
    root = Path(tempfile.mkdtemp(prefix="nc-slurm-"))
    cluster = SlurmCluster(root)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


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
    report = f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-8000:]}\n{cluster.logs()}"
    assert result.returncode == 0, f"snakemake exited {result.returncode}\n{report}"
    jobs = slurm_log_job_ids(workdir)
    assert jobs, f"no SLURM job logs under .snakemake/slurm_logs\n{report}"
    states = cluster.job_states()
    not_completed = {job: states.get(job, "unknown to slurmctld") for job in jobs if states.get(job) != "COMPLETED"}
    assert not not_completed, f"jobs not COMPLETED in SLURM: {not_completed}\n{report}"
    return jobs


@pytest.mark.slow
def test_profile_runs_two_rule_workflow_through_slurm(slurm_cluster, tmp_path):
    (tmp_path / "Snakefile").write_text(TWO_RULE_SNAKEFILE)
    (tmp_path / "slurm").symlink_to(PROFILE, target_is_directory=True)

    result = run_snakemake(slurm_cluster, tmp_path, ["--profile", "slurm", *FAST_POLLING], timeout_s=300)

    jobs = assert_all_completed_in_slurm(slurm_cluster, tmp_path, result)
    assert sorted(jobs.values()) == ["rule_a", "rule_b"]
    job_a = (tmp_path / "a.txt").read_text().split()
    job_a_again, job_b = (tmp_path / "b.txt").read_text().split()
    assert job_a == [job_a_again]
    assert {job_a_again, job_b} == set(jobs), "rules did not run inside the SLURM jobs that logged them"


@pytest.mark.slow
def test_training_job_stopped_by_scancel_resumes_in_its_retry(slurm_cluster, tmp_path):
    """SIGTERM from SLURM (what `--signal=TERM@600` sends before a time limit) mid-run: the job checkpoints and
    fails, the profile's retry resubmits it, and the retry resumes to the uninterrupted run's result."""
    full = write_workflow(tmp_path / "full")
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", TARGET],
        cwd=full,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    workdir = write_workflow(tmp_path / "cut")
    (workdir / "slurm").symlink_to(PROFILE, target_is_directory=True)
    cmd, env = snakemake_command(slurm_cluster, ["--profile", "slurm", *FAST_POLLING, TARGET], timeout_s=900)
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: checkpoint_steps(workdir) or proc.poll() is not None, 600, "the first checkpoint")
    running = slurm_cluster.run("squeue", "-h", "-t", "running", "-o", "%i").stdout.split()
    assert len(running) == 1, running
    slurm_cluster.run("scancel", "--signal=TERM", running[0])
    out, err = proc.communicate(timeout=900)
    report = f"stdout:\n{out[-4000:]}\nstderr:\n{err[-8000:]}\n{slurm_cluster.logs()}"
    assert proc.returncode == 0, report

    jobs = slurm_log_job_ids(workdir)
    assert sorted(jobs.values()) == ["rule_train_m2", "rule_train_m2"], report
    states = slurm_cluster.job_states()
    assert states.get(running[0]) == "FAILED", (states, report)
    (retry,) = set(jobs) - {running[0]}
    assert states.get(retry) == "COMPLETED", (states, report)
    # The stopped job checkpointed where the signal found it; the retry (whose rule log replaced the
    # first one) resumed from exactly there.
    first_log = next((workdir / ".snakemake" / "slurm_logs").rglob(f"{running[0]}.log")).read_text()
    stopped = re.search(r"stopped by SIGTERM after step (\d+)", first_log)
    assert stopped, first_log[-4000:]
    log = next((workdir / "logs").rglob("*.log")).read_text()
    assert f"train s2 from step {stopped.group(1)} to 600" in log, log
    assert_same_run(workdir, full)


def copy_workflow(destination: Path) -> None:
    """Copy the repository's files (tracked and untracked, minus git-ignored ones) to `destination`, so
    the smoke run writes its results/ and .snakemake/ there instead of into the working tree."""
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


@pytest.fixture
def smoke_workdir(tmp_path) -> Path:
    assert (REPO / "Snakefile").is_file(), "the repository has no Snakefile"
    workdir = tmp_path / "nc"
    copy_workflow(workdir)
    assert (workdir / "slurm").is_dir(), "the `slurm` profile link is missing from the repository root"
    return workdir


# The smoke scale puts data, compression and M2 jobs in Snakemake groups (config cluster.groups); these
# pack each group's jobs into one SLURM job, so the ~160-job DAG needs a dozen job starts on a 2-core machine.
# `--resources` caps what one group job asks for at the node's two CPUs (its members share them).
SMOKE_GROUPING = ["--group-components", "data=8", "compress=64", "m2=128", "--resources", "cpus_per_task=2"]


@pytest.mark.slow
def test_smoke_dag_through_slurm(slurm_cluster, smoke_workdir):
    # Targets (none here) would go before --config: it takes every following word as a key=value pair.
    result = run_snakemake(
        slurm_cluster,
        smoke_workdir,
        ["--profile", "slurm", "--config", "scale=smoke", *SMOKE_GROUPING, *FAST_POLLING],
        timeout_s=2400,
    )

    jobs = assert_all_completed_in_slurm(slurm_cluster, smoke_workdir, result)
    rules = set(jobs.values())
    assert "rule_train_m1" in rules, rules
    # Group jobs log under group_<group>_<its rules>.
    for group in ("data", "compress", "m2"):
        assert any(r.startswith(f"group_{group}_") for r in rules), (group, rules)
    assert len(jobs) <= 20, f"{len(jobs)} SLURM jobs: the groups did not pack the smoke DAG"
    results = smoke_workdir / "results" / "smoke"
    assert (results / "audit" / "report.md").is_file()
    runs = (results / "summary" / "runs.csv").read_text().splitlines()
    assert len(runs) - 1 == len(list((results / "m2").rglob("eval.json"))) >= 50
