"""JAX adapter of the shared argument checks (private).

The checks and their messages live in ``tacjax.common.checks`` (backend-free, re-exported here);
this module adds what needs JAX: telling concrete arrays from tracers, fetching concrete values
for the value checks, and the static-K check's pointer to the traced-K forms. Static checks
(shapes, dtypes, Python values) run at trace time and cost nothing inside ``jit``; value checks
run only when the values are concrete (outside ``jit``/``vmap``/``grad``) and are skipped for
tracers (see ``tacjax.common.docs.VALUE_CHECKS``).
"""

from __future__ import annotations

import jax
import numpy as np

from tacjax.common import tac as _tac
from tacjax.common.arguments import check_callable, check_int  # noqa: F401  (re-exported)
from tacjax.common.checks import (  # noqa: F401  (re-exported for tacjax.* and tacjax.sparse)
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
    one_of,
)


def is_concrete(x) -> bool:
    """True when ``x`` holds actual values (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def concrete_values(x) -> np.ndarray | None:
    """Host values of a concrete JAX array (float64 for floating ones); None for a tracer.

    Anything that is not a JAX array (a Python number, a NumPy array, a string) is returned as
    is, so that ``check_values`` reports a wrong type itself.
    """
    if not is_concrete(x):
        return None
    if isinstance(x, jax.Array):
        a = np.asarray(x)
        return a.astype(np.float64) if a.dtype.kind not in "iub" else a
    return x


def check_param_values(p, name: str, fn: str, **rule) -> None:
    """``check_values`` on ``p`` when it is concrete (no-op for a tracer)."""
    values = concrete_values(p)
    if values is not None:
        check_values(values, name, fn, **rule)


def check_static_k(k, num_steps: int, fn: str, name: str = "k") -> int:
    """Validate a static chunk length ``k`` (1 <= k <= T) and return it as ``int``."""
    if not is_concrete(k):
        hint = f" To vmap or jit over K use the shape-stable `{fn}_dynamic` instead." if name == "k" else ""
        raise TypeError(f"{fn}: `{name}` must be a static Python int here (it sets output shapes); "
                        f"got a traced value.{hint}")
    return _tac.check_k(k, num_steps, fn, name)


def check_binary(x, name: str, fn: str) -> None:
    """Raise ValueError if a concrete ``x`` holds values other than 0 and 1 (no-op under tracing)."""
    if not is_concrete(x):
        return
    a = np.asarray(x)
    if a.dtype == np.bool_:
        return
    if not np.all((a == 0) | (a == 1)):
        bad = a[(a != 0) & (a != 1)]
        raise ValueError(
            f"{fn}: argument `{name}` must hold binary spikes (0 or 1); found {bad.size} other "
            f"values, e.g. {bad.flat[0]!r} (shape {a.shape}). TAC's aggregated frames are not "
            f"binary: use a dense strategy for them."
        )
