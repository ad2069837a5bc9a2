"""Building blocks shared by every neuron family in MLX: the twin of ``tacjax.neurons._common``.

A neuron file (``lif.py``, and the neurons written the same way) composes these:
``check_params`` validates its parameters against the value rules of ``tacjax.common.neurons``,
``leaky_integrate``/``fire``/``reset_membrane`` make its step, ``compute_dtype`` and
``scan_unroll`` set up its time loop (a Python loop: MLX has no ``lax.scan``).
"""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from tacjax.common.checks import check_state_shape  # noqa: F401  (re-exported for the neuron files)
from tacjax.mlx import _checks
from tacjax.mlx.surrogate import SpikeFn
from tacjax.mlx.surrogate import _resolve_surrogate as resolve_surrogate  # noqa: F401  (re-exported)


def check_params(params, cls: type, rules: dict[str, dict], state_shape, fn: str) -> None:
    """``params`` is a ``cls`` whose array fields broadcast to ``state_shape`` and obey ``rules``.

    ``rules`` maps each field name to its value interval (``tacjax.common.neurons``); the values
    are checked when they are concrete (outside ``mx.compile``/``mx.vmap``).
    """
    if not isinstance(params, cls):
        raise TypeError(f"{fn}: `params` must be a {cls.__module__}.{cls.__qualname__}; got "
                        f"{type(params).__module__}.{type(params).__qualname__}.")
    for name, rule in rules.items():
        leaf = getattr(params, name)
        _checks.check_broadcasts_to(leaf, state_shape, f"params.{name}", fn)
        _checks.check_param_values(leaf, f"params.{name}", fn, **rule)


def compute_dtype(dtype) -> mx.Dtype:
    """The dtype a neuron integrates in: float32 for low-precision floats (bfloat16, float16)."""
    return mx.float32 if dtype.size < 4 else dtype


def host_zero(p) -> bool:
    """True when ``p`` is a Python/NumPy zero: a term it multiplies can be left out of the graph."""
    return not isinstance(p, mx.array) and np.ndim(p) == 0 and float(p) == 0.0


def leaf(p, dtype) -> mx.array | None:
    """A parameter as an array of ``dtype``, or None when it is a host zero (term dropped)."""
    return None if host_zero(p) else _checks.param(p, dtype)


def leaky_integrate(v, x, beta, v_leak=None):
    """``beta * v + x``, plus ``(1 - beta) * v_leak`` when a leak potential is given."""
    h = beta * v + x
    return h if v_leak is None else h + (1 - beta) * v_leak


def fire(h, threshold, surrogate: SpikeFn):
    """Spikes ``H(h - threshold)`` (exact forward; the surrogate shapes the gradient)."""
    return surrogate(h - threshold)


def reset_membrane(h, s, threshold, reset: str, detach: bool, v_reset=None):
    """The membrane after the reset of the neurons that spiked (``s``).

    "subtract": ``h - threshold * s``; "zero": ``h * (1 - s) + v_reset * s`` (``v_reset`` None
    means 0); "none": ``h``. With ``detach`` the reset term carries no gradient.
    """
    r = mx.stop_gradient(s) if detach else s
    if reset == "subtract":
        return h - threshold * r
    if reset == "zero":
        return h * (1 - r) if v_reset is None else h * (1 - r) + v_reset * r
    return h


def scan_unroll(num_steps: int, unroll, fn: str) -> int | bool:
    """Validate ``unroll`` as JAX does (None, a bool or a positive int); MLX's loop ignores it."""
    if unroll is None or isinstance(unroll, bool):
        return num_steps if unroll is None else unroll
    return _checks.check_int(unroll, fn, "unroll")
