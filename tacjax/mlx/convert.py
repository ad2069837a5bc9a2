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
twin of a ``tacjax.models`` network, a ``tacjax.nn`` layer or a ``SpikingSequential`` of them
(same configuration, neuron parameters with every field) and copies the weights;
``mlx_to_jax(mlx_model, nnx_model)`` copies MLX weights back into an NNX model built with the
same arguments. Names map ``kernel`` <-> ``weight`` (conv kernels ``[*k, C, O]`` <-> ``[O, *k, C]``,
dense ``[F, O]`` <-> ``[O, F]``); ``bias``, ``beta``, ``threshold``, ``agg_logits`` and
``recurrent_kernel`` (``[N, N]``, the core's ``w_rec`` layout in both backends) keep their names
and layouts.
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


def _mlx_neuron(neuron):
    """The MLX twin of a (frozen) JAX neuron parameter object, every field copied."""
    import dataclasses

    from tacjax.mlx import neurons as mneurons

    cls = getattr(mneurons, type(neuron).__name__, None)
    if cls is None:
        raise TypeError(f"jax_to_mlx: the neuron {type(neuron).__name__} has no MLX twin.")
    return cls(**{f.name: getattr(neuron, f.name) for f in dataclasses.fields(neuron)})


_NAMES = {"kernel": "weight", "bias": "bias", "beta": "beta", "threshold": "threshold",
          "agg_logits": "agg_logits", "recurrent_kernel": "recurrent_kernel"}
"""NNX parameter name -> MLX parameter name."""


def _to_mlx_layout(name: str, a: np.ndarray) -> np.ndarray:
    if name != "kernel":
        return a
    return a.T if a.ndim == 2 else np.moveaxis(a, -1, 0)


def _to_jax_layout(name: str, a: np.ndarray) -> np.ndarray:
    if name != "kernel":
        return a
    return np.ascontiguousarray(a.T if a.ndim == 2 else np.moveaxis(a, 0, -1))


def _spiking_kwargs(layer, surrogate) -> dict:
    return dict(neuron=_mlx_neuron(layer.neuron), surrogate=_mlx_surrogate(layer.surrogate, surrogate),
                learn_beta=layer.beta is not None, learn_threshold=layer.threshold is not None)


def _twin(layer, surrogate):
    """The MLX twin (same configuration, fresh weights) of one NNX layer or network."""
    from tacjax import models as jm
    from tacjax import nn as jn
    from tacjax.mlx import models as mm
    from tacjax.mlx import nn as mn

    if isinstance(layer, jm.ConvSNN):
        convs = layer.convs()
        first = _spiking_kwargs(convs[0], surrogate)
        kw = dict(in_size=layer.in_size, channels=[c.out_features for c in convs],
                  num_classes=layer.num_classes, modes=[c.mode for c in convs], ks=[c.k for c in convs],
                  pool=convs[0].pool, learn_weights=any(c.agg_logits is not None for c in convs),
                  use_bias=convs[0].bias is not None, share=convs[0].share, **first)
        cls = {jm.MNISTNet: mm.MNISTNet, jm.DVSGestureNet: mm.DVSGestureNet}.get(type(layer))
        return cls(**kw) if cls is not None else mm.ConvSNN(in_channels=layer.in_channels, **kw)
    if isinstance(layer, jn.SpikingSequential):
        return mn.SpikingSequential(*(_twin(sub, surrogate) for sub in layer.layers))
    if isinstance(layer, jn.SpikingConv | jn.SpikingConv1D):
        cls = mn.SpikingConv if isinstance(layer, jn.SpikingConv) else mn.SpikingConv1D
        return cls(layer.in_features, layer.out_features, layer.kernel_size, strides=layer.strides,
                   padding=layer.padding, mode=layer.mode, k=layer.k, pool=layer.pool,
                   learn_weights=layer.agg_logits is not None, use_bias=layer.bias is not None,
                   share=layer.share, solver=layer.solver, **_spiking_kwargs(layer, surrogate))
    if isinstance(layer, jn.SpikingDense):
        kw = dict(use_bias=layer.bias is not None, **_spiking_kwargs(layer, surrogate))
        if isinstance(layer, jn.SpikingRecurrentDense):
            return mn.SpikingRecurrentDense(layer.in_features, layer.out_features, **kw)
        return mn.SpikingDense(layer.in_features, layer.out_features, solver=layer.solver, **kw)
    if isinstance(layer, jn.LIReadout):
        return mn.LIReadout(layer.in_features, layer.out_features, beta=layer.fixed_beta,
                            learn_beta=layer.beta is not None, use_bias=layer.bias is not None)
    pools = {jn.MaxPool: mn.MaxPool, jn.AvgPool: mn.AvgPool, jn.SumPool: mn.SumPool}
    if isinstance(layer, tuple(pools)):
        cls = next(m for j, m in pools.items() if isinstance(layer, j))
        return cls(layer.window, layer.strides, layer.padding, spatial_dims=layer.spatial_dims)
    if isinstance(layer, jn.Flatten):
        return mn.Flatten()
    if isinstance(layer, jn.SpikingDropout):
        return mn.SpikingDropout(layer.rate, per_step=layer.per_step, deterministic=layer.deterministic)
    raise TypeError(f"jax_to_mlx: expected a tacjax.models network or a tacjax.nn layer; got "
                    f"{type(layer).__name__}.")


def _children(layer) -> list[tuple[str, object]]:
    """``(MLX path, NNX sub-layer)`` of a network; empty for a single layer."""
    from tacjax import models as jm
    from tacjax import nn as jn

    if isinstance(layer, jm.ConvSNN):
        return [(f"conv{i + 1}", c) for i, c in enumerate(layer.convs())] + [("fc", layer.fc)]
    if isinstance(layer, jn.SpikingSequential):
        return [(f"layers.{i}", sub) for i, sub in enumerate(layer.layers)]
    return []


def _arrays(layer, prefix: str = "") -> dict[str, np.ndarray]:
    """Flat ``{MLX parameter path: MLX-layout array}`` of an NNX layer or network."""
    children = _children(layer)
    if children:
        return {k: v for name, sub in children for k, v in _arrays(sub, f"{prefix}{name}.").items()}
    out = {}
    for name, mlx_name in _NAMES.items():
        p = getattr(layer, name, None)
        if p is not None:
            out[prefix + mlx_name] = _to_mlx_layout(name, to_numpy(p[...]))
    return out


def jax_to_mlx(nnx_model, *, surrogate=None):
    """Build the MLX twin of a Flax NNX model and copy its weights (conv kernels HWIO -> OHWI,
    dense kernels ``(in, out)`` -> ``(out, in)``).

    Args:
        nnx_model: a ``tacjax.models.ConvSNN`` (``MNISTNet``, ``DVSGestureNet``), a ``tacjax.nn``
            layer, or a ``tacjax.nn.SpikingSequential`` of them.
        surrogate: the MLX spike function to use; None maps ``tacjax.SURROGATES`` entries and
            ``get_surrogate(name, slope)`` closures to their MLX twins.

    Returns:
        The ``tacjax.mlx`` module with the same configuration and weights.
    """
    from mlx.utils import tree_flatten, tree_unflatten

    out = _twin(nnx_model, surrogate)
    new = _arrays(nnx_model)
    have = dict(tree_flatten(out.parameters()))
    if set(have) != set(new):
        raise ValueError(f"jax_to_mlx: parameter names differ: MLX model has {sorted(have)}, the source "
                         f"has {sorted(new)}.")
    for name, a in new.items():
        if tuple(have[name].shape) != a.shape:
            raise ValueError(f"jax_to_mlx: `{name}` has shape {a.shape} in the source but "
                             f"{tuple(have[name].shape)} in the MLX model.")
    out.update(tree_unflatten([(n, to_mlx(a)) for n, a in new.items()]))
    return out


def _mlx_child(mlx_layer, path: str):
    """The sub-module at ``path`` ("conv1", "layers.2") of an MLX network, or None."""
    for part in path.split("."):
        if part.isdigit():
            layers = mlx_layer if isinstance(mlx_layer, list) else []
            mlx_layer = layers[int(part)] if int(part) < len(layers) else None
        else:
            mlx_layer = getattr(mlx_layer, part, None)
    return mlx_layer


def _store(mlx_layer, nnx_layer, prefix: str) -> None:
    import jax.numpy as jnp

    children = _children(nnx_layer)
    if children:
        n_mlx = len(getattr(mlx_layer, "layers", [])) if children[0][0].startswith("layers.") else None
        if n_mlx is not None and n_mlx != len(children):
            raise ValueError(f"mlx_to_jax: `{prefix}layers` has {n_mlx} layers in the MLX model but "
                             f"{len(children)} in the NNX model.")
        for name, sub in children:
            mlx_sub = _mlx_child(mlx_layer, name)
            if mlx_sub is None:
                raise ValueError(f"mlx_to_jax: `{prefix}{name}` exists in only one of the two models.")
            _store(mlx_sub, sub, f"{prefix}{name}.")
        return
    for name, mlx_name in _NAMES.items():
        target = getattr(nnx_layer, name, None)
        src = mlx_layer.get(mlx_name) if hasattr(mlx_layer, "get") else None
        if (target is None) != (src is None):
            raise ValueError(f"mlx_to_jax: `{prefix}{name}` exists in only one of the two models.")
        if target is None:
            continue
        a = _to_jax_layout(name, to_numpy(src))
        if a.shape != tuple(target[...].shape):
            raise ValueError(f"mlx_to_jax: `{prefix}{name}` has shape {a.shape} (JAX layout) in the "
                             f"MLX model but {tuple(target[...].shape)} in the NNX model.")
        target[...] = jnp.asarray(a, target[...].dtype)


def mlx_to_jax(mlx_model, nnx_model):
    """Copy the weights of an MLX model into a Flax NNX model of the same configuration.

    Args:
        mlx_model: a ``tacjax.mlx.models`` network, ``tacjax.mlx.nn`` layer or sequential.
        nnx_model: the matching ``tacjax.models`` / ``tacjax.nn`` module (e.g. freshly built
            with the same arguments); updated in place.

    Returns:
        ``nnx_model``, with the MLX weights (OHWI -> HWIO, ``(out, in)`` -> ``(in, out)``).
    """
    from tacjax import models as jm

    if isinstance(nnx_model, jm.ConvSNN) and getattr(mlx_model, "num_layers", None) != nnx_model.num_layers:
        raise ValueError(f"mlx_to_jax: the models have different numbers of conv layers: "
                         f"{getattr(mlx_model, 'num_layers', None)} vs {nnx_model.num_layers}.")
    _store(mlx_model, nnx_model, "")
    return nnx_model
