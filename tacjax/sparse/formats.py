"""Sparse-matrix formats: the im2col patch matrix stored as BCOO or BCSR, times the dense weights.

``jax.experimental.sparse`` needs the number of stored elements (``nse``) statically under
``jit``; that is ``capacity`` here, with the same overflow policy as the event strategy
("error" or "dense", never a truncated matrix). The conversion from the dense patch matrix is
part of the timed work, since spikes are produced densely by the previous layer every step.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax.experimental import sparse as jsparse

from tacjax import _checks
from tacjax.sparse._common import Padding, check_conv_args, guarded, resolve_capacity
from tacjax.sparse.dense import conv
from tacjax.sparse.im2col import patches

__all__ = ["bcoo_conv", "bcsr_conv"]


@partial(jax.jit, static_argnames=("fmt", "cap"))
def _sparse_matmul(mat, w2, *, fmt, cap: int):
    """Jitted core: dense ``mat`` to ``fmt`` with ``nse = cap``, times ``w2``."""
    return fmt.fromdense(mat, nse=cap) @ w2


def _format_conv(fmt, spikes, w, stride, padding, capacity, overflow, fn):
    spikes, w = check_conv_args(spikes, w, fn)
    kh, kw, c, o = w.shape
    p = patches(spikes, kh, kw, stride, padding)
    lead = p.shape[:3]
    mat = p.reshape(-1, kh * kw * c)
    count = jnp.sum(mat != 0, dtype=jnp.int32)
    cap = resolve_capacity(capacity, lambda: count, mat.size, _checks.is_concrete(spikes))

    def sparse():
        return _sparse_matmul(mat, w.reshape(kh * kw * c, o), fmt=fmt, cap=cap).reshape(*lead, o)

    return guarded(count, cap, overflow, sparse, lambda: conv(spikes, w, stride=stride, padding=padding),
                   fn, "non-zero patch entries")


def bcoo_conv(spikes: jax.Array, w: jax.Array, *, stride=1, padding: Padding = "SAME",
              capacity: int | None = None, overflow: str = "error") -> jax.Array:
    """Strategy "bcoo": patch matrix ``[N*Ho*Wo, kh*kw*C]`` as ``BCOO`` times ``w [kh*kw*C, O]``.

    Args:
        spikes: ``[N, H, W, C]``; binary spikes, or any values (the stored entries keep them).
        w: weights ``[kh, kw, C, O]``.
        stride, padding: as in ``tacjax.sparse.conv``.
        capacity: static ``nse`` (stored non-zeros of the patch matrix, about kh*kw times the
            input spike count). None: the count rounded up to a power of two for concrete input, the
            full size when traced.
        overflow: "error" or "dense".

    Returns:
        ``[N, Ho, Wo, O]``.
    """
    return _format_conv(jsparse.BCOO, spikes, w, stride, padding, capacity, overflow, "bcoo_conv")


def bcsr_conv(spikes: jax.Array, w: jax.Array, *, stride=1, padding: Padding = "SAME",
              capacity: int | None = None, overflow: str = "error") -> jax.Array:
    """Strategy "bcsr": as ``bcoo_conv`` with the patch matrix stored as ``BCSR``.

    Args and returns as in ``bcoo_conv``.
    """
    return _format_conv(jsparse.BCSR, spikes, w, stride, padding, capacity, overflow, "bcsr_conv")
