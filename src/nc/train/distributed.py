"""The processes and devices of a training job: multi-process set-up, device checks, provenance.

A training job is one process (one node) or several processes (``jax.distributed``), one per node or
per task. The process group comes from the environment:

* ``NC_COORDINATOR`` (host:port), ``NC_NUM_PROCESSES`` and ``NC_PROCESS_ID``, set by
  ``nc.pipeline.launch`` for processes it starts itself (on localhost, e.g. in tests);
* SLURM under ``srun`` with more than one task (``SLURM_NTASKS`` > 1 inside a job step), which
  ``jax.distributed.initialize`` reads itself (coordinator: the step's first node).

Nothing is initialised for a single process. On CPU the processes exchange data through gloo.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jaxlib
import numpy as np
from jax.experimental import multihost_utils

log = logging.getLogger(__name__)

ACCELERATOR_BACKENDS = ("gpu", "cuda", "rocm", "tpu")


@dataclass(frozen=True)
class ProcessGroup:
    """One process's place in a multi-process job; ``coordinator`` None: found by JAX (SLURM)."""

    num_processes: int
    process_id: int
    coordinator: str | None = None


def process_group_from_env(env: Mapping[str, str] | None = None) -> ProcessGroup | None:
    """The process group this process belongs to, or None for a single-process job."""
    env = os.environ if env is None else env
    if env.get("NC_COORDINATOR"):
        try:
            group = ProcessGroup(int(env["NC_NUM_PROCESSES"]), int(env["NC_PROCESS_ID"]), env["NC_COORDINATOR"])
        except (KeyError, ValueError) as exc:
            raise ValueError(
                f"NC_COORDINATOR is set: NC_NUM_PROCESSES and NC_PROCESS_ID must be integers ({exc})"
            ) from None
        if not 0 <= group.process_id < group.num_processes:
            raise ValueError(f"NC_PROCESS_ID={group.process_id} is outside 0..{group.num_processes - 1}")
        return group
    tasks = int(env.get("SLURM_NTASKS", "1") or 1)
    if tasks > 1 and env.get("SLURM_STEP_ID") is not None and env.get("SLURM_PROCID") is not None:
        return ProcessGroup(tasks, int(env["SLURM_PROCID"]))
    return None


_initialized: ProcessGroup | None = None


def initialize_processes(env: Mapping[str, str] | None = None) -> ProcessGroup | None:
    """Join this job's process group (once per process); returns it, or None for a single process."""
    global _initialized
    group = process_group_from_env(env)
    if group is None or _initialized is not None:
        return _initialized or group
    # Collectives between CPU processes (tests, CPU clusters); GPUs use NCCL regardless.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if group.coordinator is None:
        jax.distributed.initialize()
    else:
        jax.distributed.initialize(
            coordinator_address=group.coordinator, num_processes=group.num_processes, process_id=group.process_id
        )
    _initialized = group
    log.info("process %d of %d on %s", jax.process_index(), jax.process_count(), socket.gethostname())
    return group


def is_main_process() -> bool:
    """Process 0 writes the run's files (config, logs, eval.json); every process takes part in checkpoints."""
    return jax.process_index() == 0


def any_process(flag: bool) -> bool:
    """True on every process when ``flag`` is true on any: processes agree on when to checkpoint or stop."""
    if jax.process_count() == 1:
        return bool(flag)
    return bool(np.asarray(multihost_utils.process_allgather(np.array([flag], np.int32))).any())


def require_devices(gpus: int) -> None:
    """Fail at once, saying why, when a job that requested ``gpus`` GPUs would run on the CPU.

    JAX falls back to its CPU backend without a word when the installed jaxlib has no GPU support or no
    GPU is visible; a week-long job would then train on the CPU.
    """
    if gpus <= 0:
        return
    backend = jax.default_backend()
    local = jax.local_device_count()
    if backend not in ACCELERATOR_BACKENDS:
        raise RuntimeError(
            f"this job requested {gpus} GPU(s) but JAX {jax.__version__} sees only {backend} devices "
            f"({local} local): install a jaxlib with GPU support (pip install 'jax[cuda12]') and check "
            f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}; or set the rule's gpus to 0 "
            "in the scale's resources to train on the CPU"
        )
    expected = gpus // max(jax.process_count(), 1)
    if local < expected:
        raise RuntimeError(
            f"this job requested {gpus} GPU(s) ({expected} per process) but JAX sees {local} "
            f"{backend} device(s) on {socket.gethostname()}"
        )


def device_provenance() -> dict[str, Any]:
    """What ran where: backend, device kind and counts, process count, jax and jaxlib versions (the compiled
    backend's version can differ from jax's)."""
    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "local_device_count": jax.local_device_count(),
        "process_count": jax.process_count(),
        "jax_version": jax.__version__,
        "jaxlib_version": jaxlib.__version__,
    }
