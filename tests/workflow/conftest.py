"""Running the workflow from tests: Snakemake in a scratch working directory, interruptible by timeout;
the session's private SLURM cluster, and the session's one run of the whole smoke DAG."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    from .slurm_cluster import SlurmCluster, ensure_installed, unavailable_reason
    from .slurm_runs import SMOKE_ARGS, copy_workflow
    from .slurm_runs import run_snakemake as run_snakemake_in_slurm
except ImportError:  # tests/workflow is not a package: imported from its own directory
    from slurm_cluster import SlurmCluster, ensure_installed, unavailable_reason  # type: ignore[no-redef]
    from slurm_runs import SMOKE_ARGS, copy_workflow  # type: ignore[no-redef]
    from slurm_runs import run_snakemake as run_snakemake_in_slurm  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def run_snakemake(workdir: Path, *args: str, timeout: int = 600, check: bool = True) -> subprocess.CompletedProcess:
    """``snakemake -s <repo>/Snakefile --directory workdir args``; SIGINT on timeout (it ignores SIGTERM)."""
    command = [
        "timeout",
        "-s",
        "INT",
        str(timeout),
        str(SNAKEMAKE),
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
            f"{result.stderr[-8000:]}"
        )
    return result


@pytest.fixture(scope="session")
def snakemake_run():
    return run_snakemake


@pytest.fixture(scope="session")
def slurm_cluster():
    """A private single-node cluster for the session (tests using it share the xdist group "slurm");
    daemons stopped by PID when the session ends. Skips where SLURM cannot run and cannot be installed."""
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


@dataclass(frozen=True)
class SmokeRun:
    """The whole smoke DAG, run once per session in `workdir` (a copy of the repository): through the
    `slurm` profile on `cluster` where SLURM runs here (`result`: that snakemake's process), else locally."""

    workdir: Path
    cluster: SlurmCluster | None
    result: subprocess.CompletedProcess


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, request) -> SmokeRun:
    """One smoke DAG for the session: the SLURM test checks how it ran, test_smoke.py what it built (both in
    the xdist group "slurm"). Running it twice, locally and through SLURM, doubled the suite's longest job."""
    workdir = tmp_path_factory.mktemp("smoke") / "nc"
    copy_workflow(workdir)
    try:
        cluster = request.getfixturevalue("slurm_cluster")
    except pytest.skip.Exception:
        cluster = None
    if cluster is None:
        result = run_snakemake(workdir, "--cores", "2", "--config", "scale=smoke", timeout=3600)
    else:
        result = run_snakemake_in_slurm(cluster, workdir, SMOKE_ARGS, timeout_s=2700)
        assert result.returncode == 0, (
            f"smoke DAG through SLURM exited {result.returncode}\n{result.stdout[-4000:]}\n"
            f"{result.stderr[-8000:]}\n{cluster.logs()}"
        )
    return SmokeRun(workdir, cluster, result)
