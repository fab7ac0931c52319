import numpy as np
import pytest

from nc.train import batch_indices, rsqrt_learning_rate, rsqrt_schedule


def test_rsqrt_schedule_paper_values():
    assert float(rsqrt_learning_rate(1)) == pytest.approx(0.01)  # 1 / sqrt(10,000) during warm-up
    assert float(rsqrt_learning_rate(10_000)) == pytest.approx(0.01)
    assert float(rsqrt_learning_rate(40_000)) == pytest.approx(0.005)
    assert float(rsqrt_learning_rate(200_000, lr_constant=2.0)) == pytest.approx(2.0 / np.sqrt(200_000))
    schedule = rsqrt_schedule(1.0, 4)
    assert [float(schedule(c)) for c in (0, 3, 8)] == pytest.approx([0.5, 0.5, 1 / 3])  # optax count c = step c+1
    with pytest.raises(ValueError, match="warmup_steps"):
        rsqrt_schedule(1.0, 0)


def test_each_epoch_is_a_seeded_permutation():
    n, batch = 10, 4
    slots = np.concatenate([batch_indices(s, batch, n, seed=7) for s in range(1, 11)])  # 40 slots = 4 epochs
    epochs = slots.reshape(4, n)
    for epoch in epochs:
        assert sorted(epoch) == list(range(n))
    assert not all(np.array_equal(epochs[0], e) for e in epochs[1:])  # a new order per epoch
    np.testing.assert_array_equal(batch_indices(5, batch, n, seed=7), slots[16:20])  # pure function of step
    assert not np.array_equal(batch_indices(1, batch, n, seed=8), batch_indices(1, batch, n, seed=7))


def test_batch_indices_rejects_bad_input():
    with pytest.raises(ValueError, match="count from 1"):
        batch_indices(0, 4, 10, 0)
    with pytest.raises(ValueError, match="empty"):
        batch_indices(1, 4, 0, 0)
