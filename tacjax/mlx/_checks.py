"""MLX adapter of the shared argument checks (private): the twin of ``tacjax._checks``.

The checks and their messages live in ``tacjax.common.checks`` (backend-free, re-exported here);
this module adds what needs MLX: array conversion, telling concrete arrays from the placeholders
of ``mx.compile``/``mx.vmap``, and fetching concrete values for the value checks. MLX has no
tracers otherwise, so value checks usually run; each forces an evaluation of the checked array
(one synchronisation).
"""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from tacjax.common import tac as _tac
from tacjax.common.arguments import check_callable, check_int  # noqa: F401  (re-exported)
from tacjax.common.checks import (  # noqa: F401  (re-exported for tacjax.mlx.*)
    check_broadcasts_to,
    check_floating,
    check_floating_dtype,
    check_min_rank,
    check_op_output,
    check_operand,
    check_rank,
    check_same_shape,
    check_state_shape,
    check_values,
    describe,
    dtype_name,
    is_floating_dtype,
    one_of,
    shape_of,
)


def asarray(x) -> mx.array:
    """``x`` as an ``mx.array``. NumPy/Python float64 becomes float32, as in JAX without x64."""
    if isinstance(x, mx.array):
        return x
    a = np.asarray(x)
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    return mx.array(a)


def param(p, dtype) -> mx.array:
    """A scalar/array parameter (beta, threshold, slope) as an ``mx.array`` of ``dtype``."""
    return (p if isinstance(p, mx.array) else asarray(p)).astype(dtype)


def is_floating(dtype) -> bool:
    """True for MLX floating dtypes (``tacjax.common.checks.is_floating_dtype``)."""
    return is_floating_dtype(dtype)


def concrete_values(x) -> np.ndarray | None:
    """Host values of an ``mx.array`` (float64 for floating ones); None inside ``mx.compile``/``mx.vmap``.

    Anything that is not an ``mx.array`` is returned as is, so that ``check_values`` reports a
    wrong type itself.
    """
    if not isinstance(x, mx.array):
        return x
    try:
        a = np.asarray(x.astype(mx.float32) if is_floating_dtype(x.dtype) else x)
    except ValueError as e:  # a placeholder of a function transformation cannot be evaluated
        if "[eval]" in str(e):
            return None
        raise
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def check_param_values(p, name: str, fn: str, **rule) -> None:
    """``check_values`` on ``p`` when it is concrete (no-op inside ``mx.compile``/``mx.vmap``)."""
    values = concrete_values(p)
    if values is not None:
        check_values(values, name, fn, **rule)


def check_static_k(k, num_steps: int, fn: str, name: str = "k") -> int:
    """Validate a chunk length ``k`` (1 <= k <= T) and return it as ``int``.

    A 0-d integer ``mx.array`` is accepted (MLX has no tracers, so its value is known).
    """
    if isinstance(k, mx.array):
        if k.ndim != 0 or not mx.issubdtype(k.dtype, mx.integer):
            raise TypeError(f"{fn}: `{name}` must be an int; got {describe(k)}.")
        k = k.item()
    return _tac.check_k(k, num_steps, fn, name)
