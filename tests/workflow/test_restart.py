"""Training jobs stopped mid-run under Snakemake (SIGTERM, SIGKILL) and rerun end exactly as an uninterrupted run.

Snakemake deletes a failed job's declared outputs (eval.json, evals.csv); the run keeps its checkpoints and
its eval history beside them, so the rerun resumes and publishes the same files, bit for bit on CPU, as an
uninterrupted run over as many processes. (Over a different number of processes the sums are reduced in
another order: tests/train/test_distributed.py compares those runs to float tolerance over a few steps.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

import nc.eval
from nc.pipeline.steps import train_m2
from nc.sections import M2Config

try:
    from .restart_workflow import (
        M2,
        RUN,
        TARGET,
        assert_same_run,
        checkpoint_steps,
        history_steps,
        training_processes,
        wait_for,
        write_workflow,
    )
except ImportError:  # tests/workflow is not a package: imported from its own directory
    from restart_workflow import (  # type: ignore[no-redef]
        M2,
        RUN,
        TARGET,
        assert_same_run,
        checkpoint_steps,
        history_steps,
        training_processes,
        wait_for,
        write_workflow,
    )

pytestmark = [pytest.mark.workflow, pytest.mark.slow]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "2", "--nolock"]


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, *args, TARGET], cwd=workdir, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The uninterrupted run over ``tasks`` processes (made once per process count)."""
    runs: dict[int, Path] = {}

    def run(tasks: int) -> Path:
        if tasks not in runs:
            workdir = write_workflow(tmp_path_factory.mktemp(f"full{tasks}"), tasks=tasks)
            result = snakemake(workdir)
            assert result.returncode == 0, result.stderr[-6000:]
            runs[tasks] = workdir
        return runs[tasks]

    return run


def stop_mid_run(workdir: Path, signum: int) -> subprocess.CompletedProcess:
    """Start the job under Snakemake, send ``signum`` to its training process(es) once the first scheduled
    checkpoint (step 150 of 600) is on disk, wait for Snakemake."""
    proc = subprocess.Popen(
        [*SNAKEMAKE, TARGET], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    root = psutil.Process(proc.pid)
    wait_for(lambda: checkpoint_steps(workdir), 300, "the first checkpoint")
    targets = training_processes(root)
    assert targets, "no training process under snakemake"
    for target in targets:
        target.send_signal(signum)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def log_text(workdir: Path) -> str:
    logs = list((workdir / "logs").rglob("*.log"))
    return logs[0].read_text() if logs else ""


@pytest.mark.parametrize(
    "signum, tasks",
    [(signal.SIGTERM, 1), (signal.SIGKILL, 1), (signal.SIGTERM, 2)],
    ids=["sigterm", "sigkill", "sigterm-two-processes"],
)
def test_stopped_training_job_resumes_to_the_uninterrupted_result(tmp_path, uninterrupted, signum, tasks):
    workdir = write_workflow(tmp_path / "cut", tasks=tasks)
    stopped = stop_mid_run(workdir, signum)
    assert stopped.returncode != 0, "the job finished before it was stopped"
    assert not (workdir / RUN / "eval.json").exists()
    saved = checkpoint_steps(workdir)
    assert saved and max(saved) < 600, saved
    if signum == signal.SIGTERM:  # checkpointed where it stopped, not only at the last scheduled step
        assert "(stop signal)" in log_text(workdir) and max(saved) > 150
        assert "stopped by SIGTERM" in stopped.stderr
    # The evaluations before the stop survive Snakemake's clean-up of the failed job's outputs.
    assert history_steps(workdir) == list(range(50, max(saved) + 1, 50))

    rerun = snakemake(workdir)
    assert rerun.returncode == 0, rerun.stderr[-6000:]
    assert f"train s2 from step {max(saved)}" in log_text(workdir)
    assert_same_run(workdir, uninterrupted(tasks))


def test_a_finished_run_called_again_records_the_evaluation_its_training_recorded(tmp_path, monkeypatch):
    """A job that trains to the end records the training loop's own evaluation of the last step; called
    again on the finished run (nothing left to train), it evaluates the latest checkpoint instead. The two
    records agree."""
    workdir = write_workflow(tmp_path, steps=20)
    run = {
        "train_manifest": workdir / "data" / "m2_train" / "manifest.json",
        "valid_manifest": workdir / "data" / "valid" / "manifest.json",
        "run_dir": workdir / RUN,
        "size": "s2",
        "variant": "default",
        "seed": 0,
        "m2": M2Config.from_config({**M2, "steps": 20, "eval_every": 10}),
        "progress": False,
    }
    evaluations = []  # calls of evaluate_run: the checkpoint evaluated again
    evaluate_run = nc.eval.evaluate_run
    monkeypatch.setattr(nc.eval, "evaluate_run", lambda *a, **k: evaluations.append(1) or evaluate_run(*a, **k))
    trained = train_m2(eval_path=tmp_path / "trained.json", **run)
    assert not evaluations  # the loop's own evaluation of step 20 is recorded
    rows = (workdir / RUN / "metrics.csv").read_text().count("\n")
    again = train_m2(eval_path=tmp_path / "again.json", **run)
    assert len(evaluations) == 1 and (workdir / RUN / "metrics.csv").read_text().count("\n") == rows  # no training
    assert trained.keys() == again.keys() and trained["step"] == again["step"] == 20
    for key, value in again.items():
        assert trained[key] == (pytest.approx(value, rel=1e-6) if isinstance(value, float) else value), key
