"""Compiled memory per device of each paper M2 size's training step, with the layout the paper scale sets.

For every size of ``config/scales/paper.yaml`` (``m2.sizes``) the training step (forward, backward, Adafactor
update) is compiled ahead of time for the GPUs its job requests (``resources.train_m2.by_size``: data
parallel over ``gpus`` devices, per-device batch = ``m2.batch_size / gpus`` x ``m2.seq_len``), with its
``m2.parallelism`` layout (replicated or FSDP) and remat, in bfloat16 compute (what ``dtype: auto`` picks on
a GPU), for the largest vocabulary the paper uses (65,536). XLA's ``memory_analysis`` of the partitioned
program gives the bytes one device needs: arguments (params, optimizer state, batch) + outputs + temporaries
- donated (aliased) buffers. The devices are ``--xla_force_host_platform_device_count`` CPU devices: XLA
compiles the same partitioned program, but its CPU backend schedules and fuses differently from the GPU
backend, so the figures approximate GPU memory rather than equal it.

    .venv/bin/python benchmarks/memory_plan.py                  # configured layouts, every paper size
    .venv/bin/python benchmarks/memory_plan.py --compare        # also the other layouts, same GPUs
    .venv/bin/python benchmarks/memory_plan.py --sizes 25m 113m
    .venv/bin/python benchmarks/memory_plan.py --sizes 25m --gpus 1   # another GPU count than configured

The last line is ``worst compiled memory per device: X GB (size) <= / > 80 GB`` over the configured rows
(none with ``--gpus`` other than the configured count).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

MAX_DEVICES = 16
# XLA's CPU scheduler favours concurrency by default and then keeps recomputed (remat) activations alive
# as long as stored ones; the memory-minimising scheduler is the closer model of a GPU's.
os.environ.setdefault(
    "XLA_FLAGS",
    f"--xla_force_host_platform_device_count={MAX_DEVICES} --xla_cpu_enable_concurrency_optimized_scheduler=false",
)
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402  (after XLA_FLAGS: the device count is read when JAX starts)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from nc.models.sizes import model_size  # noqa: E402
from nc.models.transformer import build_model  # noqa: E402
from nc.pipeline.config import prepare_config, rule_resources  # noqa: E402
from nc.sections import M2Config  # noqa: E402
from nc.train.loop import make_train_step  # noqa: E402
from nc.train.sharding import batch_sharding, data_mesh, replicated_sharding, state_shardings  # noqa: E402
from nc.train.state import abstract_train_state, make_optimizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GPU_MEMORY_GB = 80
VOCAB = 65_536
ALTERNATIVES = [
    {"layout": "replicated", "remat": False},
    {"layout": "replicated", "remat": True},
    {"layout": "fsdp", "remat": True},
]


def compiled_memory(size_name: str, devices: int, batch_size: int, seq_len: int, layout: str, remat: bool) -> dict:
    """Compile one training step for ``devices`` devices; its per-device memory in GB and compile time."""
    mesh = data_mesh(jax.devices()[:devices])
    model = build_model(model_size(size_name), VOCAB, jnp.bfloat16, remat=remat)
    optimizer = make_optimizer(1.0, 10_000)
    shardings = state_shardings(abstract_train_state(model, optimizer), mesh, layout)
    state = abstract_train_state(model, optimizer, shardings)
    step = make_train_step(model, optimizer, 1e-4, shardings, replicated_sharding(mesh))
    batch = batch_sharding(mesh)
    tokens = jax.ShapeDtypeStruct((batch_size, seq_len), jnp.int32, sharding=batch)
    mask = jax.ShapeDtypeStruct((batch_size, seq_len), jnp.bool_, sharding=batch)
    start = time.perf_counter()
    compiled = step.lower(state, tokens, mask).compile()
    seconds = time.perf_counter() - start
    stats = compiled.memory_analysis()
    gb = 1e-9
    state_bytes = sum(
        int(np.prod(leaf.shape)) * leaf.dtype.itemsize
        for leaf in jax.tree_util.tree_leaves(abstract_train_state(model, optimizer))
    )
    total = (
        stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes - stats.alias_size_in_bytes
    )
    return {
        "size": size_name,
        "devices": devices,
        "per_device_batch": batch_size // devices,
        "layout": layout,
        "remat": remat,
        "state_gb": state_bytes * gb,
        "arguments_gb": stats.argument_size_in_bytes * gb,
        "temp_gb": stats.temp_size_in_bytes * gb,
        "total_gb": total * gb,
        "compile_s": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", help="paper sizes to compile (default: m2.sizes)")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also compile the other layouts (replicated / fsdp, remat or not) on the same GPUs",
    )
    parser.add_argument(
        "--gpus",
        type=int,
        help="compile for this many GPUs instead of each size's configured count (not configured rows)",
    )
    args = parser.parse_args(argv)
    config = prepare_config({"scale": "paper"}, ROOT)
    m2 = config["m2"]
    rows = []
    print(
        f"{'size':>5} {'GPUs':>4} {'batch/dev':>9} {'layout':>10} {'remat':>5} {'state GB':>8} {'args GB':>8} "
        f"{'temp GB':>8} {'total GB':>8} {'compile s':>9}  configured"
    )
    for size_name in args.sizes or m2["sizes"]:
        configured_devices = max(1, rule_resources(config, "train_m2", size_name)["gpus"])
        devices = args.gpus or configured_devices
        if devices > len(jax.devices()):
            raise SystemExit(f"{size_name}: {devices} devices requested, {len(jax.devices())} available")
        configured = M2Config.from_config(m2).training_layout(size_name)
        variants = [configured]
        if args.compare:
            variants += [v for v in ALTERNATIVES if v != configured]
        for variant in variants:
            row = compiled_memory(size_name, devices, m2["batch_size"], m2["seq_len"], **variant)
            row["configured"] = variant == configured and devices == configured_devices
            rows.append(row)
            print(
                f"{row['size']:>5} {row['devices']:>4} {row['per_device_batch']:>9} {row['layout']:>10} "
                f"{str(row['remat']):>5} {row['state_gb']:>8.2f} {row['arguments_gb']:>8.2f} {row['temp_gb']:>8.2f} "
                f"{row['total_gb']:>8.2f} {row['compile_s']:>9.1f}  {'yes' if row['configured'] else 'no'}",
                flush=True,
            )
    configured_rows = [r for r in rows if r["configured"]]
    if not configured_rows:
        return 0
    worst = max(configured_rows, key=lambda r: r["total_gb"])
    verdict = "<=" if worst["total_gb"] <= GPU_MEMORY_GB else ">"
    print(
        f"worst compiled memory per device: {worst['total_gb']:.1f} GB ({worst['size']}) {verdict} {GPU_MEMORY_GB} GB"
    )
    return 0 if verdict == "<=" else 1


if __name__ == "__main__":
    sys.exit(main())
