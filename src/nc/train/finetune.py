"""Fine-tuning a pre-trained M2 on a new task (Appendix A.3's spelling): the schedule and optimizer
state continue from the pre-trained checkpoint ("we continue the same learning rate schedule").

Single-process and without checkpoints: a fine-tune is a few hundred steps, rerun whole if cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from nc.data.dataset import TokenRows
from nc.train.data_order import batch_indices
from nc.train.evaluation import exact_match_accuracy, make_exact_match_step
from nc.train.loop import make_train_step
from nc.train.run import load_train_state
from nc.train.sharding import data_mesh, replicated_sharding, shard_batch


def finetune_lm(
    pretrained_dir: str | Path,
    train: TokenRows,
    evaluations: Mapping[str, TokenRows],
    *,
    steps: int,
    batch_size: int,
    eval_every: int,
    seed: int = 0,
    progress: bool = True,
) -> list[dict]:
    """Train ``pretrained_dir``'s latest state ``steps`` more steps on ``train`` (rows in the seeded
    order of ``batch_indices``) and return the curve: one row ``{step, <name>_accuracy...}`` at fine-tune
    step 0 and every ``eval_every`` steps (and the last), ``<name>`` over ``evaluations``."""
    if steps < 1 or batch_size < 1 or eval_every < 1:
        raise ValueError(f"steps ({steps}), batch_size ({batch_size}) and eval_every ({eval_every}) must be >= 1")
    mesh = data_mesh()
    replicated = replicated_sharding(mesh)
    run = load_train_state(pretrained_dir, sharding=replicated)
    if train.vocab_size != run.config["vocab_size"]:
        raise ValueError(f"task vocab_size {train.vocab_size} != the pre-trained model's {run.config['vocab_size']}")
    train_step = make_train_step(run.model, run.optimizer, run.config["train"]["z_loss"], replicated, replicated)
    exact = make_exact_match_step(run.model)
    state = run.state

    def measure(step: int) -> dict:
        return {
            "step": step,
            **{
                f"{name}_accuracy": exact_match_accuracy(exact, state["params"], data, batch_size)
                for name, data in evaluations.items()
            },
        }

    curve = [measure(0)]
    for step in tqdm(range(1, steps + 1), disable=not progress, desc="fine-tune", unit="step"):
        part = train.rows(batch_indices(step, batch_size, len(train), seed))
        tokens, mask = shard_batch(mesh, part.tokens.astype(np.int32), part.loss_mask())
        state, _ = train_step(state, tokens, mask)
        if step % eval_every == 0 or step == steps:
            curve.append(measure(step))
    return curve
