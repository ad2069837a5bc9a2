"""Building blocks shared by every neuron family in MLX: the twin of ``tacjax.neurons._common``.

A neuron file (``lif.py``, and the neurons written the same way) composes these:
``check_params`` validates its parameters against the value rules of ``tacjax.common.neurons``,
``leaky_integrate``/``fire``/``reset_membrane`` make its step, ``compute_dtype`` and
``scan_unroll`` set up its time loop (a Python loop: MLX has no ``lax.scan``).
"""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from tacjax.common import neurons as _neurons
from tacjax.common.checks import check_state_shape  # noqa: F401  (re-exported for the neuron files)
from tacjax.common.neurons import apply_reset, fire, leaky_integrate  # noqa: F401  (re-exported)
from tacjax.mlx import _checks
from tacjax.mlx.surrogate import _resolve_surrogate as resolve_surrogate  # noqa: F401  (re-exported)


def check_params(params, cls: type, rules: dict[str, dict], state_shape, fn: str) -> None:
    """``params`` is a ``cls`` whose array leaves broadcast to ``state_shape`` and obey ``rules``
    (``tacjax.common.neurons``); values are checked when concrete (``tacjax.common.docs``)."""
    _neurons.check_params(params, cls, rules, state_shape, fn, _checks.check_param_values)


def compute_dtype(dtype) -> mx.Dtype:
    """The dtype a neuron integrates in: float32 for low-precision floats (bfloat16, float16)."""
    return mx.float32 if dtype.size < 4 else dtype


def host_zero(p) -> bool:
    """True when ``p`` is a Python/NumPy zero: a term it multiplies can be left out of the graph."""
    return not isinstance(p, mx.array) and np.ndim(p) == 0 and float(p) == 0.0


def leaf(p, dtype) -> mx.array | None:
    """A parameter as an array of ``dtype``, or None when it is a host zero (term dropped)."""
    return None if host_zero(p) else _checks.param(p, dtype)


def reset_membrane(h, s, threshold, reset: str, detach: bool, v_reset=None):
    """The membrane after the reset of the neurons that spiked (``s``): ``apply_reset`` of
    ``tacjax.common.neurons``, with the reset term carrying no gradient when ``detach``."""
    return apply_reset(h, mx.stop_gradient(s) if detach else s, threshold, reset, v_reset)


def scan_unroll(num_steps: int, unroll, fn: str) -> int | bool:
    """Validate ``unroll`` as JAX does (None, a bool or a positive int); MLX's loop ignores it."""
    if unroll is None or isinstance(unroll, bool):
        return num_steps if unroll is None else unroll
    return _checks.check_int(unroll, fn, "unroll")
