"""Argument checks and their messages, shared by both backends (backend-free: stdlib + NumPy).

Every check raises ``TypeError`` (wrong kind of thing) or ``ValueError`` (right kind, wrong value)
with a message that names the function, the argument, what it received and what was expected.
The checks read arrays by duck typing (``.shape``, and ``.dtype`` by *name*: "float32",
"bfloat16", ...), so JAX arrays, MLX arrays, NumPy arrays and Python numbers all work. Checks of
*values* (``check_values``) take host values: the backend adapters (``tacjax._checks``,
``tacjax.mlx._checks``) fetch them when they are concrete and skip the check when they are traced.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

__all__ = [
    "POSITIVE",
    "UNIT_INTERVAL",
    "check_broadcasts_to",
    "check_floating",
    "check_floating_dtype",
    "check_min_rank",
    "check_op_output",
    "check_rank",
    "check_operand",
    "check_same_shape",
    "check_state_shape",
    "check_values",
    "describe",
    "dtype_name",
    "is_floating_dtype",
    "is_floating_name",
    "one_of",
    "real_values",
    "shape_of",
]


UNIT_INTERVAL = {"low": 0.0, "high": 1.0}
"""``check_values`` keywords of a value in [0, 1] (a leak factor, a probability)."""
POSITIVE = {"low": 0.0, "low_open": True}
"""``check_values`` keywords of a value > 0 (a gain, a time constant, a slope)."""


def shape_of(x) -> tuple[int, ...]:
    """Shape of an array of any backend, a NumPy array or a Python scalar/list."""
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else tuple(np.shape(x))


def _name_of_dtype(dtype) -> str:
    try:
        return np.dtype(dtype).name  # NumPy and JAX dtypes, including ml_dtypes' bfloat16
    except TypeError:
        return str(dtype).rsplit(".", 1)[-1]  # mlx.core.float32 -> "float32"


def dtype_name(x) -> str:
    """Name of ``x``'s dtype ("float32", "bfloat16", ...; "float", "int", "bool" for Python scalars)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return _name_of_dtype(dtype)
    for kind in (bool, int, float):
        if isinstance(x, kind):
            return kind.__name__
    return np.asarray(x).dtype.name


def is_floating_name(name: str) -> bool:
    """True for the names of real floating dtypes (float16/32/64, bfloat16, float8 variants)."""
    return name.startswith("float") or name == "bfloat16"


def is_floating_dtype(dtype) -> bool:
    """True when ``dtype`` (a NumPy, JAX or MLX dtype) is a real floating dtype."""
    return dtype is not None and is_floating_name(_name_of_dtype(dtype))


def describe(x) -> str:
    """``"dtype float32 with shape (3, 4)"`` for arrays, ``"str 'abc'"`` for anything else."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"dtype {dtype_name(x)} with shape {shape_of(x)}"
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def check_floating(x, name: str, fn: str) -> None:
    """Raise TypeError unless ``x`` has a floating dtype."""
    if not is_floating_name(dtype_name(x)):
        raise TypeError(
            f"{fn}: argument `{name}` must have a floating dtype (float32, bfloat16, ...); "
            f"got dtype {dtype_name(x)} with shape {shape_of(x)}. Cast it first, e.g. "
            f"x.astype(float32)."
        )


def check_floating_dtype(dtype, name: str, fn: str) -> None:
    """Raise TypeError unless the dtype *argument* ``dtype`` is a floating dtype."""
    if not is_floating_dtype(dtype):
        raise TypeError(f"{fn}: `{name}` must be a floating dtype (float32, bfloat16, ...); "
                        f"got {dtype!r}.")


def check_min_rank(x, rank: int, name: str, fn: str, expected: str) -> None:
    """Raise ValueError unless ``x`` has at least ``rank`` dimensions."""
    if len(shape_of(x)) < rank:
        raise ValueError(
            f"{fn}: argument `{name}` must have at least {rank} dimensions, shape {expected}; "
            f"got shape {shape_of(x)}."
        )


def check_rank(x, rank: int, name: str, fn: str, expected: str) -> None:
    """Raise ValueError unless ``x`` has exactly ``rank`` dimensions."""
    if len(shape_of(x)) != rank:
        raise ValueError(
            f"{fn}: argument `{name}` must have exactly {rank} dimensions, shape {expected}; "
            f"got shape {shape_of(x)}."
        )


def check_same_shape(a, b, names: tuple[str, str], fn: str) -> None:
    """Raise ValueError unless ``a`` and ``b`` have the same shape."""
    if shape_of(a) != shape_of(b):
        raise ValueError(f"{fn}: `{names[0]}` and `{names[1]}` must have the same shape; got "
                         f"{names[0]} {shape_of(a)} and {names[1]} {shape_of(b)}.")


def check_operand(x, shape: tuple[int, ...], name: str, fn: str, symbolic: str) -> None:
    """Raise unless ``x`` is floating with exactly ``shape`` (``symbolic`` spells it, e.g. "(T, T)")."""
    if shape_of(x) != tuple(shape):
        raise ValueError(f"{fn}: `{name}` must have shape {symbolic} = {tuple(shape)}; got {shape_of(x)}.")
    check_floating(x, name, fn)


def check_op_output(out, batch: int, fn: str, array_type: type, kind: str) -> None:
    """``op``'s result is one floating ``array_type`` (``kind`` names it) whose first axis is ``batch``."""
    if not isinstance(out, array_type):
        raise TypeError(f"{fn}: `op` must return one {kind} [N, ...out]; it returned {describe(out)}.")
    if len(shape_of(out)) < 1 or shape_of(out)[0] != batch:
        raise ValueError(f"{fn}: `op` must keep the batch axis: given a batch of {batch} "
                         f"(chunks x batch) it returned shape {shape_of(out)}.")
    check_floating(out, "op(x)", fn)


def check_state_shape(state, shape: Sequence[int], name: str, fn: str) -> None:
    """Raise ValueError unless ``state`` is None or has exactly the per-step state ``shape``."""
    if state is not None and shape_of(state) != tuple(shape):
        raise ValueError(f"{fn}: `{name}` must have the per-step state shape {tuple(shape)}; "
                         f"got {shape_of(state)}.")


def check_broadcasts_to(p, target: Sequence[int], name: str, fn: str) -> None:
    """Raise ValueError unless ``p`` broadcasts to ``target`` without changing ``target``.

    This is what forbids silent broadcasting: a per-channel parameter of shape ``(C,)`` may
    broadcast against a frame ``[B, H, W, C]``, but never enlarge it.
    """
    shape = shape_of(p)
    target = tuple(target)
    try:
        out = np.broadcast_shapes(shape, target)
    except ValueError:
        out = None
    if out != target:
        raise ValueError(
            f"{fn}: `{name}` of shape {shape} does not broadcast to the per-step state shape "
            f"{target}; expected a scalar or a shape that broadcasts to {target} "
            f"(e.g. ({target[-1] if target else 1},) for a per-channel value)."
        )


def one_of(value, allowed: Sequence[str], name: str, fn: str) -> str:
    """Raise ValueError (TypeError for a non-string) unless ``value`` is one of ``allowed``."""
    if not isinstance(value, str):
        raise TypeError(f"{fn}: `{name}` must be one of {tuple(allowed)}; got {describe(value)}.")
    if value not in allowed:
        raise ValueError(f"{fn}: unknown {name} {value!r}; expected one of {tuple(allowed)}.")
    return value


def real_values(value, name: str, fn: str) -> np.ndarray:
    """Host values of a real number or numeric array as float64; TypeError for anything else."""
    if isinstance(value, np.ndarray | np.generic) and value.dtype.kind in "iuf":
        return np.asarray(value, np.float64)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return np.asarray(float(value))
    if isinstance(value, list | tuple):
        arr = np.asarray(value)
        if arr.dtype.kind in "iuf":
            return arr.astype(np.float64)
    raise TypeError(f"{fn}: `{name}` must be a real number or a numeric array; got {describe(value)}.")


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    return (f"{'(' if low_open else '['}{'-inf' if low is None else low}, "
            f"{'inf' if high is None else high}{')' if high_open else ']'}")


def check_values(values, name: str, fn: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> None:
    """Raise ValueError unless every value is finite and inside the interval ``low``..``high``.

    ``values`` are host values (a Python number, a NumPy array); the backend adapters pass the
    concrete values of their arrays. ``low_open``/``high_open`` exclude the bound itself.
    """
    a = real_values(values, name, fn)
    bad = ~np.isfinite(a)
    if low is not None:
        bad |= (a <= low) if low_open else (a < low)
    if high is not None:
        bad |= (a >= high) if high_open else (a > high)
    if np.any(bad):
        first = float(a[bad].flat[0])
        where = "" if a.ndim == 0 else f" ({int(bad.sum())} of {a.size} values, e.g. {first!r})"
        got = f"{first!r}" if a.ndim == 0 else f"an array of shape {a.shape}"
        need = "finite"
        if low is not None or high is not None:
            need += f" and in {_interval(low, high, low_open, high_open)}"
        raise ValueError(f"{fn}: `{name}` must be {need}; got {got}{where}.")
