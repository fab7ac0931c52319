"""Data parallelism with ``jax.sharding``: one mesh axis 'data' over every local device.

Batches are split along their first axis across devices; parameters and optimizer state are
replicated. jit's sharding propagation then inserts the gradient all-reduce, so the same code
runs on one CPU, on 8 GPUs of a node, or on forced host devices in tests.
"""
from __future__ import annotations

from typing import Any, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def data_mesh(devices: Sequence[Any] | None = None) -> Mesh:
    """A 1-D mesh named 'data' over ``devices`` (default: all local devices)."""
    devices = list(jax.local_devices() if devices is None else devices)
    return Mesh(np.array(devices), (DATA_AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def check_batch_divisible(batch_size: int, mesh: Mesh, what: str = "batch_size") -> None:
    devices = mesh.devices.size
    if batch_size % devices:
        raise ValueError(f"{what}={batch_size} must be a multiple of the {devices} data-parallel devices")


def shard_batch(mesh: Mesh, *arrays: np.ndarray) -> tuple[jax.Array, ...]:
    """Place host arrays on the mesh, split along axis 0."""
    sharding = batch_sharding(mesh)
    return tuple(jax.device_put(a, sharding) for a in arrays)
