"""A training step as one process or as several (``jax.distributed``), one per node.

``run_training`` runs ``nc.pipeline.steps.train_m1`` / ``train_m2`` in this process when the job has one
task, and otherwise starts ``tasks`` processes of ``python -m nc.pipeline.launch STEP ARGS.json``:

* inside a SLURM job, as one ``srun`` step over the job's nodes (``--overlap``: the step shares the
  allocation with the job step that runs this process); ``jax.distributed`` reads SLURM's variables;
* elsewhere, as local processes joined through a coordinator on 127.0.0.1 (``NC_COORDINATOR``).

While the processes run, this one passes a stop signal on to them instead of exiting, and waits: each
training process checkpoints before it exits (``nc.train.preemption``). If one process fails the others are
killed, and the error names the exit codes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nc.pipeline import steps
from nc.pipeline.runtime import configure_logging, enable_jax_compile_cache
from nc.sections import M1Config, M2Config
from nc.train.preemption import StopSignals

# The job's log file, for the processes a multi-process job starts (they log beside the job's own lines).
LOG_ENV = "NC_JOB_LOG"

STEPS: dict[str, Callable[..., Any]] = {"train_m1": steps.train_m1, "train_m2": steps.train_m2}
# Config sections among the steps' arguments: written to ARGS.json as mappings, built again when read.
SECTIONS: dict[str, Any] = {"m1": M1Config, "m2": M2Config}


def encode_arguments(kwargs: Mapping[str, Any]) -> str:
    """A step's keyword arguments as JSON (config sections as their mappings)."""
    return json.dumps({k: dataclasses.asdict(v) if k in SECTIONS else v for k, v in kwargs.items()})


def decode_arguments(text: str) -> dict[str, Any]:
    """The keyword arguments ``encode_arguments`` wrote, config sections typed again."""
    kwargs = json.loads(text)
    return {k: SECTIONS[k].from_config(v) if k in SECTIONS else v for k, v in kwargs.items()}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_commands(
    step: str, args_path: Path, *, tasks: int, nodes: int, gpus: int, env: Mapping[str, str]
) -> list[tuple[list[str], dict[str, str]]]:
    """(command, environment) of each process to start: one srun step inside SLURM (each task with its
    share of the job's ``gpus``), else ``tasks`` local ones."""
    worker = [sys.executable, "-m", "nc.pipeline.launch", step, str(args_path)]
    if env.get("SLURM_JOB_ID"):
        srun = [
            "srun",
            "--overlap",
            f"--ntasks={tasks}",
            f"--nodes={nodes}",
            f"--ntasks-per-node={tasks // nodes}",
            "--kill-on-bad-exit=1",
            *([f"--gpus-per-task={gpus // tasks}"] if gpus else []),
        ]
        return [(srun + worker, dict(env))]
    coordinator = f"127.0.0.1:{_free_port()}"
    return [
        (worker, {**env, "NC_COORDINATOR": coordinator, "NC_NUM_PROCESSES": str(tasks), "NC_PROCESS_ID": str(i)})
        for i in range(tasks)
    ]


def _wait_all(procs: list[subprocess.Popen], stop: StopSignals) -> list[int]:
    """Wait for every process; pass a stop signal on once; kill the rest when one fails (without their
    peer they could neither checkpoint nor go on: every checkpoint takes all of them)."""
    forwarded = False
    while True:
        codes = [p.poll() for p in procs]
        finished = [c for c in codes if c is not None]
        if len(finished) == len(codes):
            return finished
        if stop.received is not None and not forwarded:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(stop.received)
            forwarded = True
        if any(c not in (None, 0) for c in codes):
            for p in procs:
                if p.poll() is None:
                    p.kill()
        time.sleep(0.2)


def run_training(
    step: str, kwargs: Mapping[str, Any], *, tasks: int = 1, nodes: int = 1, log_path: str | os.PathLike | None = None
) -> Any:
    """``STEPS[step](**kwargs)`` over ``tasks`` processes (this process alone when ``tasks`` is 1); the
    processes log to ``log_path``."""
    if step not in STEPS:
        raise ValueError(f"unknown training step {step!r}; known: {sorted(STEPS)}")
    if tasks == 1:
        return STEPS[step](**kwargs)
    with tempfile.TemporaryDirectory(prefix="nc-launch-") as tmp:
        args_path = Path(tmp) / "args.json"
        args_path.write_text(encode_arguments(kwargs), encoding="utf-8")
        env = {**os.environ, LOG_ENV: str(log_path)} if log_path else dict(os.environ)
        commands = process_commands(step, args_path, tasks=tasks, nodes=nodes, gpus=int(kwargs.get("gpus", 0)), env=env)
        with StopSignals() as stop:
            procs = [subprocess.Popen(cmd, env=env) for cmd, env in commands]
            codes = _wait_all(procs, stop)
    if any(codes):
        raise RuntimeError(f"{step} over {tasks} processes failed: exit codes {codes}")
    return None


def main(argv: list[str]) -> None:
    """Entry point of one training process: ``python -m nc.pipeline.launch STEP ARGS.json``."""
    if len(argv) != 2:
        raise SystemExit("usage: python -m nc.pipeline.launch STEP ARGS.json")
    step, args_path = argv
    kwargs = decode_arguments(Path(args_path).read_text(encoding="utf-8"))
    if step not in STEPS:
        raise SystemExit(f"unknown training step {step!r}; known: {sorted(STEPS)}")
    STEPS[step](**kwargs)


if __name__ == "__main__":
    configure_logging(os.environ.get(LOG_ENV))
    enable_jax_compile_cache()
    main(sys.argv[1:])
