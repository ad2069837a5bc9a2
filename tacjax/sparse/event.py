"""Event-driven convolution: gather the weights of each active spike, scatter-add them into the output.

Each active input spike at ``(n, y, x, c)`` adds ``w[i, j, c, :]`` to every output position
``(oy, ox)`` with ``oy*sh + i - top = y`` and ``ox*sw + j - left = x``: no multiplication,
only accumulates, and work proportional to the number of spikes.

To be jit-compatible the list of active spikes has a static ``capacity``
(``jnp.flatnonzero(..., size=capacity)``). When more spikes than that arrive, ``overflow``
decides: "error" raises (a ValueError for concrete input, a runtime error from a host
callback under ``jit``), "dense" computes the result with the dense convolution instead.
The result is never silently truncated.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.sparse._common import (
    Padding,
    check_conv_args,
    geometry,
    guarded,
    require_binary,
    resolve_capacity,
)
from tacjax.sparse.dense import conv

__all__ = ["event_conv"]


def event_conv(spikes: jax.Array, w: jax.Array, *, stride=1, padding: Padding = "SAME",
               capacity: int | None = None, overflow: str = "error") -> jax.Array:
    """Strategy "event": gather/scatter-add over the active spikes.

    Args:
        spikes: binary spikes ``[N, H, W, C]`` (ValueError for other values when concrete).
        w: weights ``[kh, kw, C, O]``.
        stride, padding: as in ``tacjax.sparse.conv``.
        capacity: static maximum number of active spikes handled sparsely. None: the count
            rounded up to a power of two for concrete input, ``N*H*W*C`` under tracing.
        overflow: "error" or "dense" (see the module doc).

    Returns:
        ``[N, Ho, Wo, O]``.
    """
    spikes, w = check_conv_args(spikes, w, "event_conv")
    require_binary(spikes, "event_conv")
    (sh, sw), ((top, _), (left, _)), (ho, wo) = geometry(spikes.shape, w.shape, stride, padding, "event_conv")
    flat = spikes.reshape(-1) != 0
    count = jnp.sum(flat, dtype=jnp.int32)
    cap = resolve_capacity(capacity, lambda: count, flat.size, _checks.is_concrete(spikes))

    geom = ((sh, sw), top, left, ho, wo)

    def sparse():
        return _scatter(spikes, w, count, cap=cap, geom=geom)

    return guarded(count, cap, overflow, sparse, lambda: conv(spikes, w, stride=stride, padding=padding),
                   "event_conv", "active spikes")


@partial(jax.jit, static_argnames=("cap", "geom"))
def _scatter(spikes, w, count, *, cap: int, geom):
    """Jitted core: scatter-add the weights of the first ``cap`` active spikes."""
    (sh, sw), top, left, ho, wo = geom
    n, h, wd, c = spikes.shape
    kh, kw, _, o = w.shape
    flat = spikes.reshape(-1) != 0
    idx = jnp.flatnonzero(flat, size=cap, fill_value=0)
    live = jnp.arange(cap) < count
    ci = idx % c
    xi = (idx // c) % wd
    yi = (idx // (c * wd)) % h
    ni = idx // (c * wd * h)
    ti, tj = jnp.meshgrid(jnp.arange(kh), jnp.arange(kw), indexing="ij")
    ti, tj = ti.reshape(-1), tj.reshape(-1)  # [kh*kw]
    oy_num = yi[:, None] + top - ti[None]  # [cap, kh*kw]
    ox_num = xi[:, None] + left - tj[None]
    oy, ox = oy_num // sh, ox_num // sw
    ok = (live[:, None] & (oy_num % sh == 0) & (ox_num % sw == 0)
          & (oy >= 0) & (oy < ho) & (ox >= 0) & (ox < wo))
    dest = jnp.where(ok, (ni[:, None] * ho + oy) * wo + ox, n * ho * wo)  # out of range: dropped
    contrib = w[ti[None], tj[None], ci[:, None]]  # [cap, kh*kw, O]
    out = jnp.zeros((n * ho * wo, o), w.dtype).at[dest.reshape(-1)].add(contrib.reshape(-1, o), mode="drop")
    return out.reshape(n, ho, wo, o)
