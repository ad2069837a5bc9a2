"""Time-axis structure of the parallel neurons (PSU family, PSN), backend-free (stdlib + NumPy).

Everything here depends only on T (and a static window length), so it is built once in NumPy and
turned into a constant array by either backend. With ``lag[t, i] = t - i`` and
``lam = 1 - 1/tau``, the PSU matrices are::

    M1[t, i] = lam**lag / tau   where lag >= 0 (on or below the diagonal), else 0
    M2[t, i] = -lam**lag        where lag >  0 (strictly below the diagonal), else 0
"""

from __future__ import annotations

import numpy as np

__all__ = ["TAU_RULE", "psu_structure", "sliding_taps", "window_mask"]

TAU_RULE = {"low": 1.0, "low_open": True}  # check_values keywords
"""``tau`` must be finite and > 1, so that the leak ``1 - 1/tau`` lies in (0, 1)."""


def _lags(num_steps: int) -> np.ndarray:
    t = np.arange(num_steps)
    return t[:, None] - t[None, :]


def psu_structure(num_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lag clipped at 0 as float64, lag >= 0, lag > 0)``, each ``[T, T]``: the PSU matrices' pattern."""
    lag = _lags(num_steps)
    return np.maximum(lag, 0).astype(np.float64), lag >= 0, lag > 0


def window_mask(num_steps: int, order: int) -> np.ndarray:
    """Bool ``[T, T]``: True where ``0 <= t - i < order`` (the masked PSN's causal window)."""
    lag = _lags(num_steps)
    return (lag >= 0) & (lag < order)


def sliding_taps(num_steps: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """``(tap index, mask)``, ``[T, T]`` each: the sliding PSN's ``W[t, i] = kernel[order-1-(t-i)]``."""
    lag = _lags(num_steps)
    return np.clip(order - 1 - lag, 0, order - 1), window_mask(num_steps, order)
