import numpy as np
import pytest

from nc import metrics
from nc.data.dataset import TokenDataset
from nc.eval import evaluate_run, scored_token_counts, trivial_baselines, validation_sample
from nc.models.sizes import model_size
from nc.train import TrainConfig, train_lm
from nc.train.evaluation import POSITION_SUMS, loss_standard_error, per_position_accuracy


def dataset(n, method="EqualInfoAC[b=16;v=256]", seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 8, (n, 12)).astype(np.uint8)
    num_tokens = np.full(n, 12, np.int32)
    num_tokens[0] = 7
    tokens[0, 7:] = 0
    return TokenDataset(
        tokens,
        num_tokens,
        num_tokens.astype(np.int64) * 3,
        {"method": method, "vocab_size": 256, "seq_len": 12, "m1_size": "t0"},
    )


def test_per_position_accuracy_groups_positions_mod_k():
    correct = np.array([1, 0, 1, 1, 0, 0], float)
    count = np.array([1, 1, 1, 1, 1, 0], float)
    acc = per_position_accuracy(correct, count, 2)
    assert acc == {"acc_pos_1": pytest.approx(2 / 3), "acc_pos_2": pytest.approx(1 / 2)}


def test_trivial_baselines_count_only_scored_tokens():
    train, valid = dataset(400), dataset(4, seed=1)
    counts = scored_token_counts(valid)
    assert counts.sum() == valid.loss_mask().sum() and counts.shape == (256,)
    out = trivial_baselines(train, valid)
    assert out["uniform_bits_per_byte"] == pytest.approx(8 / 3)
    # tokens use 8 of 256 ids: the unigram is far better than uniform
    assert out["unigram_bits_per_byte"] < out["uniform_bits_per_byte"] / 2


def test_evaluate_run_matches_training_eval_and_reports_flops(tmp_path):
    train, valid = dataset(16), dataset(8, seed=1)
    cfg = TrainConfig(steps=2, batch_size=4, warmup_steps=2, eval_batches=2, dtype="float32")
    out = train_lm(train, valid, model_size("s1"), cfg, tmp_path, window_tokens=2, progress=False)
    result = evaluate_run(tmp_path, valid, eval_batches=2, batch_size=4, window_tokens=2)
    assert result["loss"] == pytest.approx(out["eval"]["loss"], rel=1e-6)
    assert result["tokens"] == int(valid.loss_mask().sum())
    assert result["bits_per_byte"] == pytest.approx(result["loss"] / (3 * np.log(2)))
    m2, m1 = model_size("s1").nominal_params, model_size("t0").nominal_params
    assert result["mflops_per_byte"] == pytest.approx((2 * m2 / 3 + 2 * m1) / 1e6)
    assert result["step"] == 2 and set(result) >= {"acc_pos_1", "acc_pos_2", "uniform_bits_per_byte"}
    # one batch only reads the first 4 examples
    assert evaluate_run(tmp_path, valid, eval_batches=1, batch_size=4)["tokens"] == int(valid.loss_mask()[:4].sum())


def test_bits_per_byte_formula():
    assert float(metrics.bits_per_byte(np.log(2) * 8, 2.0)) == pytest.approx(4.0)


def test_loss_standard_error_is_that_of_the_per_example_ratio_estimator():

    rng = np.random.default_rng(0)
    losses = rng.exponential(2.0, (6, 5))
    counts = np.ones((6, 5))
    counts[0, 3:] = 0  # a short example
    row_loss, row_count = (losses * counts).sum(1), counts.sum(1)
    loss = row_loss.sum() / row_count.sum()
    totals = {k: np.zeros(5) for k in POSITION_SUMS}
    totals.update(
        loss=(losses * counts).sum(0),
        count=counts.sum(0),
        loss_sq=(row_loss**2).sum(),
        loss_count=(row_loss * row_count).sum(),
        count_sq=(row_count**2).sum(),
        examples=6.0,
    )
    resid = row_loss - loss * row_count
    direct = np.sqrt((resid**2).sum() / (6 * 5)) / row_count.mean()
    assert loss_standard_error(totals, loss) == pytest.approx(direct)
    totals["examples"] = 1.0
    assert np.isnan(loss_standard_error(totals, loss))


def test_evaluation_reports_its_standard_error(tmp_path):
    train, valid = dataset(16), dataset(8, seed=1)
    cfg = TrainConfig(steps=2, batch_size=4, warmup_steps=2, eval_batches=2, dtype="float32")
    train_lm(train, valid, model_size("s1"), cfg, tmp_path, progress=False)
    result = evaluate_run(tmp_path, valid, eval_batches=2, batch_size=4)
    assert 0 < result["bits_per_byte_se"] < result["bits_per_byte"]
    assert result["bits_per_byte_se"] == pytest.approx(result["loss_se"] / (3 * np.log(2)))


def test_validation_sample_follows_appendix_d1():

    assert list(validation_sample(100, 20, 0, deterministic_dataset=False)) == list(range(20))
    assert list(validation_sample(100, 20, 0, deterministic_dataset=True)) == list(range(20))
    # Bytes / SentencePiece: the start moves one sample per seed, wrapping round
    assert list(validation_sample(100, 20, 2, deterministic_dataset=True)) == list(range(40, 60))
    assert list(validation_sample(50, 20, 2, deterministic_dataset=True)) == list(range(0, 10)) + list(range(40, 50))
    # compressed methods: a seeded sample, the same for the same seed, different across seeds
    a, b = (validation_sample(100, 20, s, deterministic_dataset=False) for s in (1, 2))
    assert len(set(a)) == 20 and list(a) == list(validation_sample(100, 20, 1, deterministic_dataset=False))
    assert set(a) != set(b)
    assert list(validation_sample(10, 20, 3, deterministic_dataset=False)) == list(range(10))
