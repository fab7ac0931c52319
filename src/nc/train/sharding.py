"""Data parallelism with ``jax.sharding``: one mesh axis 'data' over every device of every process.

Batches are split along their first axis across devices; each process reads only its own rows of a
global batch (``process_rows``) and ``shard_batch`` assembles the global array from them. The train
state is laid out by ``state_shardings``:

* ``replicated`` - parameters and optimizer state on every device (jit's sharding propagation inserts
  the gradient all-reduce);
* ``fsdp`` - every parameter and optimizer-state array split over the 'data' axis along its largest
  dimension that the device count divides (ZeRO-3 / FSDP): XLA all-gathers a layer's weights where
  they are used and reduce-scatters its gradients, so a device holds 1/N of the state.

The same code runs on one CPU, on 8 GPUs of a node, over several nodes, or on forced host devices in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"
LAYOUTS = ("replicated", "fsdp")


def data_mesh(devices: Sequence[Any] | None = None) -> Mesh:
    """A 1-D mesh named 'data' over ``devices`` (default: every device of every process)."""
    devices = list(jax.devices() if devices is None else devices)
    return Mesh(np.array(devices), (DATA_AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def leaf_sharding(shape: Sequence[int], mesh: Mesh, layout: str) -> NamedSharding:
    """Where one state array lives: replicated, or (fsdp) split along its largest dimension divisible
    by the 'data' axis (arrays with no such dimension, e.g. scalars and norm scales of odd size, stay
    replicated)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    devices = mesh.shape[DATA_AXIS]
    if layout == "replicated" or devices == 1:
        return replicated_sharding(mesh)
    candidates = [axis for axis, n in enumerate(shape) if n % devices == 0 and n >= devices]
    if not candidates:
        return replicated_sharding(mesh)
    axis = max(candidates, key=lambda a: (shape[a], -a))
    spec: list[str | None] = [None] * len(shape)
    spec[axis] = DATA_AXIS
    return NamedSharding(mesh, PartitionSpec(*spec))


def state_shardings(abstract_state: Any, mesh: Mesh, layout: str) -> Any:
    """A pytree of shardings matching ``abstract_state`` (shapes/dtypes, e.g. from ``jax.eval_shape``)."""
    return jax.tree_util.tree_map(lambda leaf: leaf_sharding(leaf.shape, mesh, layout), abstract_state)


def check_batch_divisible(batch_size: int, mesh: Mesh, what: str = "batch_size") -> None:
    devices = mesh.devices.size
    if batch_size % devices:
        raise ValueError(f"{what}={batch_size} must be a multiple of the {devices} data-parallel devices")


def process_rows(rows: np.ndarray) -> np.ndarray:
    """This process's contiguous share of a global batch's rows (all of them in a single process).

    Devices of the 'data' mesh are ordered by process, so process p's devices hold rows
    [p * B / P, (p + 1) * B / P) of a batch of B rows.
    """
    count, index = jax.process_count(), jax.process_index()
    per_process = len(rows) // count
    return rows[index * per_process : (index + 1) * per_process]


def shard_batch(mesh: Mesh, *local_arrays: np.ndarray) -> tuple[jax.Array, ...]:
    """Global arrays split along axis 0 over the mesh, from this process's rows (``process_rows``)."""
    sharding = batch_sharding(mesh)
    return tuple(jax.make_array_from_process_local_data(sharding, a) for a in local_arrays)


def place_params(params: Any, mesh: Mesh) -> Any:
    """``params`` on ``mesh``: arrays already laid out on it stay where they are, others are replicated."""
    replicated = replicated_sharding(mesh)

    def place(leaf):
        sharding = getattr(leaf, "sharding", None)
        if isinstance(sharding, NamedSharding) and sharding.mesh == mesh:
            return leaf
        return jax.device_put(leaf, replicated)

    return jax.tree_util.tree_map(place, params)
