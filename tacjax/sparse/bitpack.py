"""Bit-packed spikes: channels packed into ``uint32`` words, then mask-and-accumulate.

``pack_channels`` stores ``min(32, C)`` channels per word (32x less spike memory for C >= 32).
The convolution extracts patches of *words* (``kh*kw*ceil(C/32)`` per output position) and, for
each word column, adds weight row ``b`` wherever bit ``b`` is set: a select and an add per bit,
no multiplication (``lax.scan`` over word columns, the 32 bits unrolled and fused by XLA).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.sparse._common import Padding, check_conv_args, require_binary
from tacjax.sparse.im2col import patches

__all__ = ["bitpack_conv", "pack_channels", "unpack_channels"]


def _bits_per_word(c: int) -> int:
    return min(32, c)


def pack_channels(spikes: jax.Array) -> jax.Array:
    """Pack the channel axis of binary spikes ``[..., C]`` into ``[..., ceil(C/b)]`` uint32 words.

    Bit ``j`` of word ``q`` holds channel ``q*b + j`` with ``b = min(32, C)`` bits per word
    (missing channels of the last word are zero). Any non-zero value counts as a spike.
    """
    x = jnp.asarray(spikes)
    _checks.check_min_rank(x, 1, "spikes", "pack_channels", "[..., C]")
    c = x.shape[-1]
    nb = _bits_per_word(c)
    nw = -(-c // nb)
    bits = (x != 0).astype(jnp.uint32)
    bits = jnp.pad(bits, [(0, 0)] * (x.ndim - 1) + [(0, nw * nb - c)])
    bits = bits.reshape(*x.shape[:-1], nw, nb)
    return jnp.sum(bits << jnp.arange(nb, dtype=jnp.uint32), axis=-1, dtype=jnp.uint32)


def unpack_channels(words: jax.Array, c: int, dtype=jnp.float32) -> jax.Array:
    """Inverse of ``pack_channels``: ``[..., nw]`` words to ``[..., C]`` spikes of ``dtype``."""
    words = jnp.asarray(words, jnp.uint32)
    nb = _bits_per_word(c)
    bits = (words[..., None] >> jnp.arange(nb, dtype=jnp.uint32)) & 1
    return bits.reshape(*words.shape[:-1], -1)[..., :c].astype(dtype)


def bitpack_conv(spikes: jax.Array, w: jax.Array, *, stride=1, padding: Padding = "SAME") -> jax.Array:
    """Strategy "bitpack": packed-word patches, then mask-and-accumulate of weight rows.

    Args:
        spikes: binary spikes ``[N, H, W, C]``.
        w: weights ``[kh, kw, C, O]``.
        stride, padding: as in ``tacjax.sparse.conv``.

    Returns:
        ``[N, Ho, Wo, O]``.
    """
    spikes, w = check_conv_args(spikes, w, "bitpack_conv")
    require_binary(spikes, "bitpack_conv")
    kh, kw, c, o = w.shape
    nb = _bits_per_word(c)
    nw = -(-c // nb)
    words = patches(pack_channels(spikes), kh, kw, stride, padding)  # [N, Ho, Wo, kh*kw*nw]
    lead = words.shape[:3]
    cols = words.reshape(-1, kh * kw * nw).T  # [kh*kw*nw, M]
    wp = jnp.pad(w, ((0, 0), (0, 0), (0, nw * nb - c), (0, 0))).reshape(kh * kw * nw, nb, o)

    return _mask_accumulate(cols, wp).reshape(*lead, o)


@jax.jit
def _mask_accumulate(cols, wp):
    """``sum_q sum_b [bit b of cols[q]] * wp[q, b]``: a scan over word columns, bits unrolled."""
    nb, o = wp.shape[1:]

    def body(acc, xs):
        word, wrows = xs
        for b in range(nb):
            acc = acc + jnp.where(((word >> b) & 1)[:, None] == 1, wrows[b][None], 0.0)
        return acc, None

    acc, _ = jax.lax.scan(body, jnp.zeros((cols.shape[1], o), wp.dtype), (cols, wp))
    return acc
