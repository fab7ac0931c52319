"""Evaluation of finished runs (``evaluate_run``), Appendix D.1's validation samples, trivial baselines."""

from nc.eval.baselines import scored_token_counts, trivial_baselines
from nc.eval.evaluate import evaluate_run, run_record, validation_sample

__all__ = ["evaluate_run", "run_record", "scored_token_counts", "trivial_baselines", "validation_sample"]
