"""Names, parameter rules and array-generic pieces of the neurons (backend-free: stdlib + NumPy).

A rule maps each array parameter (a pytree leaf in JAX) to the interval its values must lie in;
the backends check the values against it whenever they are concrete (see ``tacjax.common.docs``).
The step pieces below use only arithmetic operators, so the same code runs on JAX, MLX and NumPy
arrays; what needs a backend (``stop_gradient``, fetching concrete values) is passed in.
"""

from __future__ import annotations

from collections.abc import Callable

from tacjax.common.checks import (
    UNIT_INTERVAL,
    check_broadcasts_to,
    check_floating,
    check_state_shape,
    describe,
    one_of,
)

__all__ = [
    "ALIF_RULES",
    "LIF_RULES",
    "LI_RULES",
    "RESETS",
    "SYNAPTIC_RULES",
    "apply_reset",
    "check_detach",
    "check_params",
    "check_reset",
    "check_state",
    "fire",
    "leaky_integrate",
]

RESETS = ("subtract", "zero", "none")
"""Reset rules after a spike: ``h - threshold`` (soft), ``v_reset`` (hard), or none."""

LIF_RULES: dict[str, dict] = {
    "beta": UNIT_INTERVAL,  # a leak factor: 0 forgets at once, 1 is IF
    "threshold": {},  # {} = finite
    "v_leak": {},
    "v_reset": {},
}
"""``LIFParams`` leaf -> the interval of its values (``check_values`` keywords)."""

SYNAPTIC_RULES: dict[str, dict] = {"alpha": UNIT_INTERVAL, **LIF_RULES}  # alpha: the synaptic decay
"""``SynapticParams`` leaf -> the interval of its values."""

ALIF_RULES: dict[str, dict] = {
    **LIF_RULES,
    "rho": UNIT_INTERVAL,  # the decay of the adaptation trace
    "b": {"low": 0.0},  # the adaptation strength: a spike raises the threshold, never lowers it
}
"""``ALIFParams`` leaf -> the interval of its values."""

LI_RULES: dict[str, dict] = {"beta": UNIT_INTERVAL}
"""The leaky integrator's ``beta`` -> the interval of its values."""


def check_reset(reset, fn: str) -> str:
    """Raise unless ``reset`` is one of ``RESETS``."""
    return one_of(reset, RESETS, "reset", fn)


def check_detach(detach, fn: str) -> bool:
    """Raise TypeError unless ``detach_reset`` is a bool."""
    if not isinstance(detach, bool):
        raise TypeError(f"{fn}: `detach_reset` must be a bool; got {describe(detach)}.")
    return detach


def check_params(params, cls: type, rules: dict[str, dict], state_shape, fn: str,
                 check_param_values: Callable) -> None:
    """``params`` is a ``cls`` whose array leaves broadcast to ``state_shape`` and obey ``rules``.

    ``check_param_values(value, name, fn, **rule)`` is the backend's value check (it skips
    values that are not concrete).
    """
    if not isinstance(params, cls):
        raise TypeError(f"{fn}: `params` must be a {cls.__module__}.{cls.__qualname__}; got "
                        f"{type(params).__module__}.{type(params).__qualname__}.")
    for name, rule in rules.items():
        leaf = getattr(params, name)
        check_broadcasts_to(leaf, state_shape, f"params.{name}", fn)
        check_param_values(leaf, f"params.{name}", fn, **rule)


def check_state(state, cls: type, shape, name: str, fn: str) -> None:
    """Raise unless ``state`` is None or a ``cls`` (a NamedTuple) whose fields are floating arrays
    of exactly the per-step state ``shape``."""
    if state is None:
        return
    if not isinstance(state, cls):
        raise TypeError(f"{fn}: `{name}` must be a NamedTuple {cls.__qualname__}({', '.join(cls._fields)}) "
                        f"whose fields have the per-step state shape {tuple(shape)}; got "
                        f"{type(state).__module__}.{type(state).__qualname__}.")
    for field, value in zip(cls._fields, state, strict=True):
        check_state_shape(value, shape, f"{name}.{field}", fn)
        check_floating(value, f"{name}.{field}", fn)


def leaky_integrate(v, x, beta, v_leak=None):
    """``beta * v + x``, plus ``(1 - beta) * v_leak`` when a leak potential is given."""
    h = beta * v + x
    return h if v_leak is None else h + (1 - beta) * v_leak


def fire(h, threshold, surrogate: Callable):
    """Spikes ``H(h - threshold)`` (exact forward; the surrogate shapes the gradient)."""
    return surrogate(h - threshold)


def apply_reset(h, r, threshold, reset: str, v_reset=None):
    """The membrane after the reset ``r`` (the spikes, detached or not) of the neurons that spiked.

    "subtract": ``h - threshold * r``; "zero": ``h * (1 - r) + v_reset * r`` (``v_reset`` None
    means 0); "none": ``h``.
    """
    if reset == "subtract":
        return h - threshold * r
    if reset == "zero":
        return h * (1 - r) if v_reset is None else h * (1 - r) + v_reset * r
    return h
