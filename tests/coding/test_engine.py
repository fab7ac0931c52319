"""Context-length planning of the encoder (nc.coding.engine): the calibrated ladder and its escalation."""

import itertools

import numpy as np
import pytest

from nc.coding import ContextPlan, encode_examples, make_encoder, plan_context_lengths
from nc.coding.engine import escalation_ladder
from nc.methods import parse_method


def mean_cost(needed, rungs):
    """Positions a sample computes climbing ``rungs`` until one reaches what it needs (each rung recomputes)."""
    return np.mean([sum(r for r in rungs if r < n) + next(r for r in rungs if r >= n) for n in needed])


def test_plan_is_the_cheapest_ladder_of_at_most_three_rungs():
    rng = np.random.default_rng(0)
    candidates = list(range(64, 1025, 64))
    for _ in range(20):
        needed = rng.integers(1, 1025, size=int(rng.integers(1, 30)))
        plan = plan_context_lengths(needed, candidates)
        assert plan[-1] == 1024 and list(plan) == sorted(set(plan)) and len(plan) <= 3
        every = [c + (1024,) for k in range(3) for c in itertools.combinations(candidates[:-1], k)]
        assert mean_cost(needed, plan) == pytest.approx(min(mean_cost(needed, ladder) for ladder in every))


def test_plan_rejects_a_sample_longer_than_the_largest_length():
    with pytest.raises(ValueError, match="needs 2000 positions, more than the largest length 1024"):
        plan_context_lengths(np.array([10, 2000]), [512, 1024])


@pytest.mark.parametrize(
    "rungs, length, top, expected",
    [
        ((), 900, 1024, (1024,)),  # no plan: the whole context
        ((1024,), 900, 1024, (1024,)),  # rungs at or above the length are dropped
        ((256, 1024), 1100, 1280, (256, 1024, 1280)),  # 2 x 1024 is past the length: its top next
        ((256, 1024), 3000, 3072, (256, 1024, 2048, 3072)),  # doubling from the last planned rung
        ((1024,), 10_240, 10_240, (1024, 2048, 4096, 8192, 10_240)),
        ((1024,), 2048, 2048, (1024, 2048)),
    ],
)
def test_escalation_doubles_beyond_the_planned_rungs(rungs, length, top, expected):
    assert escalation_ladder(rungs, length, top) == expected


class LengthLog:
    """A source that records the context length of every call it serves."""

    def __init__(self, source):
        self.source, self.lengths = source, []

    def probs(self, segments):
        self.lengths.append(segments.shape[1])
        return self.source.probs(segments)


def test_an_example_past_the_ladder_is_not_recomputed_from_its_whole_context(english, bigram):
    """40 AC tokens keep ~100 bytes: a 2,000-byte example climbs 32, 64, 128 and stops, never T = 2,000."""
    method = parse_method("AC[v=256]")
    examples = [english[:2000], english[5000:7000]]
    whole = encode_examples(examples, method, bigram, max_tokens=40)
    logged = LengthLog(bigram)
    encoder = make_encoder(method, logged, max_tokens=40, plan=ContextPlan("fixed", rungs=(32,), length_step=16))
    got = encode_examples(examples, method, logged, max_tokens=40, encoder=encoder)
    assert [g.tokens.tolist() for g in got] == [w.tokens.tolist() for w in whole]
    assert max(logged.lengths) <= 256 and {32, 64} <= set(logged.lengths), logged.lengths
    assert encoder.stats.escalations >= 2 * 2
