"""Reading a finished (or in-progress) run directory back: its config and latest parameters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax

from nc.io import read_json
from nc.models.m1 import DEFAULT_CHUNK_ROWS, M1Source
from nc.models.sizes import model_size
from nc.models.transformer import DecoderLM, build_model
from nc.sections import CodingConfig
from nc.train.checkpoint import Checkpointer
from nc.train.state import abstract_train_state, make_optimizer, resolve_dtype


@dataclass
class TrainedRun:
    model: DecoderLM
    params: Any
    config: dict
    step: int


@dataclass
class TrainState:
    """A run's latest train state (params, optimizer state, step) with what rebuilds it."""

    model: DecoderLM
    optimizer: Any
    state: Any
    config: dict
    step: int


def load_train_state(run_dir: str | Path, dtype: str | None = None, sharding=None) -> TrainState:
    """The model, optimizer and latest checkpointed train state of ``run_dir`` (written by ``train_lm``).

    ``dtype`` overrides the compute dtype the run trained with (M1 inference always uses float32);
    ``sharding`` places every restored array (a multi-process job restores onto its global mesh); by
    default they go to this process's first device, whatever layout and processes the run trained with.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").exists():
        raise FileNotFoundError(f"{run_dir} is not a training run: no config.json")
    config = read_json(run_dir / "config.json")
    train_cfg = config["train"]
    model = build_model(model_size(config["size"]), config["vocab_size"], resolve_dtype(dtype or train_cfg["dtype"]))
    optimizer = make_optimizer(train_cfg["lr_constant"], train_cfg["warmup_steps"])
    if sharding is None:
        sharding = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    with Checkpointer(run_dir / "checkpoints", train_cfg.get("keep_checkpoints", 2)) as ckpt:
        step = ckpt.latest_step()
        if step is None:
            raise FileNotFoundError(f"{run_dir / 'checkpoints'} holds no checkpoint")
        state = ckpt.restore(step, abstract_train_state(model, optimizer, sharding))
    return TrainState(model=model, optimizer=optimizer, state=state, config=config, step=int(step))


def load_trained(run_dir: str | Path, dtype: str | None = None, sharding=None) -> TrainedRun:
    """The model and the latest checkpointed parameters of ``run_dir`` (``load_train_state`` without the
    optimizer state)."""
    run = load_train_state(run_dir, dtype, sharding)
    return TrainedRun(model=run.model, params=run.state["params"], config=run.config, step=run.step)


def load_probability_source(
    run_dir: str | Path,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    call_memory_mb: float | None = None,
    max_rows: int | None = None,
) -> M1Source:
    """M1 from a ``train_lm`` run directory (latest checkpoint), evaluated in float32.

    Encoder and decoder must load it with the same row settings on the same kind of device.
    """
    run = load_trained(run_dir, dtype="float32")
    return M1Source(run.model, run.params, chunk_rows, call_memory_mb=call_memory_mb, max_rows=max_rows)


def load_coding_source(run_dir: str | Path, coding: CodingConfig) -> M1Source:
    """M1 from a run directory with the rows per call that ``coding`` sets: what the compression jobs use,
    so anything that codes text again gets their tokens."""
    return load_probability_source(run_dir, call_memory_mb=coding.m1_call_mb, max_rows=coding.m1_max_rows)
