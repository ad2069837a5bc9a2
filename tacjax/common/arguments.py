"""Checks of plain Python arguments (backend-free: stdlib and NumPy only).

Each check returns the value in its canonical type or raises ``TypeError`` (wrong kind of value)
or ``ValueError`` (right kind, bad value) with a message naming the function, the argument, the
value received and what was expected. Used by ``tacjax.train``, ``tacjax.nn`` and ``tacjax.mlx.nn``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_bool", "check_callable", "check_choice", "check_float", "check_int"]


def check_int(value, fn: str, name: str, minimum: int | None = 1, maximum: int | None = None) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]`` (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: `{name}` must be an int; got {type(value).__name__} {value!r}.")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        lo = "-inf" if minimum is None else minimum
        hi = "inf" if maximum is None else maximum
        raise ValueError(f"{fn}: `{name}` must be an int in [{lo}, {hi}]; got {value}.")
    return value


def check_float(value, fn: str, name: str, *, low: float = 0.0, high: float = math.inf,
                low_open: bool = True) -> float:
    """``value`` as a finite ``float`` in ``(low, high]`` (``[low, high]`` when not ``low_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: `{name}` must be a real number; got {type(value).__name__} {value!r}.")
    value = float(value)
    above = value > low if low_open else value >= low
    if not (math.isfinite(value) and above and value <= high):
        bounds = f"{'(' if low_open else '['}{low}, {high}{']' if math.isfinite(high) else ')'}"
        raise ValueError(f"{fn}: `{name}` must be a finite number in {bounds}; got {value!r}.")
    return value


def check_bool(value, fn: str, name: str) -> bool:
    """``value`` if it is a ``bool``."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{fn}: `{name}` must be True or False; got {type(value).__name__} {value!r}.")
    return bool(value)


def check_choice(value, choices, fn: str, name: str):
    """``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{fn}: `{name}` must be one of {tuple(choices)}; got {value!r}.")
    return value


def check_callable(value, fn: str, name: str, *, allow_none: bool = False, expected: str = ""):
    """``value`` if it is callable (or None when ``allow_none``)."""
    if value is None and allow_none:
        return value
    if not callable(value):
        what = expected or ("a callable or None" if allow_none else "a callable")
        raise TypeError(f"{fn}: `{name}` must be {what}; got {type(value).__name__} {value!r}.")
    return value
