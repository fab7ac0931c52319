"""Running the workflow from tests: Snakemake in a scratch working directory, interruptible by timeout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
