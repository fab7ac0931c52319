"""Evaluating finished runs: the validation sample a run with a given seed reads (Appendix D.1), and a run
directory's final evaluation with FLOPs/byte and uniform bits/byte (``evaluate_run``). The evaluation
itself is ``nc.train.evaluation`` (the training loop's periodic evaluations use it too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from nc import metrics
from nc.data.dataset import TokenRows
from nc.methods import parse_method
from nc.models.sizes import PAPER_M1_SIZE, model_size
from nc.train.evaluation import evaluate_params, make_eval_step
from nc.train.run import load_trained


def validation_sample(num_valid: int, examples: int, seed: int, *, deterministic_dataset: bool) -> np.ndarray:
    """Which validation examples a run with ``seed`` evaluates on (Appendix D.1), sorted.

    Seed 0 reads the first ``examples``. Bytes and SentencePiece (``deterministic_dataset``: the paper's
    baselines ignore the validation seed) move the start by one sample per seed ("start_step incremented by
    20", i.e. by the evaluation's 20 batches), wrapping round the set; compressed datasets draw a seeded
    sample without replacement (the whole set when it holds no more than ``examples``).
    """
    if num_valid < 1 or examples < 1:
        raise ValueError(f"need validation examples and a positive sample size, got {num_valid}, {examples}")
    take = min(examples, num_valid)
    if seed == 0:
        return np.arange(take)
    if deterministic_dataset:
        return np.sort((seed * examples + np.arange(take)) % num_valid)
    return np.sort(np.random.default_rng([seed, num_valid]).choice(num_valid, take, replace=False))


def evaluate_run(
    run_dir,
    valid: TokenRows,
    *,
    eval_batches: int,
    batch_size: int,
    window_tokens: int | None = None,
    m1_size: str | None = None,
    sharding=None,
) -> dict[str, Any]:
    """Evaluate the latest checkpoint of a ``train_lm`` run on ``valid``: ``run_record`` of its metrics.

    ``sharding``: where the restored parameters are placed (``load_trained``; a multi-process job passes
    its mesh's).
    """
    run = load_trained(run_dir, sharding=sharding)
    if run.config["vocab_size"] != valid.vocab_size:
        raise ValueError(f"run vocab_size {run.config['vocab_size']} != validation vocab_size {valid.vocab_size}")
    result = evaluate_params(
        make_eval_step(run.model),
        run.params,
        valid,
        eval_batches=eval_batches,
        batch_size=batch_size,
        window_tokens=window_tokens,
    )
    return run_record(run.config, run.step, result, valid, m1_size)


def run_record(
    config: Mapping[str, Any], step: int, evaluation: Mapping[str, Any], valid: TokenRows, m1_size: str | None = None
) -> dict[str, Any]:
    """A run's evaluation record: ``evaluation`` (the metrics of ``evaluate_params``) at ``step`` of the run whose
    ``config.json`` is ``config``, plus ``step``, ``size``, ``method``, ``mflops_per_byte`` (2 N_M2 / ratio +
    2 N_M1, nominal sizes), ``uniform_bits_per_byte`` and the parameter counts used. N_M1 counts only for
    methods that run M1 (AC, EqualInfoAC); its size is ``m1_size``, else ``valid.meta['m1_size']``, else the
    paper's 3m.
    """
    method = valid.meta["method"]
    m2_params = model_size(config["size"]).nominal_params
    m1_params = 0.0
    if parse_method(method).uses_m1:
        m1_params = model_size(m1_size or valid.meta.get("m1_size") or PAPER_M1_SIZE).nominal_params
    ratio = valid.compression_ratio
    return {
        **evaluation,
        "step": int(step),
        "size": config["size"],
        "method": method,
        "m2_params": m2_params,
        "m1_params": m1_params,
        "mflops_per_byte": float(metrics.mflops_per_byte(m2_params, ratio, m1_params)),
        "uniform_bits_per_byte": float(metrics.uniform_bits_per_byte(valid.vocab_size, ratio)),
    }
