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

Whole models: ``jax_to_mlx(nnx_model)`` builds the ``tacjax.mlx.models`` / ``tacjax.mlx.nn``
twin of a ``tacjax.models`` / ``tacjax.nn`` module (same configuration) and copies the weights;
``mlx_to_jax(mlx_model, nnx_model)`` copies MLX weights back into an NNX model built with the
same arguments. Names map ``kernel`` <-> ``weight``; ``bias``, ``beta_logit`` and ``agg_logits``
keep their names and layouts.
"""

from __future__ import annotations

import re

import mlx.core as mx
import numpy as np

__all__ = [
    "dense_to_jax",
    "dense_to_mlx",
    "hwio_to_ohwi",
    "jax_to_mlx",
    "mlx_to_jax",
    "ohwi_to_hwio",
    "to_mlx",
    "to_numpy",
]


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


# ---------------------------------------------------------------------------------------------
# Whole models: tacjax.nn / tacjax.models (Flax NNX)  <->  tacjax.mlx.nn / tacjax.mlx.models

_SURROGATE_NAME = re.compile(r"^(\w+)\(slope=([-+0-9.eE]+)\)$")


def _mlx_surrogate(fn, override):
    """The MLX spike function matching a JAX one (a ``tacjax.SURROGATES`` entry or ``get_surrogate``)."""
    import tacjax
    from tacjax.mlx import surrogate as ms

    if override is not None:
        return override
    for name, f in tacjax.SURROGATES.items():
        if fn is f:
            return ms.SURROGATES[name]
    m = _SURROGATE_NAME.match(getattr(fn, "__name__", ""))
    if m and m.group(1) in ms.SURROGATES:
        return ms.get_surrogate(m.group(1), float(m.group(2)))
    raise TypeError(f"jax_to_mlx: cannot map the surrogate {fn!r} to MLX automatically (only "
                    f"tacjax.SURROGATES entries and get_surrogate(name, float) are); pass the MLX "
                    f"spike function as `surrogate=`.")


def _mlx_lif(lif):
    from tacjax.mlx.neurons import LIFParams

    return LIFParams(lif.beta, lif.threshold, lif.reset, lif.detach_reset)


def _get(layer, name):
    p = getattr(layer, name, None)
    return None if p is None else to_numpy(p[...])


def _layer_arrays(layer) -> dict[str, np.ndarray]:
    """MLX-layout arrays of one NNX SpikingConv/SpikingDense."""
    out = {}
    kernel = _get(layer, "kernel")
    out["weight"] = np.transpose(kernel, (3, 0, 1, 2)) if kernel.ndim == 4 else kernel.T
    for name in ("bias", "beta_logit", "agg_logits"):
        v = _get(layer, name)
        if v is not None:
            out[name] = v
    return out


def _conv_kwargs(layer, surrogate):
    return dict(mode=layer.mode, k=layer.k, lif=_mlx_lif(layer.lif),
                surrogate=_mlx_surrogate(layer.surrogate, surrogate), pool=layer.pool,
                learn_beta=layer.beta_logit is not None, learn_weights=layer.agg_logits is not None,
                use_bias=layer.bias is not None, share=layer.share)


def jax_to_mlx(nnx_model, *, surrogate=None):
    """Build the MLX twin of a Flax NNX model and copy its weights (conv kernels HWIO -> OHWI,
    dense kernels ``(in, out)`` -> ``(out, in)``).

    Args:
        nnx_model: a ``tacjax.models.ConvSNN`` (``MNISTNet``, ``DVSGestureNet``) or a
            ``tacjax.nn.SpikingConv`` / ``SpikingDense``.
        surrogate: the MLX spike function to use; None maps ``tacjax.SURROGATES`` entries and
            ``get_surrogate(name, slope)`` closures to their MLX twins.

    Returns:
        The ``tacjax.mlx`` module with the same configuration and weights.
    """
    from tacjax import models as jm
    from tacjax import nn as jn
    from tacjax.mlx import models as mm
    from tacjax.mlx import nn as mn

    if isinstance(nnx_model, jn.SpikingConv):
        kw = _conv_kwargs(nnx_model, surrogate)
        out = mn.SpikingConv(nnx_model.in_features, nnx_model.out_features, nnx_model.kernel_size, **kw)
        arrays = _layer_arrays(nnx_model)
    elif isinstance(nnx_model, jn.SpikingDense):
        out = mn.SpikingDense(nnx_model.in_features, nnx_model.out_features, lif=_mlx_lif(nnx_model.lif),
                              surrogate=_mlx_surrogate(nnx_model.surrogate, surrogate),
                              use_bias=nnx_model.bias is not None,
                              learn_beta=nnx_model.beta_logit is not None)
        arrays = _layer_arrays(nnx_model)
    elif isinstance(nnx_model, jm.ConvSNN):
        convs = nnx_model.convs()
        first = _conv_kwargs(convs[0], surrogate)
        kw = dict(num_steps=nnx_model.num_steps, in_size=nnx_model.in_size,
                  channels=[c.out_features for c in convs], num_classes=nnx_model.num_classes,
                  modes=[c.mode for c in convs], ks=[c.k for c in convs], lif=first["lif"],
                  surrogate=first["surrogate"], pool=first["pool"], learn_beta=first["learn_beta"],
                  learn_weights=any(c.agg_logits is not None for c in convs),
                  use_bias=first["use_bias"], share=first["share"])
        cls = {jm.MNISTNet: mm.MNISTNet, jm.DVSGestureNet: mm.DVSGestureNet}.get(type(nnx_model))
        if cls is None:
            out = mm.ConvSNN(in_channels=nnx_model.in_channels, **kw)
        else:
            out = cls(**kw)
        arrays = {f"conv{i + 1}": _layer_arrays(c) for i, c in enumerate(convs)}
        arrays["fc"] = _layer_arrays(nnx_model.fc)
    else:
        raise TypeError(f"jax_to_mlx: expected a tacjax.models.ConvSNN or a tacjax.nn layer; got "
                        f"{type(nnx_model).__name__}.")
    _load(out, arrays, "jax_to_mlx")
    return out


def _load(mlx_model, arrays, fn: str) -> None:
    from mlx.utils import tree_flatten, tree_unflatten

    have = dict(tree_flatten(mlx_model.parameters()))
    new = dict(tree_flatten(arrays))
    if set(have) != set(new):
        raise ValueError(f"{fn}: parameter names differ: MLX model has {sorted(have)}, the source "
                         f"has {sorted(new)}.")
    for name, a in new.items():
        if tuple(have[name].shape) != a.shape:
            raise ValueError(f"{fn}: `{name}` has shape {a.shape} in the source but "
                             f"{tuple(have[name].shape)} in the MLX model.")
    mlx_model.update(tree_unflatten([(n, to_mlx(a)) for n, a in new.items()]))


def _store(mlx_layer, nnx_layer, prefix: str) -> None:
    import jax.numpy as jnp

    for name in ("kernel", "bias", "beta_logit", "agg_logits"):
        target = getattr(nnx_layer, name, None)
        src = mlx_layer.get("weight" if name == "kernel" else name)
        if (target is None) != (src is None):
            raise ValueError(f"mlx_to_jax: `{prefix}{name}` exists in only one of the two models.")
        if target is None:
            continue
        a = to_numpy(src)
        if name == "kernel":
            a = ohwi_to_hwio(a) if a.ndim == 4 else dense_to_jax(a)
        if a.shape != tuple(target[...].shape):
            raise ValueError(f"mlx_to_jax: `{prefix}{name}` has shape {a.shape} (JAX layout) in the "
                             f"MLX model but {tuple(target[...].shape)} in the NNX model.")
        target[...] = jnp.asarray(a, target[...].dtype)


def mlx_to_jax(mlx_model, nnx_model):
    """Copy the weights of an MLX model into a Flax NNX model of the same configuration.

    Args:
        mlx_model: a ``tacjax.mlx.models.ConvSNN`` (or subclass) or ``tacjax.mlx.nn`` layer.
        nnx_model: the matching ``tacjax.models`` / ``tacjax.nn`` module (e.g. freshly built
            with the same arguments); updated in place.

    Returns:
        ``nnx_model``, with the MLX weights (OHWI -> HWIO, ``(out, in)`` -> ``(in, out)``).
    """
    from tacjax import models as jm

    if isinstance(nnx_model, jm.ConvSNN):
        if getattr(mlx_model, "num_layers", None) != nnx_model.num_layers:
            raise ValueError(f"mlx_to_jax: the models have different numbers of conv layers: "
                             f"{getattr(mlx_model, 'num_layers', None)} vs {nnx_model.num_layers}.")
        for i, c in enumerate(nnx_model.convs()):
            _store(getattr(mlx_model, f"conv{i + 1}"), c, f"conv{i + 1}.")
        _store(mlx_model.fc, nnx_model.fc, "fc.")
    else:
        _store(mlx_model, nnx_model, "")
    return nnx_model
