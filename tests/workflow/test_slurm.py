"""The SLURM profile against a real single-node SLURM cluster (Debian packages, started by the harness).

Two runs, both through `snakemake --profile slurm` from a directory holding the repository's `slurm`
profile link, exactly as docs/RUNNING.md documents it:

* a two-rule throwaway workflow, which proves the harness and the profile independently of the project;
* the project's whole smoke DAG (`--config scale=smoke`), its compression and M2 jobs packed into
  group jobs (the smoke scale's ``cluster.groups`` with ``--group-components``): the session's one smoke
  run (``smoke_run`` in conftest.py), whose outputs tests/workflow/test_smoke.py checks.

Both check that every job really ran as a SLURM batch job: each job's SLURM log file names a job id that
the controller reports as COMPLETED, and the throwaway rules record the ``SLURM_JOB_ID`` they ran under.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

try:
    from .restart_workflow import TARGET, assert_same_run, checkpoint_steps, wait_for, write_workflow
    from .slurm_runs import (
        FAST_POLLING,
        PROFILE,
        assert_all_completed_in_slurm,
        run_snakemake,
        slurm_log_job_ids,
        snakemake_command,
    )
except ImportError:  # tests/workflow is not a package: imported from its own directory
    from restart_workflow import TARGET, assert_same_run, checkpoint_steps, wait_for, write_workflow  # type: ignore[no-redef]
    from slurm_runs import (  # type: ignore[no-redef]
        FAST_POLLING,
        PROFILE,
        assert_all_completed_in_slurm,
        run_snakemake,
        slurm_log_job_ids,
        snakemake_command,
    )

pytestmark = [pytest.mark.slurm, pytest.mark.workflow, pytest.mark.xdist_group("slurm")]

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


@pytest.mark.slow
def test_smoke_dag_through_slurm(slurm_cluster, smoke_run):
    """The whole smoke DAG ran through SLURM (the `smoke_run` fixture; tests/workflow/test_smoke.py checks
    its outputs): every job COMPLETED in SLURM, packed into a few group jobs."""
    assert smoke_run.cluster is slurm_cluster
    jobs = assert_all_completed_in_slurm(slurm_cluster, smoke_run.workdir, smoke_run.result)
    rules = set(jobs.values())
    assert "rule_train_m1" in rules, rules
    # Group jobs log under group_<group>_<its rules>.
    for group in ("data", "compress", "m2"):
        assert any(r.startswith(f"group_{group}_") for r in rules), (group, rules)
    assert len(jobs) <= 20, f"{len(jobs)} SLURM jobs: the groups did not pack the smoke DAG"
    results = smoke_run.workdir / "results" / "smoke"
    assert (results / "audit" / "report.md").is_file()
    runs = (results / "summary" / "runs.csv").read_text().splitlines()
    assert len(runs) - 1 == len(list((results / "m2").rglob("eval.json"))) >= 50
