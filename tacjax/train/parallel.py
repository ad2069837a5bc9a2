"""Data parallelism with ``jax.sharding``: a 1-D mesh over the batch axis.

The batch is split across devices (``NamedSharding(mesh, P(..., "batch", ...))`` on its batch
axis), parameters and optimiser state are replicated (``P()``); ``jax.jit`` then inserts the
gradient all-reduce itself. The same code runs on one CPU, on several forced host devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=N``) and on multi-GPU machines.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from tacjax.train._checks import check_int

__all__ = ["BATCH_AXIS", "batch_mesh", "replicate", "shard_batch"]

BATCH_AXIS = "batch"


def batch_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D ``Mesh`` named ``"batch"`` over ``devices`` (default: all of ``jax.devices()``)."""
    devs = list(jax.devices() if devices is None else devices)
    if not devs:
        raise ValueError("batch_mesh: `devices` is empty; expected at least one jax.Device.")
    bad = [d for d in devs if not isinstance(d, jax.Device)]
    if bad:
        raise TypeError(f"batch_mesh: `devices` must hold jax.Device objects; got {type(bad[0]).__name__}.")
    return Mesh(np.asarray(devs), (BATCH_AXIS,))


def shard_batch(mesh: Mesh, *arrays, axis: int = 0):
    """Place arrays with their batch axis split over the mesh.

    Args:
        mesh: from ``batch_mesh``.
        *arrays: arrays whose axis ``axis`` is the batch B (``[B, ...]`` for ``axis=0``, time-major
            ``[T, B, ...]`` for ``axis=1``); B must be divisible by the number of devices.
        axis: the batch axis of every array.

    Returns:
        A tuple of sharded ``jax.Array`` (one per input).
    """
    if not isinstance(mesh, Mesh):
        raise TypeError(f"shard_batch: `mesh` must be a jax.sharding.Mesh; got {type(mesh).__name__}.")
    axis = check_int(axis, "shard_batch", "axis", minimum=0)
    n = mesh.devices.size
    out = []
    for i, a in enumerate(arrays):
        shape = np.shape(a)
        if len(shape) <= axis:
            raise ValueError(f"shard_batch: array {i} of shape {shape} has no batch axis {axis}.")
        if shape[axis] % n:
            raise ValueError(f"shard_batch: array {i} has batch {shape[axis]} (shape {shape}, axis {axis}), "
                             f"not divisible by the {n} devices of the mesh.")
        spec = P(*([None] * axis), BATCH_AXIS, *([None] * (len(shape) - axis - 1)))
        out.append(jax.device_put(a, NamedSharding(mesh, spec)))
    return tuple(out)


def replicate(mesh: Mesh, tree):
    """Replicate every array leaf of ``tree`` on all devices of ``mesh``."""
    if not isinstance(mesh, Mesh):
        raise TypeError(f"replicate: `mesh` must be a jax.sharding.Mesh; got {type(mesh).__name__}.")
    return jax.device_put(tree, NamedSharding(mesh, P()))
