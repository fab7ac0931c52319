"""Context-length planning of the encoder (nc.coding.engine): the calibrated ladder and its escalation."""

import itertools

import numpy as np
import pytest

from nc.coding import (
    ContextPlan,
    decode_examples,
    encode_example_chunks,
    encode_examples,
    make_encoder,
    plan_context_lengths,
)
from nc.coding.engine import escalation_ladder, plan_extension_ladder
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


def extension_cost(needed, rungs, call_positions):
    """A context extended rung by rung: the last rung it reaches plus ``call_positions`` per call."""
    costs = []
    for n in needed:
        reached = next(k for k, r in enumerate(rungs) if r >= n)
        costs.append(rungs[reached] + call_positions * (reached + 1))
    return np.mean(costs)


@pytest.mark.parametrize("call_positions", [0.0, 1.0, 3.0])
def test_extension_ladder_is_the_cheapest_of_at_most_max_rungs(call_positions):
    rng = np.random.default_rng(1)
    top = 14
    for _ in range(20):
        needed = rng.integers(1, top + 1, size=int(rng.integers(1, 25)))
        plan = plan_extension_ladder(needed, top, call_positions, max_rungs=4)
        assert plan[-1] == top and list(plan) == sorted(set(plan)) and len(plan) <= 4
        every = [c + (top,) for k in range(4) for c in itertools.combinations(range(1, top), k)]
        best = min(extension_cost(needed, ladder, call_positions) for ladder in every)
        assert extension_cost(needed, plan, call_positions) == pytest.approx(best)


def test_window_contexts_start_from_a_shared_first_position(english, bigram):
    """Auto plans give window contexts a first rung of one position: its row is computed once, not per window."""
    method = parse_method("EqualInfoAC[b=16;v=256]")
    logged = LengthLog(bigram)
    encoder = make_encoder(method, logged, max_tokens=64, batch_size=4, plan=ContextPlan("auto"))
    examples = [english[i * 500 : i * 500 + 400] for i in range(12)]
    encode_examples(examples, method, logged, max_tokens=64, encoder=encoder)
    ladder = encoder.window_ladder()
    assert ladder[0] == 1 and ladder[-1] == 32
    assert logged.lengths.count(1) == 1  # one call for the shared first position, none per context


@pytest.mark.parametrize("label", ["EqualInfoAC[b=16;v=256]", "EqualInfoAC[b=16;v=256;reset=2]", "AC[v=256]"])
def test_a_stream_of_chunks_codes_as_one_batch(label, english, bigram):
    """encode_example_chunks yields each chunk's results in order; window contexts code the chunks as one
    stream (examples of the next chunk join before the last ones finish), which changes no token."""
    method = parse_method(label)
    examples = [english[i * 331 : i * 331 + 150 + (i * 53) % 500] for i in range(40)] + [b"", b"x"]
    whole = encode_examples(examples, method, bigram, max_tokens=48)
    encoder = make_encoder(method, bigram, max_tokens=48, batch_size=4, plan=ContextPlan("auto", length_step=16))
    chunks = [examples[:7], [], examples[7:30], examples[30:]]
    done = []
    got = list(encode_example_chunks(chunks, method, bigram, max_tokens=48, encoder=encoder, on_done=done.append))
    assert [len(c) for c in got] == [len(c) for c in chunks] and sum(done) == len(examples)
    flat = [e for chunk in got for e in chunk]
    for w, g in zip(whole, flat):
        np.testing.assert_array_equal(w.tokens, g.tokens)
        assert w.num_bytes == g.num_bytes
    assert decode_examples(flat, method, bigram, batch_size=6) == [x[: g.num_bytes] for x, g in zip(examples, flat)]
