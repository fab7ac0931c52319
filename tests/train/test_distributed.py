"""Multi-device and multi-process training: FSDP layout, two processes on localhost, device checks."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pytest

from nc.train.distributed import ProcessGroup, device_provenance, process_group_from_env, require_devices

TESTS = Path(__file__).parent

# Trains the toy model in this process; argv: run_dir steps layout. Prints losses, eval loss, shardings.
TRAIN_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    from nc.train.distributed import initialize_processes
    initialize_processes()
    sys.path.insert(0, {tests!r})
    from conftest import make_dataset
    from nc.models.sizes import model_size
    from nc.train import TrainConfig, train_lm
    from nc.train.run import load_trained
    run_dir, steps, layout = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    train, valid = make_dataset(48, seed=0), make_dataset(16, seed=1)
    cfg = TrainConfig(steps=steps, batch_size=8, warmup_steps=10, log_every=1, eval_every=2, eval_batches=2,
                      checkpoint_every=2, dtype="float32", seed=5, layout=layout)
    out = train_lm(train, valid, model_size("s1"), cfg, run_dir, progress=False)
    kernel = load_trained(run_dir).params["layer_0"]["mlp"]["wi_0"]["kernel"]
    print(json.dumps({{"process": jax.process_index(), "devices": len(jax.devices()),
                      "eval_loss": out["eval"]["loss"], "kernel_sum": float(abs(kernel).sum())}}))
""")


def read_losses(run_dir: Path) -> list[float]:
    with open(run_dir / "metrics.csv", newline="") as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def run_script(tmp_path: Path, args: list[str], env: dict, timeout: int = 300) -> subprocess.Popen:
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT.format(tests=str(TESTS)))
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        env={**os.environ, "JAX_PLATFORMS": "cpu", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: int = 300) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-4000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
def test_fsdp_layout_splits_the_state_and_matches_replicated_training(tmp_path):
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    results = {
        layout: finish(run_script(tmp_path, [str(tmp_path / layout), "6", layout], env))
        for layout in ("replicated", "fsdp")
    }
    assert results["fsdp"]["devices"] == 2
    np.testing.assert_allclose(read_losses(tmp_path / "fsdp"), read_losses(tmp_path / "replicated"), rtol=1e-5)
    assert results["fsdp"]["eval_loss"] == pytest.approx(results["replicated"]["eval_loss"], rel=1e-5)
    assert results["fsdp"]["kernel_sum"] == pytest.approx(results["replicated"]["kernel_sum"], rel=1e-5)


def test_fsdp_shards_each_array_on_its_largest_divisible_axis():
    from nc.train.sharding import leaf_sharding

    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("data",))
    assert leaf_sharding((8, 4), mesh, "fsdp").spec == jax.sharding.PartitionSpec()  # one device: replicated
    script = textwrap.dedent("""
        import jax, numpy as np
        from nc.train.sharding import leaf_sharding, data_mesh
        mesh = data_mesh()
        for shape in [(6, 16), (16, 6), (5, 7), (), (4,), (3,)]:
            print(shape, leaf_sharding(shape, mesh, "fsdp").spec, leaf_sharding(shape, mesh, "replicated").spec)
    """)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines() == [
        "(6, 16) P(None, 'data') P()",
        "(16, 6) P('data', None) P()",
        "(5, 7) P() P()",
        "() P() P()",
        "(4,) P('data',) P()",
        "(3,) P() P()",
    ]
    with pytest.raises(ValueError, match="layout"):
        leaf_sharding((4,), mesh, "zero")


def two_processes(tmp_path: Path, run_dir: Path, steps: int, port: int) -> list[dict]:
    procs = [
        run_script(
            tmp_path,
            [str(run_dir), str(steps), "replicated"],
            {"NC_COORDINATOR": f"127.0.0.1:{port}", "NC_NUM_PROCESSES": "2", "NC_PROCESS_ID": str(i)},
        )
        for i in range(2)
    ]
    return [finish(p) for p in procs]


@pytest.mark.slow
def test_two_processes_on_localhost_match_one_process_and_resume_together(tmp_path):
    from nc.pipeline.launch import _free_port

    single = finish(run_script(tmp_path, [str(tmp_path / "one"), "8", "replicated"], {}))
    # Two processes (one CPU device each) train 4 steps, stop, then resume to 8 from the shared checkpoint.
    two_processes(tmp_path, tmp_path / "two", 4, _free_port())
    results = two_processes(tmp_path, tmp_path / "two", 8, _free_port())
    assert sorted(r["process"] for r in results) == [0, 1] and {r["devices"] for r in results} == {2}
    np.testing.assert_allclose(read_losses(tmp_path / "two"), read_losses(tmp_path / "one"), rtol=1e-5)
    for r in results:
        assert r["eval_loss"] == pytest.approx(single["eval_loss"], rel=1e-5)
        assert r["kernel_sum"] == pytest.approx(single["kernel_sum"], rel=1e-5)
    with open(tmp_path / "two" / "evals.csv", newline="") as f:
        assert [row["step"] for row in csv.DictReader(f)] == ["2", "4", "6", "8"]


def test_process_group_comes_from_the_launcher_or_slurm():
    assert process_group_from_env({}) is None
    assert process_group_from_env({"SLURM_NTASKS": "1", "SLURM_STEP_ID": "0", "SLURM_PROCID": "0"}) is None
    assert process_group_from_env({"SLURM_NTASKS": "2", "SLURM_PROCID": "1"}) is None  # batch script, no step
    assert process_group_from_env({"SLURM_NTASKS": "4", "SLURM_STEP_ID": "3", "SLURM_PROCID": "2"}) == ProcessGroup(
        4, 2
    )
    local = {"NC_COORDINATOR": "127.0.0.1:1234", "NC_NUM_PROCESSES": "2", "NC_PROCESS_ID": "1"}
    assert process_group_from_env(local) == ProcessGroup(2, 1, "127.0.0.1:1234")
    with pytest.raises(ValueError, match="NC_PROCESS_ID"):
        process_group_from_env({**local, "NC_PROCESS_ID": "2"})
    with pytest.raises(ValueError, match="NC_NUM_PROCESSES"):
        process_group_from_env({"NC_COORDINATOR": "127.0.0.1:1"})


def test_a_job_that_asked_for_gpus_fails_at_once_on_the_cpu():
    require_devices(0)
    with pytest.raises(RuntimeError, match=r"requested 2 GPU\(s\) but JAX .* sees only cpu devices"):
        require_devices(2)


def test_device_provenance_names_backend_devices_and_versions():
    import jaxlib

    prov = device_provenance()
    assert prov["backend"] == "cpu" and prov["device_count"] == len(jax.devices()) >= 1
    assert prov["jax_version"] == jax.__version__ and prov["jaxlib_version"] == jaxlib.__version__
    assert prov["process_count"] == 1 and isinstance(prov["device_kind"], str)


def test_launcher_starts_one_srun_step_inside_slurm_and_local_processes_elsewhere(tmp_path):
    from nc.pipeline.launch import process_commands

    ((cmd, env),) = process_commands(
        "train_m2", tmp_path / "a.json", tasks=2, nodes=2, gpus=16, env={"SLURM_JOB_ID": "7"}
    )
    assert cmd[:7] == [
        "srun",
        "--overlap",
        "--ntasks=2",
        "--nodes=2",
        "--ntasks-per-node=1",
        "--kill-on-bad-exit=1",
        "--gpus-per-task=8",
    ]
    assert cmd[-3:] == ["nc.pipeline.launch", "train_m2", str(tmp_path / "a.json")]
    local = process_commands("train_m1", tmp_path / "a.json", tasks=2, nodes=1, gpus=0, env={})
    assert [e["NC_PROCESS_ID"] for _, e in local] == ["0", "1"]
    assert {e["NC_NUM_PROCESSES"] for _, e in local} == {"2"}
    assert len({e["NC_COORDINATOR"] for _, e in local}) == 1
