"""Job set-up: XLA's CPU threads follow the job's CPU count."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from nc.pipeline.runtime import SINGLE_THREAD_XLA_FLAGS, limit_cpu_threads


@pytest.mark.parametrize("threads", [None, 2, 8])
def test_jobs_with_several_cpus_keep_xla_defaults(monkeypatch, threads):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    limit_cpu_threads(threads)
    assert os.environ["XLA_FLAGS"] == "--xla_force_host_platform_device_count=2"


def test_one_cpu_job_runs_xla_on_one_thread_and_keeps_given_flags(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2 intra_op_parallelism_threads=3")
    limit_cpu_threads(1)
    flags = os.environ["XLA_FLAGS"].split()
    assert flags == [
        "--xla_force_host_platform_device_count=2",
        "intra_op_parallelism_threads=3",  # the user's value wins
        "--xla_cpu_multi_thread_eigen=false",
    ]


def test_single_thread_flags_are_accepted_by_xla(monkeypatch):
    """XLA aborts on a flag it does not know: a one-CPU job's backend must start and compute."""
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    limit_cpu_threads(1)
    assert set(SINGLE_THREAD_XLA_FLAGS) <= set(os.environ["XLA_FLAGS"].split())
    code = "import jax.numpy as jnp; print(float((jnp.arange(4.0) @ jnp.arange(4.0))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "14.0"
