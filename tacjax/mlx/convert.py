"""Weight layout conversion between JAX/Flax and MLX.

=====================  =================================  ==================================
weight                 JAX / Flax NNX                     MLX (``mx.conv2d``, ``mlx.nn``)
=====================  =================================  ==================================
2-D conv kernel        ``(kh, kw, in, out)`` (HWIO)        ``(out, kh, kw, in)`` (OHWI)
dense kernel           ``(in, out)`` (``x @ W``)           ``(out, in)`` (``x @ W.T``)
bias, per-channel      ``(out,)``                         ``(out,)``
=====================  =================================  ==================================

Images are NHWC in both, and both compute cross-correlation (no kernel flip), so a
converted kernel gives the same convolution. Conversions copy through NumPy (float32 stays
float32; bfloat16 goes through float32).
"""

from __future__ import annotations

import mlx.core as mx
import numpy as np

__all__ = ["dense_to_jax", "dense_to_mlx", "hwio_to_ohwi", "ohwi_to_hwio", "to_mlx", "to_numpy"]


def to_numpy(a) -> np.ndarray:
    """Any array (``mx.array``, ``jax.Array``, NumPy) as a NumPy array; bfloat16 becomes float32."""
    if isinstance(a, mx.array):
        if a.dtype == mx.bfloat16:
            a = a.astype(mx.float32)
        return np.array(a)
    a = np.asarray(a)
    if a.dtype.name == "bfloat16":
        a = a.astype(np.float32)
    return a


def to_mlx(a) -> mx.array:
    """Any array as an ``mx.array`` (same values; float64 becomes float32)."""
    a = to_numpy(a)
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    return mx.array(a)


def _check_rank(a: np.ndarray, rank: int, fn: str, expected: str) -> None:
    if a.ndim != rank:
        raise ValueError(f"{fn}: expected a {rank}-D kernel {expected}; got shape {a.shape}.")


def hwio_to_ohwi(w) -> mx.array:
    """JAX conv kernel ``(kh, kw, in, out)`` -> MLX weight ``(out, kh, kw, in)``."""
    a = to_numpy(w)
    _check_rank(a, 4, "hwio_to_ohwi", "(kh, kw, in, out)")
    return to_mlx(np.transpose(a, (3, 0, 1, 2)))


def ohwi_to_hwio(w) -> np.ndarray:
    """MLX conv weight ``(out, kh, kw, in)`` -> JAX kernel ``(kh, kw, in, out)`` (NumPy)."""
    a = to_numpy(w)
    _check_rank(a, 4, "ohwi_to_hwio", "(out, kh, kw, in)")
    return np.ascontiguousarray(np.transpose(a, (1, 2, 3, 0)))


def dense_to_mlx(w) -> mx.array:
    """Flax dense kernel ``(in, out)`` -> ``mlx.nn.Linear`` weight ``(out, in)``."""
    a = to_numpy(w)
    _check_rank(a, 2, "dense_to_mlx", "(in, out)")
    return to_mlx(a.T)


def dense_to_jax(w) -> np.ndarray:
    """``mlx.nn.Linear`` weight ``(out, in)`` -> Flax dense kernel ``(in, out)`` (NumPy)."""
    a = to_numpy(w)
    _check_rank(a, 2, "dense_to_jax", "(out, in)")
    return np.ascontiguousarray(a.T)
