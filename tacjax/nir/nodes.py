"""NIR nodes -> tacjax specs (backend-free: NumPy only): the semantics of ``tacjax.nir`` as numbers.

Each handler takes a ``NodeContext`` (node name, the ``nir`` node, the NIR shape of its input, the
step ``dt`` and the input shapes its consumers expect) and returns a ``Spec``: the ``kind`` of
step a backend runs, its learnable parameters as float32 NumPy arrays in tacjax's layout
(channels last, dense kernels ``[in, out]``, conv kernels ``(*k, in/groups, out)``), static
settings and the NIR shape of the output. Anything a handler cannot express exactly raises a
ValueError naming the node, the field and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from tacjax.nir.nodes_spatial import conv_spec, flatten_spec, pool_spec

__all__ = ["HANDLERS", "NodeContext", "Spec", "expected_input_shape", "fail", "field", "to_layout"]


class NodeContext(NamedTuple):
    name: str
    node: Any
    in_shape: tuple[int, ...]
    dt: float
    consumers: list  # NIR input shapes the node's consumers expect (None where not fixed)


class Spec(NamedTuple):
    """What a backend runs for one node (see the module docstring)."""

    kind: str
    params: dict[str, np.ndarray]
    config: dict[str, Any]
    out_shape: tuple[int, ...]


def fail(name: str, node, message: str):
    """Raise the loader's ValueError for node ``name``."""
    raise ValueError(f"from_nir: node {name!r} ({type(node).__name__}): {message}")


def field(ctx: NodeContext, attr: str, *, shape: tuple | None = None, default=None) -> np.ndarray:
    """Field ``attr`` of the node as finite float64 values (``shape`` checked when given)."""
    value = getattr(ctx.node, attr, None)
    if value is None:
        if default is None:
            fail(ctx.name, ctx.node, f"field `{attr}` is missing.")
        value = default
    try:
        a = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        fail(ctx.name, ctx.node, f"field `{attr}` must be numeric; got {type(value).__name__}.")
    if not np.all(np.isfinite(a)):
        fail(ctx.name, ctx.node, f"field `{attr}` holds non-finite values.")
    if shape is not None and a.shape != tuple(shape):
        fail(ctx.name, ctx.node, f"field `{attr}` has shape {a.shape} but the node's input has shape "
                                 f"{tuple(shape)}; NIR gives a neuron or elementwise node one value per "
                                 "element of its input.")
    return a


def to_layout(a: np.ndarray) -> np.ndarray:
    """A per-element array of NIR shape ``(C, *S)`` in tacjax's layout ``(*S, C)``, float32."""
    a = np.moveaxis(a, 0, -1) if a.ndim >= 2 else a
    return np.ascontiguousarray(a, np.float32)


def strict_threshold(threshold: np.ndarray) -> np.ndarray:
    """The next float32 above ``threshold``: tacjax's ``h >= thr'`` is then NIR's ``h > thr``."""
    t = to_layout(threshold)
    return np.nextafter(t, np.float32(np.inf)).astype(np.float32)


def _identity(ctx: NodeContext) -> Spec:
    declared = expected_input_shape(ctx.node)
    if declared is not None and tuple(declared) != ctx.in_shape:
        fail(ctx.name, ctx.node, f"declares shape {tuple(declared)} but receives shape {ctx.in_shape}.")
    return Spec("identity", {}, {}, ctx.in_shape)


def _affine(ctx: NodeContext, with_bias: bool) -> Spec:
    w = field(ctx, "weight")
    if w.ndim != 2:
        fail(ctx.name, ctx.node, f"`weight` must be 2-D [out, in]; got shape {w.shape} (batched weights "
                                 "are not supported).")
    if ctx.in_shape != (w.shape[1],):
        fail(ctx.name, ctx.node, f"`weight` {w.shape} takes input of shape ({w.shape[1]},); the node "
                                 f"receives shape {ctx.in_shape}.")
    params = {"kernel": np.ascontiguousarray(w.T, np.float32)}
    if with_bias:
        params["bias"] = field(ctx, "bias", shape=(w.shape[0],)).astype(np.float32)
    return Spec("affine", params, {}, (w.shape[0],))


def _scale(ctx: NodeContext) -> Spec:
    return Spec("scale", {"scale": to_layout(field(ctx, "scale", shape=ctx.in_shape))}, {}, ctx.in_shape)


def _threshold(ctx: NodeContext) -> Spec:
    thr = field(ctx, "threshold", shape=ctx.in_shape)
    return Spec("threshold", {"threshold": strict_threshold(thr)}, {}, ctx.in_shape)


def _euler_factor(ctx: NodeContext, tau_field: str) -> np.ndarray:
    """``dt / tau`` for a time-constant field; tau > 0 and ``dt <= tau`` (forward Euler stays a leak)."""
    tau = field(ctx, tau_field, shape=ctx.in_shape)
    low = float(tau.min())
    if low <= 0:
        fail(ctx.name, ctx.node, f"`{tau_field}` must be > 0; got minimum {low!r}.")
    if ctx.dt > low:
        fail(ctx.name, ctx.node, f"`{tau_field}` has values below dt = {ctx.dt!r} (minimum {low!r}): "
                                 f"forward Euler with dt/{tau_field} > 1 overshoots the leak; load with "
                                 f"dt <= {low!r}.")
    return ctx.dt / tau


def _lif(ctx: NodeContext) -> Spec:
    shape = ctx.in_shape
    factor = _euler_factor(ctx, "tau")  # dt / tau
    r, v_leak = field(ctx, "r", shape=shape), field(ctx, "v_leak", shape=shape)
    thr = field(ctx, "v_threshold", shape=shape)
    v_reset = field(ctx, "v_reset", shape=shape, default=np.zeros(shape))
    params = {"beta": to_layout(1.0 - factor), "threshold": strict_threshold(thr),
              "v_leak": to_layout(v_leak), "v_reset": to_layout(v_reset), "gain": to_layout(factor * r)}
    return Spec("lif", params, {}, shape)


def _if(ctx: NodeContext) -> Spec:
    shape = ctx.in_shape
    r, thr = field(ctx, "r", shape=shape), field(ctx, "v_threshold", shape=shape)
    v_reset = field(ctx, "v_reset", shape=shape, default=np.zeros(shape))
    params = {"beta": to_layout(np.ones(shape)), "threshold": strict_threshold(thr),
              "v_leak": to_layout(np.zeros(shape)), "v_reset": to_layout(v_reset),
              "gain": to_layout(ctx.dt * r)}
    return Spec("lif", params, {}, shape)


def _li(ctx: NodeContext) -> Spec:
    """LI ``v <- v + (dt/tau)(v_leak - v + r*I)`` as ``li_step(v, gain*I + (1-beta)*v_leak, beta)``."""
    shape = ctx.in_shape
    factor = _euler_factor(ctx, "tau")
    r, v_leak = field(ctx, "r", shape=shape), field(ctx, "v_leak", shape=shape)
    params = {"beta": to_layout(1.0 - factor), "v_leak": to_layout(v_leak), "gain": to_layout(factor * r)}
    return Spec("li", params, {}, shape)


def _integrator(ctx: NodeContext) -> Spec:
    """I ``v <- v + dt*r*I``: an LI with ``beta = 1`` and ``gain = dt*r``."""
    shape = ctx.in_shape
    params = {"beta": to_layout(np.ones(shape)), "v_leak": to_layout(np.zeros(shape)),
              "gain": to_layout(ctx.dt * field(ctx, "r", shape=shape))}
    return Spec("li", params, {}, shape)


def _cuba(ctx: NodeContext, spiking: bool) -> Spec:
    """CubaLIF / CubaLI. NIR's Euler step ``I <- (1 - dt/tau_syn) I + (dt/tau_syn) w_in S`` then
    ``v <- (1 - dt/tau_mem) v + (dt/tau_mem) v_leak + (dt r/tau_mem) I``. tacjax's synaptic neuron holds
    ``i = (dt r/tau_mem) I`` instead, so ``i <- alpha i + gain S`` and ``h = beta v + (1-beta) v_leak + i``
    with ``alpha = 1 - dt/tau_syn``, ``beta = 1 - dt/tau_mem`` and
    ``gain = (dt r/tau_mem) (dt/tau_syn) w_in``: the same membrane, exactly."""
    shape = ctx.in_shape
    f_syn, f_mem = _euler_factor(ctx, "tau_syn"), _euler_factor(ctx, "tau_mem")
    r, v_leak = field(ctx, "r", shape=shape), field(ctx, "v_leak", shape=shape)
    w_in = field(ctx, "w_in", shape=shape, default=np.ones(shape))
    params = {"alpha": to_layout(1.0 - f_syn), "beta": to_layout(1.0 - f_mem), "v_leak": to_layout(v_leak),
              "gain": to_layout(f_mem * r * f_syn * w_in)}
    if not spiking:
        return Spec("cuba_li", params, {}, shape)
    params["threshold"] = strict_threshold(field(ctx, "v_threshold", shape=shape))
    params["v_reset"] = to_layout(field(ctx, "v_reset", shape=shape, default=np.zeros(shape)))
    return Spec("synaptic", params, {}, shape)


def _delay(ctx: NodeContext) -> Spec:
    steps = field(ctx, "delay", shape=ctx.in_shape) / ctx.dt
    whole = np.round(steps)
    if np.any(whole < 0) or np.any(np.abs(steps - whole) > 1e-6 * np.maximum(1.0, np.abs(steps))):
        fail(ctx.name, ctx.node, f"every `delay` must be a whole number >= 0 of steps dt = {ctx.dt!r}; "
                                 f"got delay/dt in [{float(steps.min())!r}, {float(steps.max())!r}].")
    steps = np.moveaxis(whole, 0, -1) if whole.ndim >= 2 else whole
    if int(steps.max(initial=0)) == 0:
        return Spec("identity", {}, {}, ctx.in_shape)
    return Spec("delay", {}, {"steps": steps.astype(np.int32), "depth": int(steps.max())}, ctx.in_shape)


def _layer(make: Callable) -> Callable[[NodeContext], Spec]:
    """A handler for a node whose spec ``tacjax.nir.nodes_spatial`` builds (conv, pool, flatten)."""
    def handler(ctx: NodeContext) -> Spec:
        try:
            kind, params, config, out_shape = make(ctx.node, ctx.in_shape, ctx.consumers)
        except ValueError as e:
            fail(ctx.name, ctx.node, str(e))
        if "notes" in config:
            config["notes"] = tuple(f"node {ctx.name!r}: {n}" for n in config["notes"])
        return Spec(kind, params, config, out_shape)
    return handler


HANDLERS: dict[str, Callable[[NodeContext], Spec]] = {
    "Input": _identity,
    "Output": _identity,
    "Identity": _identity,
    "passthrough": _identity,  # the Input and Output nodes of an inlined subgraph
    "Affine": lambda ctx: _affine(ctx, True),
    "Linear": lambda ctx: _affine(ctx, False),
    "Scale": _scale,
    "Conv1d": _layer(conv_spec),
    "Conv2d": _layer(conv_spec),
    "SumPool2d": _layer(pool_spec),
    "AvgPool2d": _layer(pool_spec),
    "Flatten": _layer(flatten_spec),
    "Threshold": _threshold,
    "LIF": _lif,
    "IF": _if,
    "LI": _li,
    "I": _integrator,
    "CubaLIF": lambda ctx: _cuba(ctx, True),
    "CubaLI": lambda ctx: _cuba(ctx, False),
    "Delay": _delay,
}
"""NIR class name -> handler."""


def expected_input_shape(node) -> tuple[int, ...] | None:
    """The NIR input shape ``node`` fixes by its own parameters (from ``nir``'s ``input_type``), or
    None where it does not fix one (a Flatten, a pool, a conv without ``input_shape``)."""
    if type(node).__name__ == "Flatten":
        return None
    types = getattr(node, "input_type", None)
    shape = types.get("input") if isinstance(types, dict) else None
    if shape is None or np.ndim(shape) != 1:
        return None
    return tuple(int(n) for n in np.asarray(shape).tolist())
