"""Surrogate spike functions in MLX: exact Heaviside forward, smooth gradient backward.

Mirror of ``tacjax.surrogate``: the same names, signatures ``f(x, slope) -> spikes``, default
slopes and gradient formulas (``tacjax.common.surrogates.SURROGATE_TABLE``). Each function is an
``mx.custom_function`` whose custom VJP (reverse mode, used by ``mx.grad``/``mx.value_and_grad``)
and custom JVP (forward mode, used by ``mx.jvp`` and ``surrogate_grad``) return ``g(x, slope)``;
``slope`` gets a zero gradient. Each public function carries ``.grad`` (the closed form, on
``mx.array``) and ``.default_slope``, like its JAX twin. A neuron's ``surrogate`` may also be a
surrogate's name (resolved through ``get_surrogate``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mlx.core as mx

from tacjax.common.surrogates import SLOPE_RULE, SURROGATE_TABLE, check_surrogate_name
from tacjax.mlx import _checks

__all__ = [
    "SURROGATES",
    "SpikeFn",
    "atan",
    "fast_sigmoid",
    "get_surrogate",
    "heaviside",
    "sigmoid",
    "straight_through",
    "surrogate_grad",
    "triangle",
]

SpikeFn = Callable[[mx.array], mx.array]
"""A spike function ``x -> spikes`` applied to ``membrane - threshold``."""


def heaviside(x: mx.array) -> mx.array:
    """Exact step ``x >= 0 -> 1.0`` in ``x``'s dtype; zero gradient almost everywhere."""
    x = _checks.asarray(x)
    return (x >= 0).astype(x.dtype)


def _make(name: str, grad: Callable[[mx.array, mx.array], mx.array]):
    default, doc = SURROGATE_TABLE[name]

    @mx.custom_function
    def spike(x, slope):
        return (x >= 0).astype(x.dtype)

    @spike.vjp
    def _vjp(primals, cotangent, output):
        x, slope = primals
        g = grad(x, slope)
        return (cotangent * g).astype(x.dtype), mx.zeros_like(slope)

    @spike.jvp
    def _jvp(primals, tangents):
        x, slope = primals
        x_dot = tangents[0]
        if x_dot is None:  # only the slope is perturbed: it has no effect on the output
            return mx.zeros_like(x)
        return (grad(x, slope) * x_dot).astype(x.dtype)

    def fn(x: mx.array, slope: mx.array | float = default) -> mx.array:
        x = _checks.asarray(x)
        _checks.check_floating(x, "x", name)
        return spike(x, _checks.param(slope, x.dtype))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Heaviside spike with the {name} surrogate gradient (MLX).\n\n"
        f"Args:\n    x: ``membrane - threshold``, any shape, floating dtype.\n"
        f"    slope: sharpness, scalar or broadcastable to ``x`` (default {default}).\n\n"
        f"Returns:\n    ``(x >= 0)`` as ``x.dtype``, same shape as ``x``.\n\n"
        f"Gradient: {doc}.\n"
    )
    fn.grad = grad
    fn.default_slope = default
    return fn


def _fast_sigmoid_grad(x, k):
    return 1.0 / (1.0 + k * mx.abs(x)) ** 2


def _atan_grad(x, a):
    return (a / 2.0) / (1.0 + (math.pi / 2.0 * a * x) ** 2)


def _sigmoid_grad(x, k):
    # k * s * (1 - s) written as k * s(kx) * s(-kx): no cancellation for large |x| in float32
    return k * mx.sigmoid(k * x) * mx.sigmoid(-k * x)


def _triangle_grad(x, k):
    return k * mx.maximum(0.0, 1.0 - k * mx.abs(x))


def _straight_through_grad(x, k):
    k = k if isinstance(k, mx.array) else mx.array(k)
    return mx.broadcast_to(k, x.shape).astype(x.dtype)


fast_sigmoid = _make("fast_sigmoid", _fast_sigmoid_grad)
atan = _make("atan", _atan_grad)
sigmoid = _make("sigmoid", _sigmoid_grad)
triangle = _make("triangle", _triangle_grad)
straight_through = _make("straight_through", _straight_through_grad)

SURROGATES: dict[str, Callable[..., mx.array]] = {
    "fast_sigmoid": fast_sigmoid,
    "atan": atan,
    "sigmoid": sigmoid,
    "triangle": triangle,
    "straight_through": straight_through,
}


def get_surrogate(name: str, slope: float | mx.array | None = None) -> SpikeFn:
    """Return the spike function ``x -> spikes`` called ``name``, with ``slope`` bound.

    Args:
        name: one of ``SURROGATES``.
        slope: sharpness (finite and > 0, checked when concrete); ``None`` keeps the default.

    Raises:
        ValueError: for an unknown name or a slope that is not finite and > 0.
        TypeError: for a name that is not a string or a slope that is not a number/array.
    """
    check_surrogate_name(name, "get_surrogate")
    f = SURROGATES[name]
    s = f.default_slope if slope is None else slope
    _checks.check_param_values(s, "slope", "get_surrogate", **SLOPE_RULE)

    def spike_fn(x: mx.array) -> mx.array:
        return f(x, s)

    spike_fn.__name__ = f"{name}(slope={s})" if not isinstance(s, mx.array) else name
    return spike_fn


def _resolve_surrogate(surrogate, fn: str, name: str = "surrogate") -> SpikeFn:
    """A spike function from a callable or a surrogate's name (default slope); clear errors otherwise."""
    if isinstance(surrogate, str):
        check_surrogate_name(surrogate, fn)
        return get_surrogate(surrogate)
    _checks.check_callable(surrogate, fn, name,
                           expected=f"a spike function x -> spikes or one of {tuple(SURROGATES)}")
    return surrogate


def surrogate_grad(spike_fn: SpikeFn | str, x: mx.array) -> mx.array:
    """Elementwise derivative ``d spike_fn(x) / dx`` of any spike function (one ``mx.jvp``).

    Args:
        spike_fn: a function ``x -> spikes`` (elementwise), or a surrogate's name.
        x: ``membrane - threshold``, any shape, floating dtype.

    Returns:
        Array of ``x``'s shape with the surrogate gradient at each element.
    """
    spike_fn = _resolve_surrogate(spike_fn, "surrogate_grad", "spike_fn")
    x = _checks.asarray(x)
    _checks.check_floating(x, "x", "surrogate_grad")
    _, (g,) = mx.jvp(lambda a: spike_fn(a), [x], [mx.ones_like(x)])
    return g
