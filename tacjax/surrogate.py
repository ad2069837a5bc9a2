"""Surrogate spike functions: exact Heaviside forward, smooth gradient backward.

Every function here has the signature ``f(x, slope) -> spikes`` where ``x`` is the
membrane minus the threshold (any shape, floating dtype) and ``slope`` is an array
(scalar or broadcastable to ``x``) that sets the surrogate's sharpness. The forward
pass is exactly ``(x >= 0).astype(x.dtype)``; the derivative with respect to ``x`` is
the surrogate ``g(x, slope)`` (table: ``tacjax.common.surrogates.SURROGATE_TABLE``, and each
function's docstring). ``slope`` receives a zero gradient. Because ``slope`` is an ordinary
array argument, it can be traced, jitted and ``vmap``-ed.

To use a non-default slope in a neuron, pass a closure
(``functools.partial(fast_sigmoid, slope=10.0)``, ``get_surrogate("atan", 3.0)``) or just the
name (``surrogate="atan"``, default slope): every function that takes a ``surrogate`` resolves a
name through ``get_surrogate``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.common.surrogates import SLOPE_RULE, SURROGATE_TABLE, check_surrogate_name

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

SpikeFn = Callable[[jax.Array], jax.Array]
"""A spike function ``x -> spikes`` applied to ``membrane - threshold``."""


def heaviside(x: jax.Array) -> jax.Array:
    """Exact step ``x >= 0 -> 1.0`` in ``x``'s dtype; zero gradient almost everywhere."""
    return (x >= 0).astype(jnp.result_type(x))


def _make(name: str, grad: Callable[[jax.Array, jax.Array], jax.Array]):
    default, doc = SURROGATE_TABLE[name]

    @jax.custom_jvp
    def spike(x, slope):
        return heaviside(x)

    @spike.defjvp
    def _jvp(primals, tangents):
        x, slope = primals
        x_dot, _ = tangents  # the slope receives no gradient
        y = heaviside(x)
        g = grad(x, jnp.asarray(slope, jnp.result_type(x)))
        return y, (g * x_dot).astype(y.dtype)

    def fn(x: jax.Array, slope: jax.Array | float = default) -> jax.Array:
        x = jnp.asarray(x)
        _checks.check_floating(x, "x", name)
        return spike(x, jnp.asarray(slope, x.dtype))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Heaviside spike with the {name} surrogate gradient.\n\n"
        f"Args:\n    x: ``membrane - threshold``, any shape, floating dtype.\n"
        f"    slope: sharpness, scalar or broadcastable to ``x`` (default {default}).\n\n"
        f"Returns:\n    ``(x >= 0)`` as ``x.dtype``, same shape as ``x``.\n\n"
        f"Gradient: {doc}.\n"
    )
    fn.grad = grad  # closed form, used by the tests and by hand-written VJPs
    fn.default_slope = default
    return fn


def _fast_sigmoid_grad(x, k):
    return 1.0 / (1.0 + k * jnp.abs(x)) ** 2


def _atan_grad(x, a):
    return (a / 2.0) / (1.0 + (jnp.pi / 2.0 * a * x) ** 2)


def _sigmoid_grad(x, k):
    # k * s * (1 - s) written as k * s(kx) * s(-kx): no cancellation for large |x| in float32
    return k * jax.nn.sigmoid(k * x) * jax.nn.sigmoid(-k * x)


def _triangle_grad(x, k):
    return k * jnp.maximum(0.0, 1.0 - k * jnp.abs(x))


def _straight_through_grad(x, k):
    return jnp.broadcast_to(k, jnp.shape(x)).astype(jnp.result_type(x))


fast_sigmoid = _make("fast_sigmoid", _fast_sigmoid_grad)
atan = _make("atan", _atan_grad)
sigmoid = _make("sigmoid", _sigmoid_grad)
triangle = _make("triangle", _triangle_grad)
straight_through = _make("straight_through", _straight_through_grad)

SURROGATES: dict[str, Callable[..., jax.Array]] = {
    "fast_sigmoid": fast_sigmoid,
    "atan": atan,
    "sigmoid": sigmoid,
    "triangle": triangle,
    "straight_through": straight_through,
}


def get_surrogate(name: str, slope: float | jax.Array | None = None) -> SpikeFn:
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

    def spike_fn(x: jax.Array) -> jax.Array:
        return f(x, s)

    spike_fn.__name__ = f"{name}(slope={s})" if not isinstance(s, jax.Array) else name
    return spike_fn


def _resolve_surrogate(surrogate, fn: str, name: str = "surrogate") -> SpikeFn:
    """A spike function from a callable or a surrogate's name (default slope); clear errors otherwise."""
    if isinstance(surrogate, str):
        check_surrogate_name(surrogate, fn)
        return get_surrogate(surrogate)
    _checks.check_callable(surrogate, fn, name,
                           expected=f"a spike function x -> spikes or one of {tuple(SURROGATES)}")
    return surrogate


def surrogate_grad(spike_fn: SpikeFn | str, x: jax.Array) -> jax.Array:
    """Elementwise derivative ``d spike_fn(x) / dx`` of any spike function (one JVP).

    Args:
        spike_fn: a function ``x -> spikes`` (elementwise), or a surrogate's name.
        x: ``membrane - threshold``, any shape, floating dtype.

    Returns:
        Array of ``x``'s shape with the surrogate gradient at each element.
    """
    spike_fn = _resolve_surrogate(spike_fn, "surrogate_grad", "spike_fn")
    x = jnp.asarray(x)
    _checks.check_floating(x, "x", "surrogate_grad")
    _, g = jax.jvp(spike_fn, (x,), (jnp.ones_like(x),))
    return g
