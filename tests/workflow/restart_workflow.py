"""A one-rule workflow around the project's own train_m2 script, for stopping training jobs mid-run.

The rule declares what the project's ``train_m2`` rule declares (eval.json and evals.csv in the run
directory, a log) and runs ``workflow/scripts/train_m2.py`` on a small Bytes dataset written here, long
enough (a few seconds of steps) to be stopped part-way. ``interrupted_then_rerun`` and
``assert_same_run`` are shared by the local test and the SLURM one.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
import psutil

from nc.data.dataset import TokenDataset, TokenDatasetWriter, write_token_manifest
from nc.train.run import load_trained

REPO = Path(__file__).resolve().parents[2]
RUN = "run/m2/bytes/s2/default/seed0"

SNAKEFILE = """
import os

from nc.sections import M2Config

M2 = M2Config.from_config({m2!r})
PROCESSES = {processes!r}

rule train_m2:
    input: train="data/m2_train/manifest.json", valid="data/valid/manifest.json"
    output: eval="run/m2/bytes/{{size}}/{{variant}}/seed{{seed}}/eval.json",
            evals="run/m2/bytes/{{size}}/{{variant}}/seed{{seed}}/evals.csv"
    params: m2=M2, processes=PROCESSES, run_dir=lambda wildcards, output: os.path.dirname(output.eval)
    resources: mem_mb=2000, runtime=20, cpus_per_task=1
    log: "logs/{{size}}/{{variant}}/seed{{seed}}.log"
    script: "{script}"
"""
TARGET = f"{RUN}/eval.json"

M2: dict[str, Any] = {
    "seq_len": 64,
    "steps": 600,
    "batch_size": 8,
    "learning_rate": 1.0,
    "warmup_steps": 10,
    "z_loss": 1e-4,
    "eval_batches": 2,
    "eval_every": 50,
    "checkpoint_every_min": 0.0,
    "parallelism": {"default": {"layout": "replicated", "remat": False}},
    "sizes": ["s2"],
    "studies": {},
    "runs_per_job": 1,
}


def toy_split(path: Path, n: int, seed: int, seq_len: int = 64, vocab: int = 256) -> Path:
    """A Bytes-like token split with learnable structure (odd positions repeat their predecessor)."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, vocab, (n, seq_len)).astype(np.uint8)
    tokens[:, 1::2] = tokens[:, ::2]
    num_tokens = np.full(n, seq_len, np.int32)
    block = TokenDataset(
        tokens, num_tokens, num_tokens.astype(np.int64), {"method": "Bytes", "vocab_size": vocab, "seq_len": seq_len}
    )
    with TokenDatasetWriter(
        path / "shards" / "0-of-1", n, seq_len=seq_len, vocab_size=vocab, meta={"method": "Bytes"}
    ) as writer:
        writer.write(0, block)
    write_token_manifest([path / "shards" / "0-of-1"], path / "manifest.json")
    return path


def write_workflow(workdir: Path, tasks: int = 1, steps: int = M2["steps"]) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    toy_split(workdir / "data" / "m2_train", 256, seed=0)
    toy_split(workdir / "data" / "valid", 16, seed=1)
    m2 = {**M2, "steps": steps}
    text = SNAKEFILE.format(
        m2=m2, processes={"gpus": 0, "tasks": tasks, "nodes": 1}, script=REPO / "workflow" / "scripts" / "train_m2.py"
    )
    (workdir / "Snakefile").write_text(text)
    return workdir


def checkpoint_steps(workdir: Path) -> list[int]:
    directory = workdir / RUN / "checkpoints"
    return sorted(int(p.name) for p in directory.iterdir() if p.name.isdigit()) if directory.is_dir() else []


def history_steps(workdir: Path) -> list[int]:
    path = workdir / RUN / "history" / "evals.csv"
    with open(path, newline="") as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


def training_processes(root: psutil.Process) -> list[psutil.Process]:
    """The processes below ``root`` that run the train_m2 script or its launched workers."""
    found = []
    for child in root.children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "python" in cmd and ("train_m2.py" in cmd or "nc.pipeline.launch" in cmd):
            found.append(child)
    return found


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.1)


def read_run(workdir: Path) -> tuple[dict, list[dict]]:
    result = json.loads((workdir / RUN / "eval.json").read_text())
    with open(workdir / RUN / "evals.csv", newline="") as f:
        return result, list(csv.DictReader(f))


def assert_same_run(cut: Path, full: Path) -> None:
    """Same eval.json, eval history, loss curve and final parameters as the uninterrupted run, bit for bit."""
    assert read_run(cut) == read_run(full)
    with open(cut / RUN / "metrics.csv", newline="") as a, open(full / RUN / "metrics.csv", newline="") as b:
        assert [(r["step"], r["loss"]) for r in csv.DictReader(a)] == [
            (r["step"], r["loss"]) for r in csv.DictReader(b)
        ]
    cut_params, full_params = load_trained(cut / RUN).params, load_trained(full / RUN).params
    for x, y in zip(jax.tree_util.tree_leaves(cut_params), jax.tree_util.tree_leaves(full_params), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
