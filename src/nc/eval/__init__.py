"""Evaluation: formulas (``metrics``), checkpoint evaluation, per-position accuracy, trivial baselines."""

from nc.eval.baselines import scored_token_counts, trivial_baselines
from nc.eval.evaluate import evaluate_params, evaluate_run, make_eval_step, per_position_accuracy, validation_sample

__all__ = [
    "evaluate_params",
    "evaluate_run",
    "make_eval_step",
    "per_position_accuracy",
    "scored_token_counts",
    "trivial_baselines",
    "validation_sample",
]
