"""Building blocks shared by every neuron family: checks, integrate, fire, reset, dtype and loop rules.

A neuron file (``lif.py``, and the synaptic, adaptive and recurrent neurons written the same way)
composes these: ``check_params`` validates its parameter pytree against the value rules of
``tacjax.common.neurons``, ``leaky_integrate``/``fire``/``reset_membrane`` make its step,
``compute_dtype`` and ``scan_unroll`` set up its ``lax.scan``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.common.checks import check_state_shape  # noqa: F401  (re-exported for the neuron files)
from tacjax.surrogate import SpikeFn
from tacjax.surrogate import _resolve_surrogate as resolve_surrogate  # noqa: F401  (re-exported)

# On CPU (XLA, 2 cores, B=128 x 14x14x64) a rolled scan step cost ~3 ms where a fully unrolled one
# cost ~0.6 ms for T <= 8; at T = 16 the full unroll was slower than the loop, and partial unrolls were
# slower than both. Hence: unroll fully up to this many steps.
FULL_UNROLL_MAX_STEPS = 8


def check_params(params, cls: type, rules: dict[str, dict], state_shape, fn: str) -> None:
    """``params`` is a ``cls`` whose array leaves broadcast to ``state_shape`` and obey ``rules``.

    ``rules`` maps each leaf name to its value interval (``tacjax.common.neurons``); the values
    are checked when they are concrete (see ``tacjax.common.docs.VALUE_CHECKS``).
    """
    if not isinstance(params, cls):
        raise TypeError(f"{fn}: `params` must be a {cls.__module__}.{cls.__qualname__}; got "
                        f"{type(params).__module__}.{type(params).__qualname__}.")
    for name, rule in rules.items():
        leaf = getattr(params, name)
        _checks.check_broadcasts_to(leaf, state_shape, f"params.{name}", fn)
        _checks.check_param_values(leaf, f"params.{name}", fn, **rule)


def compute_dtype(dtype) -> jnp.dtype:
    """The dtype a neuron integrates in: float32 for low-precision floats (bfloat16, float16)."""
    dtype = jnp.dtype(dtype)
    return jnp.dtype(jnp.float32) if dtype.itemsize < 4 else dtype


def host_zero(p) -> bool:
    """True when ``p`` is a Python/NumPy zero: a term it multiplies can be left out of the graph."""
    return not isinstance(p, jax.Array) and jnp.ndim(p) == 0 and float(p) == 0.0


def leaf(p, dtype) -> jax.Array | None:
    """A parameter leaf as an array of ``dtype``, or None when it is a host zero (term dropped)."""
    return None if host_zero(p) else jnp.asarray(p, dtype)


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
    r = jax.lax.stop_gradient(s) if detach else s
    if reset == "subtract":
        return h - threshold * r
    if reset == "zero":
        return h * (1 - r) if v_reset is None else h * (1 - r) + v_reset * r
    return h


def scan_unroll(num_steps: int, unroll, fn: str) -> int | bool:
    """The ``lax.scan`` unroll for ``unroll``: None picks full unroll for ``T <= 8``, else 1."""
    if unroll is None:
        return num_steps if num_steps <= FULL_UNROLL_MAX_STEPS else 1
    if isinstance(unroll, bool):
        return unroll
    return _checks.check_int(unroll, fn, "unroll")
