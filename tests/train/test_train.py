import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pytest
from conftest import make_dataset

from nc.models.sizes import model_size
from nc.train import TrainConfig, train_lm
from nc.train.preemption import CheckpointClock, TrainingStopped
from nc.train.run import load_trained

SIZE = model_size("s1")


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def config(steps, **kw):
    base = dict(
        steps=steps,
        batch_size=8,
        warmup_steps=10,
        checkpoint_every=3,
        log_every=1,
        eval_every=4,
        eval_batches=2,
        dtype="float32",
        seed=5,
    )
    base.update(kw)
    return TrainConfig(**base)


def test_training_learns_and_writes_logs(tmp_path):
    train, valid = make_dataset(48, vocab=16, seed=0), make_dataset(16, vocab=16, seed=1)
    out = train_lm(
        train, valid, SIZE, config(40, eval_every=8, eval_steps=(2,)), tmp_path, window_tokens=2, progress=False
    )
    metrics = read_csv(tmp_path / "metrics.csv")
    assert [int(r["step"]) for r in metrics] == list(range(1, 41))
    assert set(metrics[0]) >= {"step", "loss", "learning_rate", "tokens_per_s", "z_loss", "accuracy"}
    losses = [float(r["loss"]) for r in metrics]
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3
    evals = read_csv(tmp_path / "evals.csv")
    assert list(evals[0]) == [
        "step",
        "loss",
        "accuracy",
        "bits_per_byte",
        "bits_per_byte_se",
        "tokens",
        "acc_pos_1",
        "acc_pos_2",
    ]
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
    with open(tmp_path / "resumed" / "history" / "metrics.csv", "a") as f:
        f.write("6,9.0,0,0,0,0,0,0\n")
    train_lm(train, valid, SIZE, config(8), tmp_path / "resumed", window_tokens=2, progress=False)
    full, resumed = (read_csv(tmp_path / d / "metrics.csv") for d in ("full", "resumed"))
    assert [r["step"] for r in resumed] == [str(s) for s in range(1, 9)]
    assert [r["loss"] for r in resumed] == [r["loss"] for r in full]  # identical text: identical floats
    assert [r["z_loss"] for r in resumed] == [r["z_loss"] for r in full]
    # The first leg ended at step 5, which (as every run's last step) was evaluated too.
    resumed_evals = read_csv(tmp_path / "resumed" / "evals.csv")
    assert [r for r in resumed_evals if r["step"] != "5"] == read_csv(tmp_path / "full" / "evals.csv")


class SignalOnRead:
    """Training rows that send this process ``signum`` when batch number ``at`` is read (during that step)."""

    def __init__(self, ds, at: int, signum=signal.SIGTERM):
        self.ds, self.at, self.signum, self.reads = ds, at, signum, 0

    def rows(self, indices):
        self.reads += 1
        if self.reads == self.at:
            os.kill(os.getpid(), self.signum)
        return self.ds.rows(indices)

    def __len__(self):
        return len(self.ds)

    def __getattr__(self, name):
        return getattr(self.ds, name)


def assert_same_params(a, b):
    leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGUSR1])
def test_stop_signal_checkpoints_and_the_rerun_matches_an_uninterrupted_run(tmp_path, toy_data, signum):
    train, valid = toy_data
    cfg = config(10, checkpoint_every=100)  # no scheduled checkpoint before the last step
    train_lm(train, valid, SIZE, cfg, tmp_path / "full", window_tokens=2, progress=False)
    handler = signal.getsignal(signum)
    with pytest.raises(TrainingStopped, match=signal.Signals(signum).name) as stopped:
        train_lm(SignalOnRead(train, 6, signum), valid, SIZE, cfg, tmp_path / "cut", window_tokens=2, progress=False)
    assert stopped.value.step == 6
    assert not (tmp_path / "cut" / "evals.csv").exists()  # published only when the run is complete
    history = read_csv(tmp_path / "cut" / "history" / "evals.csv")
    assert [r["step"] for r in history] == ["4"]  # kept beside the checkpoint of step 6
    assert signal.getsignal(signum) == handler  # the run's handler is gone with the run
    train_lm(train, valid, SIZE, cfg, tmp_path / "cut", window_tokens=2, progress=False)
    assert read_csv(tmp_path / "cut" / "evals.csv") == read_csv(tmp_path / "full" / "evals.csv")
    full, cut = (read_csv(tmp_path / d / "metrics.csv") for d in ("full", "cut"))
    assert [(r["step"], r["loss"]) for r in cut] == [(r["step"], r["loss"]) for r in full]
    assert_same_params(load_trained(tmp_path / "cut").params, load_trained(tmp_path / "full").params)


def test_checkpoint_clock_is_due_after_its_interval():
    now = [0.0]
    clock = CheckpointClock(0.5, clock=lambda: now[0])
    assert not clock.due()
    now[0] = 29.0
    assert not clock.due()
    now[0] = 30.0
    assert clock.due()
    clock.reset()
    assert not clock.due()
    assert not CheckpointClock(0, clock=lambda: now[0] + 1e9).due()
    with pytest.raises(ValueError, match="checkpoint_every_min"):
        CheckpointClock(-1)


def test_wall_clock_cadence_checkpoints_between_scheduled_steps(tmp_path, toy_data):
    train, valid = toy_data
    # A cadence far below a step's duration: every step is checkpointed (keep_checkpoints bounds the disk).
    cfg = config(5, checkpoint_every=100, checkpoint_every_min=1e-9, keep_checkpoints=10)
    train_lm(train, valid, SIZE, cfg, tmp_path, progress=False)
    steps = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit())
    assert steps == [1, 2, 3, 4, 5]


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


@pytest.mark.parametrize(
    "kw, key",
    [
        (dict(steps=0), "steps"),
        (dict(batch_size=0), "batch_size"),
        (dict(dtype="fp8"), "dtype"),
        (dict(eval_steps=(0,)), "eval_steps"),
        (dict(z_loss=-1.0), "z_loss"),
    ],
)
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
    from nc.train import TrainConfig, losses, train_lm
    run_dir, block, layout = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if block:  # log Z over blocks of this many of the 64 columns
        losses.VOCAB_BLOCK, losses.WHOLE_LOGITS_MAX_VOCAB = block, block // 3
    train, valid = make_dataset(48, seed=0), make_dataset(16, seed=1)
    cfg = TrainConfig(steps=4, batch_size=8, warmup_steps=10, log_every=1, eval_every=2, eval_batches=2,
                      dtype="float32", seed=5, layout=layout)
    out = train_lm(train, valid, model_size("s1"), cfg, run_dir, progress=False)
    print(json.dumps({{"devices": len(jax.devices()), "eval_loss": out["eval"]["loss"]}}))
""")


def sharded_run(tmp_path, devices: int, block: int = 0, layout: str = "replicated") -> tuple[list[float], float]:
    """(training losses, last evaluation loss) of SHARDED_SCRIPT on ``devices`` forced CPU devices."""
    script = tmp_path / "sharded.py"
    script.write_text(SHARDED_SCRIPT.format(tests=str(Path(__file__).parent)))
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu")
    run_dir = tmp_path / f"d{devices}-b{block}-{layout}"
    proc = subprocess.run(
        [sys.executable, str(script), str(run_dir), str(block), layout],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["devices"] == devices
    return [float(r["loss"]) for r in read_csv(run_dir / "metrics.csv")], summary["eval_loss"]


@pytest.mark.slow
def test_data_parallel_two_devices_matches_one(tmp_path):
    one, two = sharded_run(tmp_path, 1), sharded_run(tmp_path, 2)
    np.testing.assert_allclose(two[0], one[0], rtol=1e-5)
    assert two[1] == pytest.approx(one[1], rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["replicated", "fsdp"])
def test_blocked_log_partition_on_two_devices_matches_whole_logits_on_one(tmp_path, layout):
    """The blocked loss (three blocks, the last padded) under a two-device mesh, with the train state
    replicated or sharded, trains and evaluates as whole logits on one device."""
    whole, blocked = sharded_run(tmp_path, 1), sharded_run(tmp_path, 2, block=24, layout=layout)
    np.testing.assert_allclose(blocked[0], whole[0], rtol=1e-5)
    assert blocked[1] == pytest.approx(whole[1], rel=1e-5)
