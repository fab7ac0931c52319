"""M1 / M2 training (Sections 3.2 and 3.5): Adafactor, rsqrt schedule, z-loss, exact resume.

``train_lm`` trains a ``DecoderLM`` of a given size on a dataset (``nc.data.dataset.TokenRows``: rows are
read on demand, batch by batch) and writes into ``run_dir``:

* ``config.json``  - size, vocabulary, sequence length and the TrainConfig (checked on resume);
* ``checkpoints/`` - orbax train states every ``checkpoint_every`` steps, every ``checkpoint_every_min``
                     minutes, on a stop signal (``nc.train.preemption``) and at the end;
* ``history/metrics.csv`` - step, loss (cross-entropy, nats/token), z_loss, accuracy, learning_rate,
                     tokens (scored), tokens_per_s (input tokens incl. padding), elapsed_s;
* ``history/evals.csv``   - step, loss, accuracy, bits_per_byte, tokens [+ acc_pos_1..k] on ``valid``;
* ``metrics.csv``, ``evals.csv`` - copies of the history, published when the run reaches ``cfg.steps``.

The history is rewritten with every checkpoint and kept beside it, outside the files a workflow declares
as outputs (Snakemake deletes those when a job fails), so a run cut by a time limit keeps its evaluations.
Calling ``train_lm`` again on the same ``run_dir`` resumes from the latest checkpoint; with a larger
``cfg.steps`` it continues the run. Parameters, loss curve and evaluations of a resumed run equal those
of an uninterrupted one bit for bit on CPU (same data order, same state, same compiled step).

In a multi-process job (``nc.train.distributed``) every process runs ``train_lm``: each reads its share of
every batch, all take part in checkpoints, and process 0 alone writes the config and the logs.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np
import optax
from tqdm.auto import tqdm

from nc.data.dataset import TokenRows
from nc.io import read_json, write_json, write_text
from nc.models.sizes import ModelSize
from nc.models.transformer import build_model
from nc.records import POSITION_ACCURACY_PREFIX, EvalPoint, columns
from nc.train.checkpoint import Checkpointer
from nc.train.csv_log import CsvLog
from nc.train.data_order import batch_indices
from nc.train.distributed import any_process, device_provenance, is_main_process
from nc.train.evaluation import evaluate_params, make_eval_step
from nc.train.losses import training_loss
from nc.train.preemption import CheckpointClock, StopSignals, TrainingStopped
from nc.train.schedule import rsqrt_learning_rate
from nc.train.sharding import (
    LAYOUTS,
    check_batch_divisible,
    data_mesh,
    process_rows,
    replicated_sharding,
    shard_batch,
    state_shardings,
)
from nc.train.state import abstract_train_state, init_train_state, make_optimizer, resolve_dtype

log = logging.getLogger(__name__)
HISTORY_DIR = "history"

METRIC_COLUMNS = ["step", "loss", "z_loss", "accuracy", "learning_rate", "tokens", "tokens_per_s", "elapsed_s"]
EVAL_COLUMNS = list(columns(EvalPoint))  # a run's evals.csv (nc.records: collect_summaries reads it back)
# Config keys that may change between a run and its resumption (they do not alter the trajectory).
RESUMABLE_KEYS = {
    "steps",
    "eval_every",
    "eval_steps",
    "eval_batches",
    "eval_batch_size",
    "checkpoint_every",
    "checkpoint_every_min",
    "log_every",
    "keep_checkpoints",
}


@dataclass(frozen=True)
class TrainConfig:
    """Training hyperparameters. Paper values: lr_constant 1.0, warmup 10,000, z-loss 1e-4, batch 256
    (M1: 128), 200,000 steps (M1: 2.5M), 20 evaluation batches.

    eval_every: evaluate every this many steps (0: only at the end); eval_steps: extra steps to
    evaluate at (Table 13 reads earlier steps of the same run). The last step is always evaluated
    and checkpointed; checkpoint_every_min > 0 also checkpoints after that many minutes of wall time.
    dtype: 'auto' (bfloat16 on GPU/TPU, float32 on CPU), 'float32' or 'bfloat16'. layout: where the
    train state lives ('replicated' or 'fsdp', ``nc.train.sharding``); remat: recompute activations
    in the backward pass.
    """

    steps: int
    batch_size: int
    lr_constant: float = 1.0
    warmup_steps: int = 10_000
    z_loss: float = 1e-4
    eval_every: int = 0
    eval_steps: tuple[int, ...] = ()
    eval_batches: int = 20
    eval_batch_size: int | None = None
    checkpoint_every: int = 1000
    checkpoint_every_min: float = 0.0
    log_every: int = 10
    keep_checkpoints: int = 2
    seed: int = 0
    dtype: str = "auto"
    remat: bool = False
    layout: str = "replicated"

    def __post_init__(self) -> None:
        object.__setattr__(self, "eval_steps", tuple(int(s) for s in self.eval_steps))
        positive = (
            "steps",
            "batch_size",
            "warmup_steps",
            "eval_batches",
            "checkpoint_every",
            "log_every",
            "keep_checkpoints",
        )
        for key in positive:
            if int(getattr(self, key)) < 1:
                raise ValueError(f"TrainConfig.{key} must be >= 1, got {getattr(self, key)!r}")
        for key in ("eval_every", "z_loss", "lr_constant", "checkpoint_every_min"):
            if getattr(self, key) < 0:
                raise ValueError(f"TrainConfig.{key} must be >= 0, got {getattr(self, key)!r}")
        if self.eval_batch_size is not None and self.eval_batch_size < 1:
            raise ValueError(f"TrainConfig.eval_batch_size must be >= 1, got {self.eval_batch_size!r}")
        bad = [s for s in self.eval_steps if s < 1]
        if bad:
            raise ValueError(f"TrainConfig.eval_steps must be >= 1, got {bad}")
        resolve_dtype(self.dtype)
        if self.layout not in LAYOUTS:
            raise ValueError(f"TrainConfig.layout must be one of {LAYOUTS}, got {self.layout!r}")

    def is_eval_step(self, step: int) -> bool:
        return step == self.steps or step in self.eval_steps or bool(self.eval_every and step % self.eval_every == 0)

    def is_checkpoint_step(self, step: int) -> bool:
        return step == self.steps or step % self.checkpoint_every == 0

    def is_log_step(self, step: int) -> bool:
        return step == self.steps or step % self.log_every == 0


def run_config(size: ModelSize, train: TokenRows, cfg: TrainConfig) -> dict[str, Any]:
    """What ``config.json`` records: enough to rebuild the model (``nc.models.m1``, ``evaluate_run``)."""
    return {
        "size": size.name,
        "vocab_size": train.vocab_size,
        "seq_len": train.seq_len,
        "method": train.meta.get("method"),
        "train": dataclasses.asdict(cfg),
    }


def _check_resumable(old: dict, new: dict, path: Path) -> None:
    for key in ("size", "vocab_size", "seq_len", "method"):
        if old.get(key) != new[key]:
            raise ValueError(f"{path}: existing run has {key}={old.get(key)!r}, new config has {new[key]!r}")
    for key, value in new["train"].items():
        if key not in RESUMABLE_KEYS and old["train"].get(key) != value:
            raise ValueError(
                f"{path}: existing run has train.{key}={old['train'].get(key)!r}, new config has {value!r}"
            )


@functools.lru_cache(maxsize=16)
def training_programs(model, lr_constant: float, warmup_steps: int, z_loss: float, layout: str, devices: tuple):
    """(optimizer, state shardings, jitted train step, jitted init(seed)) of a model and its optimizer on
    the process's mesh (``devices``: the ids the mesh spans, part of the cache key).

    Built once per process and setting: runs trained one after another in one process (a job of several
    M2 runs) reuse the traced and compiled programs instead of paying for them again.
    """
    mesh = data_mesh()
    optimizer = make_optimizer(lr_constant, warmup_steps)
    shardings = state_shardings(abstract_train_state(model, optimizer), mesh, layout)
    train_step = make_train_step(model, optimizer, z_loss, shardings, replicated_sharding(mesh))
    init = jax.jit(lambda seed: init_train_state(model, optimizer, seed), out_shardings=shardings)
    return optimizer, shardings, train_step, init


def make_train_step(model, optimizer: optax.GradientTransformation, z_loss: float, state_sharding, stats_sharding):
    """jit(state, tokens, mask) -> (new state, metrics); state laid out by ``state_sharding`` (a sharding or a
    pytree of them), batch sharded on 'data', metrics on ``stats_sharding``."""

    def step_fn(state, tokens, mask):
        def objective(params):
            hidden = model.apply({"params": params}, tokens, project=False)
            return training_loss(hidden, params["output_proj"]["kernel"], tokens, mask, z_loss)

        (_, stats), grads = jax.value_and_grad(objective, has_aux=True)(state["params"])
        updates, opt_state = optimizer.update(grads, state["opt_state"], state["params"])
        params = optax.apply_updates(state["params"], updates)
        return {"params": params, "opt_state": opt_state, "step": state["step"] + 1}, stats

    return jax.jit(step_fn, out_shardings=(state_sharding, stats_sharding), donate_argnums=0)


def _publish_history(run_dir: Path) -> None:
    """Copy the finished run's history to ``run_dir/{metrics,evals}.csv`` (the files a workflow declares)."""
    for name in ("metrics.csv", "evals.csv"):
        source = run_dir / HISTORY_DIR / name
        if source.exists():
            write_text(run_dir / name, source.read_text(encoding="utf-8"))


def train_lm(
    train: TokenRows,
    valid: TokenRows | None,
    size: ModelSize,
    cfg: TrainConfig,
    run_dir: str | Path,
    *,
    window_tokens: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train (or resume) a run; returns {'step', 'loss', 'run_dir', 'eval': last evaluation or None}.

    Raises ``TrainingStopped`` after checkpointing when a stop signal arrives (``nc.train.preemption``).
    """
    run_dir = Path(run_dir)
    if len(train) == 0:
        raise ValueError("the training dataset is empty")
    if valid is not None and valid.vocab_size != train.vocab_size:
        raise ValueError(f"valid vocab_size {valid.vocab_size} != train vocab_size {train.vocab_size}")
    mesh = data_mesh()
    check_batch_divisible(cfg.batch_size, mesh)
    eval_batch_size = cfg.eval_batch_size or cfg.batch_size
    check_batch_divisible(eval_batch_size, mesh, "eval_batch_size")

    config = run_config(size, train, cfg)
    if (run_dir / "config.json").exists():
        _check_resumable(read_json(run_dir / "config.json"), config, run_dir)
    main = is_main_process()
    if main:
        write_json(run_dir / "config.json", config)

    model = build_model(size, train.vocab_size, resolve_dtype(cfg.dtype), remat=cfg.remat)
    devices = tuple(int(d.id) for d in mesh.devices.flat)
    optimizer, shardings, train_step, init = training_programs(
        model, cfg.lr_constant, cfg.warmup_steps, cfg.z_loss, cfg.layout, devices
    )
    eval_step = make_eval_step(model)
    metrics_log = CsvLog(run_dir / HISTORY_DIR / "metrics.csv", METRIC_COLUMNS)
    eval_columns = EVAL_COLUMNS + [f"{POSITION_ACCURACY_PREFIX}{i + 1}" for i in range(window_tokens or 0)]
    evals_log = CsvLog(run_dir / HISTORY_DIR / "evals.csv", eval_columns)

    with Checkpointer(run_dir / "checkpoints", cfg.keep_checkpoints) as ckpt, StopSignals() as stop:
        start = ckpt.latest_step() or 0
        if start:
            state = ckpt.restore(start, abstract_train_state(model, optimizer, shardings))
        else:
            state = init(np.int32(cfg.seed))
        metrics_log.resume(start)
        evals_log.resume(start)
        log.info(
            "train %s from step %d to %d: %s, layout %s, remat %s",
            size.name,
            start,
            cfg.steps,
            device_provenance(),
            cfg.layout,
            cfg.remat,
        )
        clock = CheckpointClock(cfg.checkpoint_every_min)
        last_eval = None
        bar = tqdm(
            range(start + 1, cfg.steps + 1),
            initial=start,
            total=cfg.steps,
            disable=not (progress and main),
            desc=f"train {size.name}",
            unit="step",
        )
        interval_start, interval_steps, run_start = time.perf_counter(), 0, time.perf_counter()
        for step in bar:
            rows = process_rows(batch_indices(step, cfg.batch_size, len(train), cfg.seed))
            part = train.rows(rows)
            tokens, mask = shard_batch(mesh, part.tokens.astype(np.int32), part.loss_mask())
            state, stats = train_step(state, tokens, mask)
            interval_steps += 1
            if cfg.is_log_step(step):
                host = {k: float(v) for k, v in jax.device_get(stats).items()}
                now = time.perf_counter()
                tokens_per_s = interval_steps * cfg.batch_size * train.seq_len / max(now - interval_start, 1e-9)
                metrics_log.append(
                    {
                        "step": step,
                        **host,
                        "tokens": int(host["tokens"]),
                        "learning_rate": float(rsqrt_learning_rate(step, cfg.lr_constant, cfg.warmup_steps)),
                        "tokens_per_s": tokens_per_s,
                        "elapsed_s": now - run_start,
                    }
                )
                bar.set_postfix(loss=f"{host['loss']:.4f}")
                interval_start, interval_steps = time.perf_counter(), 0
            if valid is not None and cfg.is_eval_step(step):
                last_eval = evaluate_params(
                    eval_step,
                    state["params"],
                    valid,
                    eval_batches=cfg.eval_batches,
                    batch_size=eval_batch_size,
                    window_tokens=window_tokens,
                    mesh=mesh,
                )
                evals_log.append({"step": step, **last_eval})
                interval_start = time.perf_counter()  # evaluation time is not training throughput
            # Every process takes the same decision: checkpoints are collective.
            urgent = any_process(stop.received is not None or clock.due())
            if cfg.is_checkpoint_step(step) or urgent:
                stopping = urgent and any_process(stop.received is not None)
                if main:
                    metrics_log.flush()
                    evals_log.flush()
                ckpt.save(step, state)
                clock.reset()
                log.info(
                    "checkpoint at step %d (%s)",
                    step,
                    "stop signal" if stopping else "schedule" if cfg.is_checkpoint_step(step) else "clock",
                )
                if stopping:
                    bar.close()
                    raise TrainingStopped(step, stop.received or signal.SIGTERM)
        bar.close()
        final_step = int(jax.device_get(state["step"]))
    if main and final_step >= cfg.steps:
        _publish_history(run_dir)
    final_loss = float(metrics_log.rows[-1]["loss"]) if metrics_log.rows else float("nan")
    return {"step": final_step, "loss": final_loss, "run_dir": str(run_dir), "eval": last_eval}
