"""TAC's chunk geometry and aggregation weights as plain numbers (backend-free: stdlib + NumPy).

Chunk ``c`` of a sequence of T frames covers frames ``[c*K, min((c+1)*K, T))``: ``ceil(T/K)``
chunks of K frames, the last one ``L = T - (C-1)*K`` frames long. The aggregation weight of frame
``j`` of a full chunk is ``beta**(K-1-j)`` ("beta"), 1 ("sum") or ``1/K`` ("mean"); a short last
chunk uses the *last* L weights (``w[K-L:]``) and "mean" divides it by L instead.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tacjax.common.arguments import check_int
from tacjax.common.checks import check_values, describe, one_of

__all__ = [
    "MODES",
    "SHARES",
    "WEIGHTS",
    "check_k",
    "chunk_lengths",
    "constant_weights",
    "conv_calls",
    "share_scales",
    "weight_exponents",
    "weight_logits",
]

MODES = ("baseline", "tac", "tac_tp")
"""How a layer applies its linear op: per frame, TAC (collapse) or TAC-TP (preserve)."""
WEIGHTS = ("beta", "sum", "mean")
"""Names of the built-in aggregation weights."""
SHARES = ("repeat", "mean")
"""How TAC-TP shares a chunk's current among the chunk's steps."""


def check_k(k, num_steps: int, fn: str, name: str = "k") -> int:
    """Validate a static chunk length (an int with ``1 <= k <= T``) and return it as ``int``."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{fn}: `{name}` must be an int; got {describe(k)}.")
    k = int(k)
    if k < 1 or k > num_steps:
        raise ValueError(
            f"{fn}: `{name}` must satisfy 1 <= {name} <= T = {num_steps}; got {name}={k}."
        )
    return k


def chunk_lengths(num_steps: int, k: int) -> tuple[int, ...]:
    """Lengths of the ``ceil(T/K)`` chunks: K each, the last one ``T - (C-1)*K``.

    Args:
        num_steps: T, a positive int.
        k: K, an int with ``1 <= k <= T``.

    Raises:
        TypeError/ValueError: for a non-int or non-positive T, or a K outside ``[1, T]``.
    """
    num_steps = check_int(num_steps, "chunk_lengths", "num_steps")
    k = check_k(k, num_steps, "chunk_lengths")
    return tuple(min(k, num_steps - c * k) for c in range(math.ceil(num_steps / k)))


def conv_calls(num_steps: int, k: int, mode: str) -> int:
    """Number of per-sample ``op`` (convolution) applications over T steps.

    Args:
        num_steps: T, a positive int.
        k: chunk length K, an int with ``1 <= k <= T``. It is validated for every mode
            (a nonsense K raises even for "baseline"); the "baseline" count does not depend on it.
        mode: "baseline" (one call per frame: T), "tac" or "tac_tp" (one per chunk: ``ceil(T/K)``).
    """
    one_of(mode, MODES, "mode", "conv_calls")
    num_steps = check_int(num_steps, "conv_calls", "num_steps")
    k = check_k(k, num_steps, "conv_calls")
    return num_steps if mode == "baseline" else math.ceil(num_steps / k)


def weight_exponents(k: int) -> np.ndarray:
    """``[K-1, K-2, ..., 0]`` (float64): frame ``j`` of a full chunk has weight ``beta**(K-1-j)``."""
    return np.arange(k - 1, -1, -1, dtype=np.float64)


def constant_weights(k: int, weights: str) -> np.ndarray:
    """The ``[K]`` weights of "sum" (ones) or "mean" (``1/K``) as float64."""
    return np.ones(k) if weights == "sum" else np.full(k, 1.0 / k)


def share_scales(lengths: tuple[int, ...], share: str) -> np.ndarray | None:
    """Per-chunk factor of TAC-TP's current: None for "repeat", ``1/L_c`` for "mean"."""
    one_of(share, SHARES, "share", "share_scales")
    return None if share == "repeat" else 1.0 / np.asarray(lengths, np.float64)


def weight_logits(k: int, beta: float, fn: str = "init_weight_logits") -> np.ndarray:
    """``[K]`` logits ``(K-1-j) * log(beta)`` whose softmax is proportional to the "beta" weights.

    ``k`` must be a positive int and ``beta`` a number in ``(0, 1]`` (``log(0)`` is -inf).
    """
    k = check_int(k, fn, "k")
    check_values(beta, "beta", fn, low=0.0, high=1.0, low_open=True)
    if np.ndim(beta) != 0:
        raise ValueError(f"{fn}: `beta` must be a scalar; got shape {np.shape(beta)}.")
    return weight_exponents(k) * math.log(float(beta))
