"""Building blocks shared by every neuron family: checks, integrate, fire, reset, dtype and loop rules.

A neuron file (``lif.py``, and the synaptic, adaptive and recurrent neurons written the same way)
composes these: ``check_params`` validates its parameter pytree against the value rules of
``tacjax.common.neurons``, ``leaky_integrate``/``fire``/``reset_membrane`` (the first two
array-generic, from ``tacjax.common.neurons``) make its step,
``compute_dtype`` and ``scan_unroll`` set up its ``lax.scan``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.common import neurons as _neurons
from tacjax.common.checks import check_state_shape  # noqa: F401  (re-exported for the neuron files)
from tacjax.common.neurons import apply_reset, fire, leaky_integrate  # noqa: F401  (re-exported)
from tacjax.surrogate import _resolve_surrogate as resolve_surrogate  # noqa: F401  (re-exported)

# When ``unroll=None`` fully unrolls a time loop (straight-line code that XLA fuses into one pass).
# Measured on CPU (XLA, 2-core EPYC with AVX-512, forward + backward, B = 64, float32):
# * the fused LIF loop (``lif_scan``): unrolled T = 4 was 1.6-1.8x faster than the rolled loop for
#   states of 28x28x32, 14x14x64 and 16x16x32; at T = 8 it was never faster (0.9-1.1x at those sizes);
# * the ``lax.scan`` neurons (synaptic, adaptive, ...): unrolled was 2-4x faster up to T = 8 at 28x28x32;
# * both: with fewer than 16 entries on the state's last axis (16x16x8, 32x32x8, 8x8x8) the unrolled
#   loop was 2-7x *slower* (at T = 8 the LIF gradient took 22 ms instead of 3), so those keep the loop.
# ``scripts/bench_unroll.py`` measures it.
FULL_UNROLL_MAX_STEPS = 8
#: The fused LIF loop's limit (its rolled loop is cheaper per step than ``lax.scan``'s).
LIF_FULL_UNROLL_MAX_STEPS = 4
#: Fewest entries on the state's last axis for a full unroll (16 float32 lanes of AVX-512).
FULL_UNROLL_MIN_LANES = 16


def check_params(params, cls: type, rules: dict[str, dict], state_shape, fn: str) -> None:
    """``params`` is a ``cls`` whose array leaves broadcast to ``state_shape`` and obey ``rules``
    (``tacjax.common.neurons``); values are checked when concrete (``tacjax.common.docs``)."""
    _neurons.check_params(params, cls, rules, state_shape, fn, _checks.check_param_values)


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


def reset_membrane(h, s, threshold, reset: str, detach: bool, v_reset=None):
    """The membrane after the reset of the neurons that spiked (``s``): ``apply_reset`` of
    ``tacjax.common.neurons``, with the reset term carrying no gradient when ``detach``."""
    return apply_reset(h, jax.lax.stop_gradient(s) if detach else s, threshold, reset, v_reset)


def state_lanes(state_shape) -> int:
    """Entries on the last axis of a state of shape ``state_shape`` (1 for a scalar state)."""
    return int(state_shape[-1]) if len(state_shape) else 1


def scan_unroll(num_steps: int, unroll, fn: str, *, lanes: int,
                max_steps: int = FULL_UNROLL_MAX_STEPS) -> int | bool:
    """The loop unroll for ``unroll``: None picks a full unroll (``num_steps``) when ``T <= max_steps``
    and the state's last axis has ``lanes >= FULL_UNROLL_MIN_LANES`` entries (``state_lanes``), else
    1 (measurements above ``FULL_UNROLL_MAX_STEPS``); a bool or a positive int is returned as given."""
    if unroll is None:
        return num_steps if num_steps <= max_steps and lanes >= FULL_UNROLL_MIN_LANES else 1
    if isinstance(unroll, bool):
        return unroll
    return _checks.check_int(unroll, fn, "unroll")


def spike_function(surrogate, example: jax.Array):
    """``(spike, consts)``: ``surrogate`` as ``spike(u, *consts)`` with the traced arrays it closes
    over (a slope being differentiated or vmapped) passed explicitly, as a ``custom_vjp`` needs.

    ``example`` is one state-shaped array; ``spike`` also takes arrays with extra leading axes.
    """
    converted, consts = jax.closure_convert(surrogate, example)
    if not consts:
        return surrogate, ()
    return functools.partial(_leading_vmap, converted, example.ndim), tuple(consts)


def _leading_vmap(fn, ndim: int, u, *consts):
    for _ in range(u.ndim - ndim):
        fn = jax.vmap(fn, in_axes=(0,) + (None,) * len(consts))
    return fn(u, *consts)
