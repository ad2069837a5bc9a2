"""Input validation for the MLX mirror (private): the same checks and messages as ``tacjax._checks``.

MLX evaluates lazily but has no tracers, so value checks (NaN, binary spikes) always run; they
force an evaluation of the checked array (``mx.eval``) and so cost one synchronisation.
"""

from __future__ import annotations

from collections.abc import Sequence

import mlx.core as mx
import numpy as np


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


def shape(p) -> tuple[int, ...]:
    """Shape of an ``mx.array``, NumPy array or Python scalar."""
    return tuple(p.shape) if isinstance(p, mx.array) else tuple(np.shape(p))


def is_floating(dtype) -> bool:
    return mx.issubdtype(dtype, mx.floating)


def check_floating(x: mx.array, name: str, fn: str) -> None:
    """Raise TypeError unless ``x`` has a floating dtype."""
    if not is_floating(x.dtype):
        raise TypeError(
            f"{fn}: argument `{name}` must have a floating dtype (float32, bfloat16, ...); "
            f"got dtype {x.dtype} with shape {tuple(x.shape)}. Cast it first, e.g. "
            f"x.astype(mx.float32)."
        )


def check_min_rank(x: mx.array, rank: int, name: str, fn: str, expected: str) -> None:
    """Raise ValueError unless ``x.ndim >= rank``."""
    if x.ndim < rank:
        raise ValueError(
            f"{fn}: argument `{name}` must have at least {rank} dimensions, shape {expected}; "
            f"got shape {tuple(x.shape)}."
        )


def check_broadcasts_to(p, target: Sequence[int], name: str, fn: str) -> None:
    """Raise ValueError unless ``p`` broadcasts to ``target`` without enlarging it."""
    pshape = shape(p)
    target = tuple(target)
    try:
        out = np.broadcast_shapes(pshape, target)
    except ValueError:
        out = None
    if out != target:
        raise ValueError(
            f"{fn}: `{name}` of shape {pshape} does not broadcast to the per-step state shape "
            f"{target}; expected a scalar or a shape that broadcasts to {target} "
            f"(e.g. ({target[-1] if target else 1},) for a per-channel value)."
        )


def check_static_k(k, num_steps: int, fn: str, name: str = "k") -> int:
    """Validate a chunk length ``k`` (1 <= k <= T) and return it as ``int``.

    A 0-d integer ``mx.array`` is accepted (MLX has no tracers, so its value is known).
    """
    if isinstance(k, mx.array):
        if k.ndim != 0 or not mx.issubdtype(k.dtype, mx.integer):
            raise TypeError(f"{fn}: `{name}` must be an int; got an array of dtype {k.dtype} "
                            f"and shape {tuple(k.shape)}.")
        k = k.item()
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"{fn}: `{name}` must be an int; got {type(k).__name__} {k!r}.")
    k = int(k)
    if k < 1 or k > num_steps:
        raise ValueError(
            f"{fn}: `{name}` must satisfy 1 <= {name} <= T = {num_steps}; got {name}={k}."
        )
    return k


def check_no_nan(x: mx.array, name: str, fn: str) -> None:
    """Raise ValueError if ``x`` contains NaN (evaluates ``x``)."""
    if mx.any(mx.isnan(x)).item():
        raise ValueError(f"{fn}: argument `{name}` contains NaN (shape {tuple(x.shape)}).")


def one_of(value: str, allowed: Sequence[str], name: str, fn: str) -> str:
    """Raise ValueError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{fn}: unknown {name} {value!r}; expected one of {tuple(allowed)}.")
    return value
