"""Shared pieces of the sparse strategies (private): argument checks, conv geometry, overflow guard.

Every strategy computes the same function as ``dense.conv``: a 2-D cross-correlation of NHWC
spikes ``[N, H, W, C]`` with HWIO weights ``[kh, kw, C, O]``, ``stride`` (int or pair) and
``padding`` ("SAME", "VALID", an int, or ``((top, bottom), (left, right))``), giving
``[N, Ho, Wo, O]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from tacjax import _checks

POLICIES = ("error", "dense")
Padding = str | int | Sequence[tuple[int, int]]


def check_conv_args(spikes, w, fn: str) -> tuple[jax.Array, jax.Array]:
    """Validate ranks, dtypes and the channel match of a strategy call; return jnp arrays."""
    spikes = jnp.asarray(spikes)
    w = jnp.asarray(w)
    _checks.check_rank(spikes, 4, "spikes", fn, "[N, H, W, C] (NHWC)")
    _checks.check_rank(w, 4, "w", fn, "[kh, kw, C, O] (HWIO)")
    _checks.check_floating(w, "w", fn)
    if spikes.shape[-1] != w.shape[2]:
        raise ValueError(f"{fn}: `spikes` has C = {spikes.shape[-1]} channels (shape {spikes.shape}) but "
                         f"`w` expects C = {w.shape[2]} (shape {w.shape}, HWIO [kh, kw, C, O]).")
    if spikes.dtype == jnp.bool_ or not jnp.issubdtype(spikes.dtype, jnp.floating):
        spikes = spikes.astype(w.dtype)
    return spikes, w


def require_binary(spikes, fn: str) -> None:
    """ValueError if concrete ``spikes`` hold values other than 0 and 1 (skipped under tracing)."""
    _checks.check_binary(spikes, "spikes", fn)


def strides(stride, fn: str) -> tuple[int, int]:
    """Normalise ``stride`` (int or pair of positive ints) to a pair."""
    s = (stride, stride) if isinstance(stride, int | np.integer) else tuple(stride)
    if len(s) != 2 or any(int(v) < 1 for v in s):
        raise ValueError(f"{fn}: `stride` must be a positive int or a pair of them; got {stride!r}.")
    return int(s[0]), int(s[1])


def pads(padding: Padding, in_hw, k_hw, stride_hw, fn: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Explicit ``((top, bottom), (left, right))`` padding, with XLA's rule for "SAME"."""
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"{fn}: `padding` must be 'SAME', 'VALID', an int or ((t, b), (l, r)); "
                             f"got {padding!r}.")
        pp = jax.lax.padtype_to_pads(tuple(in_hw), tuple(k_hw), tuple(stride_hw), padding)
        return (int(pp[0][0]), int(pp[0][1])), (int(pp[1][0]), int(pp[1][1]))
    if isinstance(padding, int | np.integer):
        p = int(padding)
        return (p, p), (p, p)
    pp = tuple(tuple(int(v) for v in q) for q in padding)
    if len(pp) != 2 or any(len(q) != 2 for q in pp):
        raise ValueError(f"{fn}: explicit `padding` must be ((top, bottom), (left, right)); got {padding!r}.")
    return pp[0], pp[1]


def out_hw(in_hw, k_hw, stride_hw, pad_hw) -> tuple[int, int]:
    """Output spatial size ``(Ho, Wo)`` of a convolution."""
    return tuple(
        (in_hw[i] + pad_hw[i][0] + pad_hw[i][1] - k_hw[i]) // stride_hw[i] + 1 for i in range(2)
    )


def geometry(spikes_shape, w_shape, stride, padding, fn: str):
    """``(stride pair, pad pairs, (Ho, Wo))`` for a call; ValueError if the output would be empty."""
    s = strides(stride, fn)
    p = pads(padding, spikes_shape[1:3], w_shape[:2], s, fn)
    o = out_hw(spikes_shape[1:3], w_shape[:2], s, p)
    if o[0] < 1 or o[1] < 1:
        raise ValueError(f"{fn}: kernel {tuple(w_shape[:2])} does not fit input {tuple(spikes_shape[1:3])} "
                         f"with padding {p}.")
    return s, p, o


def resolve_capacity(capacity, count_fn: Callable[[], jax.Array], full: int, concrete: bool) -> int:
    """Static capacity: the given int; if None, for concrete input the count rounded up to a power of
    two (capped at ``full``; repeated calls then reuse compilations), under tracing ``full``."""
    if capacity is not None:
        if isinstance(capacity, bool) or not isinstance(capacity, int | np.integer) or capacity < 1:
            raise ValueError(f"`capacity` must be a positive int or None; got {capacity!r}.")
        return int(capacity)
    if concrete:
        n = max(int(count_fn()), 1)
        return min(1 << (n - 1).bit_length(), max(int(full), 1))
    return max(int(full), 1)


def guarded(count: jax.Array, capacity: int, policy: str, sparse_fn: Callable[[], jax.Array],
            dense_fn: Callable[[], jax.Array], fn: str, what: str) -> jax.Array:
    """Run ``sparse_fn`` when ``count <= capacity``; otherwise raise ("error") or run ``dense_fn``.

    With a concrete ``count`` the check is a Python ``if`` (ValueError). Under ``jit`` the
    "dense" policy becomes ``lax.cond`` and "error" a host callback that raises at run time, so
    a truncated result is never returned.
    """
    _checks.one_of(policy, POLICIES, "overflow policy", fn)
    msg = (f"{fn}: {{}} {what} exceed the static capacity {capacity}; raise `capacity` or use "
           f"overflow='dense'.")
    if _checks.is_concrete(count):
        if int(count) <= capacity:
            return sparse_fn()
        if policy == "error":
            raise ValueError(msg.format(int(count)))
        return dense_fn()
    if policy == "dense":
        return jax.lax.cond(count <= capacity, sparse_fn, dense_fn)

    def _raise(c):
        if int(c) > capacity:
            raise ValueError(msg.format(int(c)))

    jax.debug.callback(_raise, count)
    return sparse_fn()
