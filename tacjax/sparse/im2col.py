"""im2col: convolution as one GEMM, in two layouts.

* ``patches`` (internal layout, used by the strategies): ``[N, Ho, Wo, kh*kw*C]`` with column
  ``(i*kw + j)*C + c`` (tap-major, channel-minor), so ``w.reshape(kh*kw*C, O)`` is the GEMM
  weight and no transpose is needed.
* ``im2col`` (Prosperity's GEMM layout, used for product/bit density): rows are
  ``(b, oy, ox, t)`` with the T timesteps of one output position adjacent, columns
  ``c*kh*kw + i*kw + j``; ``gemm_weights`` gives the matching ``[C*kh*kw, O]`` weights.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.sparse._common import Padding, check_conv_args, geometry

__all__ = ["gemm_weights", "im2col", "im2col_matmul", "patches"]


def patches(spikes: jax.Array, kh: int, kw: int, stride=1, padding: Padding = "SAME") -> jax.Array:
    """Extract conv patches by strided slicing (no convolution is called).

    Args:
        spikes: ``[N, H, W, C]``.
        kh, kw: kernel size.
        stride, padding: as in ``tacjax.sparse.conv``.

    Returns:
        ``[N, Ho, Wo, kh*kw*C]``, column ``(i*kw + j)*C + c`` for tap ``(i, j)`` and channel ``c``.
    """
    spikes = jnp.asarray(spikes)
    _checks.check_rank(spikes, 4, "spikes", "patches", "[N, H, W, C]")
    (sh, sw), p, (ho, wo) = geometry(spikes.shape, (kh, kw), stride, padding, "patches")
    x = jnp.pad(spikes, ((0, 0), p[0], p[1], (0, 0)))
    taps = [x[:, i: i + (ho - 1) * sh + 1: sh, j: j + (wo - 1) * sw + 1: sw, :]
            for i in range(kh) for j in range(kw)]
    return jnp.concatenate(taps, axis=-1)


def im2col_matmul(spikes: jax.Array, w: jax.Array, *, stride=1, padding: Padding = "SAME") -> jax.Array:
    """Strategy "im2col": patches ``[N*Ho*Wo, kh*kw*C]`` times ``w [kh*kw*C, O]``, one dense matmul.

    Args:
        spikes: ``[N, H, W, C]`` (any values).
        w: ``[kh, kw, C, O]``.
        stride, padding: as in ``tacjax.sparse.conv``.

    Returns:
        ``[N, Ho, Wo, O]``.
    """
    spikes, w = check_conv_args(spikes, w, "im2col_matmul")
    kh, kw, c, o = w.shape
    p = patches(spikes, kh, kw, stride, padding)
    out = p.reshape(-1, kh * kw * c) @ w.reshape(kh * kw * c, o)
    return out.reshape(*p.shape[:3], o)


def im2col(spikes_t: jax.Array, k, stride, padding: Padding) -> jax.Array:
    """Prosperity's GEMM matrix of a spiking convolution's input.

    Args:
        spikes_t: time-major spikes ``[T, H, W, C]`` (one sample) or ``[T, B, H, W, C]``.
        k: kernel size, int or ``(kh, kw)``.
        stride: int or pair.
        padding: "SAME", "VALID", an int, or ``((top, bottom), (left, right))``.

    Returns:
        ``[B*Ho*Wo*T, C*kh*kw]`` (B = 1 for a 4-D input): row ``((b*Ho + oy)*Wo + ox)*T + t``,
        column ``c*kh*kw + i*kw + j``. Dtype of ``spikes_t``.
    """
    x = jnp.asarray(spikes_t)
    if x.ndim == 4:
        x = x[:, None]
    if x.ndim != 5:
        raise ValueError(f"im2col: `spikes_t` must have shape [T, H, W, C] or [T, B, H, W, C]; "
                         f"got {x.shape}.")
    kh, kw = (k, k) if isinstance(k, int) else tuple(k)
    t, b, h, wd, c = x.shape
    p = patches(x.reshape(t * b, h, wd, c), kh, kw, stride, padding)  # [(t b), Ho, Wo, (taps c)]
    ho, wo = p.shape[1:3]
    p = p.reshape(t, b, ho, wo, kh * kw, c)
    p = jnp.transpose(p, (1, 2, 3, 0, 5, 4))  # [b, Ho, Wo, t, c, taps]
    return p.reshape(b * ho * wo * t, c * kh * kw)


def gemm_weights(w: jax.Array) -> jax.Array:
    """HWIO weights ``[kh, kw, C, O]`` as ``[C*kh*kw, O]``, rows matching ``im2col``'s columns."""
    w = jnp.asarray(w)
    _checks.check_rank(w, 4, "w", "gemm_weights", "[kh, kw, C, O]")
    kh, kw, c, o = w.shape
    return jnp.transpose(w, (2, 0, 1, 3)).reshape(c * kh * kw, o)
