"""Tile skipping: split the im2col GEMM into tiles and multiply only the tiles that hold a spike.

The patch matrix ``[M, K]`` (M = N*Ho*Wo, K = kh*kw*C) is padded to multiples of
``tile = (tm, tk)``; a tile is active when any entry is non-zero. The active tiles (at most a
static ``capacity`` of them, with the usual overflow policy) are gathered, each multiplied by
its ``[tk, O]`` slice of the weights, and scatter-added into their ``tm`` output rows.
Structured silence (whole timesteps, whole channels) empties whole tiles; i.i.d. spikes rarely do.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.sparse._common import Padding, check_conv_args, guarded, resolve_capacity
from tacjax.sparse.dense import conv
from tacjax.sparse.im2col import patches

__all__ = ["DEFAULT_TILE", "tile_conv"]

DEFAULT_TILE = (64, 32)


@partial(jax.jit, static_argnames=("cap", "mt"))
def _tile_matmul(blocks, wt, active, count, *, cap: int, mt: int):
    """Jitted core: multiply the first ``cap`` active ``[tm, tk]`` blocks, scatter into ``[mt*tm, O]``."""
    kt, _, o = wt.shape
    tm = blocks.shape[1]
    idx = jnp.flatnonzero(active, size=cap, fill_value=0)
    live = (jnp.arange(cap) < count).astype(wt.dtype)
    prod = jnp.einsum("bmk,bko->bmo", blocks[idx], wt[idx % kt]) * live[:, None, None]
    out = jnp.zeros((mt, tm, o), wt.dtype).at[idx // kt].add(prod)
    return out.reshape(mt * tm, o)


def tile_conv(spikes: jax.Array, w: jax.Array, *, stride=1, padding: Padding = "SAME",
              tile: tuple[int, int] = DEFAULT_TILE, capacity: int | None = None,
              overflow: str = "error") -> jax.Array:
    """Strategy "tiles": dense matmuls on the non-empty ``tile`` blocks of the patch matrix only.

    Args:
        spikes: ``[N, H, W, C]``; binary spikes, or any values (the stored entries keep them).
        w: weights ``[kh, kw, C, O]``.
        stride, padding: as in ``tacjax.sparse.conv``.
        tile: ``(rows, cols)`` of a tile of the ``[N*Ho*Wo, kh*kw*C]`` patch matrix.
        capacity: static maximum number of active tiles. None: the count rounded up to a power
            of two for concrete input, all tiles when traced.
        overflow: "error" or "dense".

    Returns:
        ``[N, Ho, Wo, O]``.
    """
    spikes, w = check_conv_args(spikes, w, "tile_conv")
    tm, tk = (int(tile[0]), int(tile[1]))
    if tm < 1 or tk < 1:
        raise ValueError(f"tile_conv: `tile` must be two positive ints (rows, cols); got {tile!r}.")
    kh, kw, c, o = w.shape
    p = patches(spikes, kh, kw, stride, padding)
    lead = p.shape[:3]
    m, k = p.shape[0] * p.shape[1] * p.shape[2], kh * kw * c
    mt, kt = -(-m // tm), -(-k // tk)
    mat = jnp.pad(p.reshape(m, k), ((0, mt * tm - m), (0, kt * tk - k)))
    blocks = mat.reshape(mt, tm, kt, tk).transpose(0, 2, 1, 3).reshape(mt * kt, tm, tk)
    wt = jnp.pad(w.reshape(k, o), ((0, kt * tk - k), (0, 0))).reshape(kt, tk, o)
    active = jnp.any(blocks != 0, axis=(1, 2))
    count = jnp.sum(active, dtype=jnp.int32)
    cap = resolve_capacity(capacity, lambda: count, mt * kt, _checks.is_concrete(spikes))

    def sparse():
        return _tile_matmul(blocks, wt, active, count, cap=cap, mt=mt)[:m].reshape(*lead, o)

    return guarded(count, cap, overflow, sparse, lambda: conv(spikes, w, stride=stride, padding=padding),
                   "tile_conv", "active tiles")
