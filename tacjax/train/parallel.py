"""Data parallelism with ``jax.sharding``: a 1-D mesh over the batch axis.

The batch is split across devices (``NamedSharding(mesh, P("batch"))`` on its leading axis),
parameters and optimiser state are replicated (``P()``); ``jax.jit`` then inserts the
gradient all-reduce itself. The same code runs on one CPU, on several forced host devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=N``) and on multi-GPU machines.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

__all__ = ["BATCH_AXIS", "batch_mesh", "replicate", "shard_batch"]

BATCH_AXIS = "batch"


def batch_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D ``Mesh`` named ``"batch"`` over ``devices`` (default: all of ``jax.devices()``)."""
    devs = np.asarray(list(jax.devices() if devices is None else devices))
    if devs.size == 0:
        raise ValueError("batch_mesh: `devices` is empty.")
    return Mesh(devs, (BATCH_AXIS,))


def shard_batch(mesh: Mesh, *arrays):
    """Place arrays with their leading (batch) axis split over the mesh.

    Args:
        mesh: from ``batch_mesh``.
        *arrays: arrays ``[B, ...]``; B must be divisible by the number of devices.

    Returns:
        A tuple of sharded ``jax.Array`` (one per input).
    """
    n = mesh.devices.size
    out = []
    for i, a in enumerate(arrays):
        if a.shape[0] % n:
            raise ValueError(f"shard_batch: array {i} has batch {a.shape[0]} (shape {a.shape}), "
                             f"not divisible by the {n} devices of the mesh.")
        spec = P(BATCH_AXIS, *([None] * (a.ndim - 1)))
        out.append(jax.device_put(a, NamedSharding(mesh, spec)))
    return tuple(out)


def replicate(mesh: Mesh, tree):
    """Replicate every array leaf of ``tree`` on all devices of ``mesh``."""
    return jax.device_put(tree, NamedSharding(mesh, P()))
