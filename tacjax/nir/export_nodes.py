"""tacjax neurons and layers -> NIR nodes (``to_nir``'s pieces; parameters read as NumPy).

A ``Builder`` grows a chain of NIR nodes: each ``add`` appends a node fed by the previous one,
tracking the NIR shape (channels first) of the current output and whether it is binary
(spikes), which a max-pool needs. ``neuron_nodes`` maps one neuron parameter object to NIR
nodes (the semantics table of ``tacjax.nir``, read backwards); ``emitters()`` maps each
non-container ``tacjax.nn`` layer class to the function that adds its nodes. Anything NIR cannot
express exactly raises a ValueError naming the layer.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from tacjax.common.windows import padding_pairs
from tacjax.neurons import ALIFParams, LIFParams, SynapticParams
from tacjax.nir._compat import require_nir

__all__ = ["Builder", "below", "emitters", "neuron_nodes", "resolve_perm"]


def _fail(name: str, layer, message: str):
    raise ValueError(f"to_nir: layer {name!r} ({type(layer).__name__}): {message}")


def below(threshold) -> np.ndarray:
    """The largest float32 below ``threshold`` (float32): NIR's ``v > below(t)`` is tacjax's ``v >= t``."""
    t = np.asarray(threshold, np.float32)
    return np.nextafter(t, np.float32(-np.inf)).astype(np.float64)


class Builder:
    """The graph under construction: ``nodes``, ``edges``, the current output (``last``, its NIR
    ``shape``, ``binary``: whether it holds spikes) and a pending flatten permutation ``perm``
    (tacjax flattens (H, W, C), NIR (C, H, W); the next dense layer's weights absorb it)."""

    def __init__(self, input_shape: tuple[int, ...], dt: float, approximate_subtract: bool):
        nir = require_nir()
        self.nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array(input_shape)})}
        self.edges: list[tuple[str, str]] = []
        self.last, self.shape, self.binary, self.perm = "input", tuple(input_shape), False, None
        self.dt, self.approximate_subtract = dt, approximate_subtract
        self.notes: list[str] = []

    def add(self, name: str, node, shape: tuple[int, ...], binary: bool) -> str:
        if name in self.nodes:
            raise ValueError(f"to_nir: two nodes would be named {name!r}; rename a layer.")
        self.nodes[name] = node
        self.edges.append((self.last, name))
        self.last, self.shape, self.binary = name, tuple(int(n) for n in shape), binary
        return name


def _per_element(value, shape: tuple[int, ...], name: str, layer, what: str) -> np.ndarray:
    """A neuron field (a scalar or per channel ``[C]``) as an array of NIR shape ``(C, *S)``."""
    a = np.asarray(value, np.float64)
    if a.ndim == 0:
        return np.full(shape, float(a))
    if a.shape == (shape[0],):
        return np.broadcast_to(a.reshape(-1, *[1] * (len(shape) - 1)), shape).copy()
    _fail(name, layer, f"neuron field `{what}` has shape {a.shape}; expected a scalar or ({shape[0]},).")


def _tau(decay: np.ndarray, dt: float) -> np.ndarray:
    """The time constant of a per-step decay: ``dt / (1 - decay)`` (decay < 1)."""
    return dt / (1.0 - decay)


def neuron_nodes(params, shape: tuple[int, ...], b: Builder, name: str, layer) -> list:
    """NIR nodes ``[(suffix, node)]`` for tacjax neuron ``params`` on outputs of NIR ``shape``.

    LIF ``beta < 1`` -> ``LIF(tau = dt/(1-beta), r = tau/dt, v_leak, v_threshold = below(thr),
    v_reset)`` (input gain ``dt*r/tau = 1``); ``beta = 1`` -> ``IF(r = 1/dt)``; reset "none" ->
    ``LI`` (or ``I``) then ``Threshold``; synaptic -> ``CubaLIF(tau_syn = dt/(1-alpha), tau_mem,
    r = tau_mem/dt, w_in = tau_syn/dt)``.
    """
    nir = require_nir()
    dt = b.dt
    if isinstance(params, ALIFParams):
        _fail(name, layer, "the adaptive (ALIF) neuron has no NIR primitive (NIR has no adaptive "
                           "threshold); it cannot be exported.")
    if not isinstance(params, LIFParams | SynapticParams):
        _fail(name, layer, f"neuron parameters {type(params).__name__} cannot be exported.")
    if params.reset == "subtract" and not b.approximate_subtract:
        _fail(name, layer, "reset 'subtract' has no exact NIR form (NIR neurons reset to v_reset). "
                           "Pass approximate_subtract=True to export it as reset to v_reset = 0 "
                           "(spikes then differ; see tacjax.nir for the measured gap), or build the "
                           "layer with reset='zero'.")
    if params.reset == "subtract":
        b.notes.append(f"layer {name!r}: reset 'subtract' exported as reset to 0 (approximate)")
    field = {f: _per_element(getattr(params, f), shape, name, layer, f)
             for f in ("beta", "threshold", "v_leak", "v_reset")}
    beta = field["beta"]
    thr, v_leak, v_reset = below(field["threshold"]), field["v_leak"], field["v_reset"]
    spiking = params.reset != "none"
    if isinstance(params, SynapticParams):
        alpha = _per_element(params.alpha, shape, name, layer, "alpha")
        if np.any(alpha >= 1) or np.any(beta >= 1):
            _fail(name, layer, "CubaLIF needs alpha < 1 and beta < 1 (finite tau_syn, tau_mem); got "
                               f"max alpha {alpha.max()!r}, max beta {beta.max()!r}.")
        tau_syn, tau_mem = _tau(alpha, dt), _tau(beta, dt)
        common = dict(tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / dt, v_leak=v_leak, w_in=tau_syn / dt)
        if not spiking:
            return [("cuba_li", nir.CubaLI(**common)), ("threshold", nir.Threshold(thr))]
        return [("cuba_lif", nir.CubaLIF(**common, v_threshold=thr, v_reset=v_reset))]
    if np.all(beta == 1):
        if not spiking:
            return [("i", nir.I(r=np.full(shape, 1.0 / dt))), ("threshold", nir.Threshold(thr))]
        return [("if", nir.IF(r=np.full(shape, 1.0 / dt), v_threshold=thr, v_reset=v_reset))]
    if np.any(beta == 1):
        _fail(name, layer, "beta mixes 1 (IF) and values below 1 (LIF) across channels; NIR's LIF "
                           "needs a finite tau and IF has no leak, so one node cannot hold both.")
    tau = _tau(beta, dt)
    if not spiking:
        return [("li", nir.LI(tau=tau, r=tau / dt, v_leak=v_leak)), ("threshold", nir.Threshold(thr))]
    return [("lif", nir.LIF(tau=tau, r=tau / dt, v_leak=v_leak, v_threshold=thr, v_reset=v_reset))]


def _add_neuron(b: Builder, params, name: str, layer) -> None:
    shape = b.shape
    for suffix, node in neuron_nodes(params, shape, b, name, layer):
        b.add(f"{name}.{suffix}", node, shape, binary=True)


def _dense(b: Builder, layer, name: str, suffix: str = "affine") -> None:
    """``x @ kernel (+ bias)`` as ``Affine``/``Linear`` with ``W = kernel.T`` (rows permuted by a
    pending flatten permutation)."""
    nir = require_nir()
    kernel = np.asarray(layer.kernel[...], np.float64)
    if b.shape != (kernel.shape[0],):
        _fail(name, layer, f"takes {kernel.shape[0]} features; it receives NIR shape {b.shape}.")
    if b.perm is not None:
        kernel, b.perm = kernel[b.perm], None
    w = np.ascontiguousarray(kernel.T)
    node = nir.Linear(w) if layer.bias is None else nir.Affine(w, np.asarray(layer.bias[...], np.float64))
    b.add(f"{name}.{suffix}", node, (w.shape[0],), binary=False)


def emit_dense(b: Builder, layer, name: str, power: int = 1) -> None:
    _dense(b, layer, name)
    _add_neuron(b, layer.neuron_params(), name, layer)


def emit_recurrent(b: Builder, layer, name: str, power: int = 1) -> None:
    """``Affine`` into the neuron and ``Linear(recurrent_kernel.T)`` from its spikes back into it: the
    loader delays the edge leaving the neuron, so the neuron reads ``W_rec z[t-1]``."""
    nir = require_nir()
    _dense(b, layer, name)
    n = layer.out_features
    _add_neuron(b, layer.neuron_params(), name, layer)
    spikes = b.last
    into = next(t for s, t in b.edges if s == f"{name}.affine")
    w_rec = np.ascontiguousarray(np.asarray(layer.recurrent_kernel[...], np.float64).T)
    b.nodes[f"{name}.w_rec"] = nir.Linear(w_rec)
    b.edges += [(spikes, f"{name}.w_rec"), (f"{name}.w_rec", into)]
    b.last, b.shape = spikes, (n,)


def emit_readout(b: Builder, layer, name: str, power: int = 1) -> None:
    """Dense + leaky integrator: ``Affine`` then ``LI(tau = dt/(1-beta), r = tau/dt)`` (``I`` for beta 1)."""
    nir = require_nir()
    _dense(b, layer, name)
    beta = _per_element(layer.neuron_params(), b.shape, name, layer, "beta")
    if np.all(beta == 1):
        b.add(f"{name}.i", nir.I(r=np.full(b.shape, 1.0 / b.dt)), b.shape, binary=False)
        return
    if np.any(beta == 1):
        _fail(name, layer, "beta mixes 1 and values below 1; NIR's LI needs a finite tau.")
    tau = _tau(beta, b.dt)
    b.add(f"{name}.li", nir.LI(tau=tau, r=tau / b.dt, v_leak=np.zeros(b.shape)), b.shape, binary=False)


def _spatial(b: Builder, layer, name: str, n: int, channels: int | None = None) -> tuple[int, ...]:
    if len(b.shape) != n + 1 or (channels is not None and b.shape[0] != channels):
        want = f"({channels if channels is not None else 'C'}, {n} spatial dims)"
        _fail(name, layer, f"takes NIR shape {want}; it receives {b.shape}.")
    return b.shape[1:]


def _symmetric(pairs, name: str, layer) -> tuple[int, ...]:
    if any(lo != hi for lo, hi in pairs):
        _fail(name, layer, f"padding {tuple(pairs)} is asymmetric; NIR pads both sides equally "
                           "(use an odd kernel with stride 1, or explicit symmetric padding).")
    return tuple(lo for lo, _ in pairs)


def _conv_node(b: Builder, weight, stride, pads, bias, spatial):
    """A NIR Conv1d/Conv2d with ``weight`` ``(C_out, C_in/groups, *k)`` on input ``spatial``."""
    nir = require_nir()
    n, c_out = len(spatial), weight.shape[0]
    groups = b.shape[0] // weight.shape[1]
    out = tuple((s + 2 * p - k) // st + 1 for s, p, k, st in zip(spatial, pads, weight.shape[2:], stride,
                                                                  strict=True))
    bias = np.zeros(c_out) if bias is None else bias
    if n == 1:
        node = nir.Conv1d(input_shape=spatial[0], weight=weight, stride=stride[0], padding=pads[0],
                          dilation=1, groups=groups, bias=bias)
    else:
        node = nir.Conv2d(input_shape=spatial, weight=weight, stride=stride, padding=pads, dilation=1,
                          groups=groups, bias=bias)
    node.output_type = {"output": np.array((c_out, *out))}  # nir 1.0 sizes both dims with kx
    return node, (c_out, *out)


def _pool(b: Builder, layer, name: str, kind: str, window, strides, padding, n: int) -> None:
    """Sum / mean / max (of spikes) pooling: ``SumPool2d``/``AvgPool2d`` in 2-D, a ``Conv1d`` with
    ones (or ``1/k``) from each channel to itself in 1-D; max is the sum then ``Threshold(0.5)``."""
    nir = require_nir()
    if kind == "max" and not b.binary:
        _fail(name, layer, "max-pool exports as SumPool2d then Threshold(0.5), exact only on binary "
                           "spikes; its input is not the output of a spiking layer.")
    spatial = _spatial(b, layer, name, n)
    pads = _symmetric(padding_pairs(padding, spatial, window, strides), name, layer)
    c = b.shape[0]
    if n == 2:
        cls = nir.AvgPool2d if kind == "avg" else nir.SumPool2d
        out = tuple((s + 2 * p - k) // st + 1 for s, p, k, st in zip(spatial, pads, window, strides,
                                                                      strict=True))
        b.add(f"{name}.{kind}pool", cls(np.array(window), np.array(strides), np.array(pads)), (c, *out),
              binary=False)
    else:  # weight[c, c, :] = 1 (or 1/k): NIR 1.0's types ignore groups, so no depthwise conv
        weight = np.zeros((c, c, window[0]))
        weight[np.arange(c), np.arange(c)] = 1.0 / window[0] if kind == "avg" else 1.0
        node, shape = _conv_node(b, weight, strides, pads, None, spatial)
        b.add(f"{name}.{kind}pool", node, shape, binary=False)
    if kind == "max":
        b.add(f"{name}.maxpool_threshold", nir.Threshold(np.full(b.shape, 0.5)), b.shape, binary=True)


def emit_conv(b: Builder, layer, name: str, power: int = 1) -> None:
    """Conv (HWIO -> ``(C_out, C_in, kx, ky)``), neuron, then the max-pool of its spikes; ``power``
    K > 1 exports a TAC collapse layer's chunk step (its neuron with ``beta**K``)."""
    n = layer.spatial_dims
    spatial = _spatial(b, layer, name, n, layer.in_features)
    pads = _symmetric(padding_pairs(layer.padding, spatial, layer.kernel_size, layer.strides), name, layer)
    kernel = np.asarray(layer.kernel[...], np.float64)
    weight = np.ascontiguousarray(np.transpose(kernel, (n + 1, n, *range(n))))
    bias = None if layer.bias is None else np.asarray(layer.bias[...], np.float64)
    node, shape = _conv_node(b, weight, layer.strides, pads, bias, spatial)
    b.add(f"{name}.conv", node, shape, binary=False)
    params = layer.neuron_params()
    if power > 1:  # a TAC collapse layer: one step per chunk with leak beta**K, as tacjax.tac computes it
        params = dataclasses.replace(params, beta=np.asarray(jnp.asarray(params.beta, jnp.float32) ** power))
    _add_neuron(b, params, name, layer)
    if layer.pool and layer.pool > 1:
        window = (layer.pool,) * n
        _pool(b, layer, name, "max", window, window, "VALID", n)


def emit_flatten(b: Builder, layer, name: str, power: int = 1) -> None:
    """NIR's ``Flatten`` (channels-first order) and the permutation to tacjax's (H, W, C) order,
    which the next dense layer absorbs (or a ``Linear`` of a permutation matrix at the end)."""
    nir = require_nir()
    if len(b.shape) < 2:
        return
    spatial_first = (*b.shape[1:], b.shape[0])
    perm = np.arange(math.prod(b.shape)).reshape(spatial_first).transpose(len(b.shape) - 1,
                                                                           *range(len(b.shape) - 1)).ravel()
    b.add(name, nir.Flatten(input_type={"input": np.array(b.shape)}, start_dim=0, end_dim=-1),
          (math.prod(b.shape),), binary=b.binary)
    b.perm = None if np.array_equal(perm, np.arange(perm.size)) else perm


def resolve_perm(b: Builder, name: str) -> None:
    """A pending flatten permutation that no dense layer absorbed, as a ``Linear`` permutation matrix."""
    nir = require_nir()
    if b.perm is None:
        return
    p = np.zeros((b.perm.size, b.perm.size))
    p[b.perm, np.arange(b.perm.size)] = 1.0
    b.perm = None
    b.add(name, nir.Linear(p), b.shape, binary=b.binary)


def _emit_pool(kind: str):
    def emit(b: Builder, layer, name: str, power: int = 1) -> None:
        _pool(b, layer, name, kind, layer.window, layer.strides, layer.padding, layer.spatial_dims)
    return emit


def emit_dropout(b: Builder, layer, name: str, power: int = 1) -> None:
    """Dropout is the identity at inference (eval); nothing is added."""


def emitters() -> dict[type, Any]:
    """``tacjax.nn`` layer class -> emitter ``(builder, layer, name, power)``."""
    from tacjax import nn

    return {nn.SpikingDense: emit_dense, nn.SpikingRecurrentDense: emit_recurrent, nn.LIReadout: emit_readout,
            nn.SpikingConv: emit_conv, nn.SpikingConv1D: emit_conv, nn.Flatten: emit_flatten,
            nn.MaxPool: _emit_pool("max"), nn.AvgPool: _emit_pool("avg"), nn.SumPool: _emit_pool("sum"),
            nn.SpikingDropout: emit_dropout}

