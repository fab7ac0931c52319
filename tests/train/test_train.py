import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import make_dataset
from nc.models.sizes import model_size
from nc.train import TrainConfig, train_lm

SIZE = model_size("s1")


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def config(steps, **kw):
    base = dict(steps=steps, batch_size=8, warmup_steps=10, checkpoint_every=3, log_every=1, eval_every=4,
                eval_batches=2, dtype="float32", seed=5)
    base.update(kw)
    return TrainConfig(**base)


def test_training_learns_and_writes_logs(tmp_path):
    train, valid = make_dataset(48, vocab=16, seed=0), make_dataset(16, vocab=16, seed=1)
    out = train_lm(train, valid, SIZE, config(40, eval_every=8, eval_steps=(2,)), tmp_path, window_tokens=2,
                   progress=False)
    metrics = read_csv(tmp_path / "metrics.csv")
    assert [int(r["step"]) for r in metrics] == list(range(1, 41))
    assert set(metrics[0]) >= {"step", "loss", "learning_rate", "tokens_per_s", "z_loss", "accuracy"}
    losses = [float(r["loss"]) for r in metrics]
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3
    evals = read_csv(tmp_path / "evals.csv")
    assert list(evals[0]) == ["step", "loss", "accuracy", "bits_per_byte", "tokens", "acc_pos_1", "acc_pos_2"]
    assert [int(r["step"]) for r in evals] == [2, 8, 16, 24, 32, 40]
    # Odd positions copy their predecessor: the second token of each 2-token window becomes predictable.
    last = evals[-1]
    assert float(last["acc_pos_2"]) > float(last["acc_pos_1"]) + 0.5
    assert out["step"] == 40 and out["eval"]["loss"] == pytest.approx(float(last["loss"]))
    assert json.loads((tmp_path / "config.json").read_text())["size"] == "s1"


def test_resume_reproduces_uninterrupted_run_bit_for_bit(tmp_path, toy_data):
    train, valid = toy_data
    train_lm(train, valid, SIZE, config(8), tmp_path / "full", window_tokens=2, progress=False)
    train_lm(train, valid, SIZE, config(5), tmp_path / "resumed", window_tokens=2, progress=False)
    # A crash after logging step 6 but before its checkpoint leaves a stale row: resume must drop it.
    with open(tmp_path / "resumed" / "metrics.csv", "a") as f:
        f.write("6,9.0,0,0,0,0,0,0\n")
    train_lm(train, valid, SIZE, config(8), tmp_path / "resumed", window_tokens=2, progress=False)
    full, resumed = (read_csv(tmp_path / d / "metrics.csv") for d in ("full", "resumed"))
    assert [r["step"] for r in resumed] == [str(s) for s in range(1, 9)]
    assert [r["loss"] for r in resumed] == [r["loss"] for r in full]  # identical text: identical floats
    assert [r["z_loss"] for r in resumed] == [r["z_loss"] for r in full]
    # The first leg ended at step 5, which (as every run's last step) was evaluated too.
    resumed_evals = read_csv(tmp_path / "resumed" / "evals.csv")
    assert [r for r in resumed_evals if r["step"] != "5"] == read_csv(tmp_path / "full" / "evals.csv")


def test_resume_rejects_changed_hyperparameters(tmp_path, toy_data):
    train, valid = toy_data
    train_lm(train, None, SIZE, config(2), tmp_path, progress=False)
    with pytest.raises(ValueError, match="train.seed"):
        train_lm(train, None, SIZE, config(4, seed=6), tmp_path, progress=False)
    with pytest.raises(ValueError, match="size"):
        train_lm(train, None, model_size("s2"), config(4), tmp_path, progress=False)


def test_loss_mask_excludes_context_positions(tmp_path):
    seq2seq = make_dataset(16, loss_start=True)
    out = train_lm(seq2seq, seq2seq, SIZE, config(1, eval_every=0, eval_batches=2), tmp_path, progress=False)
    expected = int(seq2seq.loss_mask().sum())
    assert out["eval"]["tokens"] == expected
    assert expected < int(seq2seq.num_tokens.sum())


@pytest.mark.parametrize("kw, key", [(dict(steps=0), "steps"), (dict(batch_size=0), "batch_size"),
                                     (dict(dtype="fp8"), "dtype"), (dict(eval_steps=(0,)), "eval_steps"),
                                     (dict(z_loss=-1.0), "z_loss")])
def test_config_errors_name_the_key(kw, key):
    base = dict(steps=2, batch_size=2)
    base.update(kw)
    with pytest.raises(ValueError, match=key):
        TrainConfig(**base)


SHARDED_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    sys.path.insert(0, {tests!r})
    from conftest import make_dataset
    from nc.models.sizes import model_size
    from nc.train import TrainConfig, train_lm
    train, valid = make_dataset(48, seed=0), make_dataset(16, seed=1)
    cfg = TrainConfig(steps=4, batch_size=8, warmup_steps=10, log_every=1, eval_every=2, eval_batches=2,
                      dtype="float32", seed=5)
    out = train_lm(train, valid, model_size("s1"), cfg, sys.argv[1], progress=False)
    print(json.dumps({{"devices": len(jax.devices()), "eval_loss": out["eval"]["loss"]}}))
""")


@pytest.mark.slow
def test_data_parallel_two_devices_matches_one(tmp_path):
    script = tmp_path / "sharded.py"
    script.write_text(SHARDED_SCRIPT.format(tests=str(Path(__file__).parent)))
    results = {}
    for devices in (1, 2):
        env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu")
        run_dir = tmp_path / f"d{devices}"
        proc = subprocess.run([sys.executable, str(script), str(run_dir)], env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        assert summary["devices"] == devices
        losses = [float(r["loss"]) for r in read_csv(run_dir / "metrics.csv")]
        results[devices] = (losses, summary["eval_loss"])
    np.testing.assert_allclose(results[2][0], results[1][0], rtol=1e-5)
    assert results[2][1] == pytest.approx(results[1][1], rel=1e-5)
