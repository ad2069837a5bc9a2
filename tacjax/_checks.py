"""Input validation shared by the public functions (private).

All checks run at trace time on static information (shapes, dtypes, Python values), so
they cost nothing inside ``jit``. Value checks (NaN, binary spikes) only run when the
array is concrete, i.e. outside ``jit``; under tracing they are skipped silently.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np


def is_concrete(x) -> bool:
    """True when ``x`` holds actual values (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def check_floating(x, name: str, fn: str) -> None:
    """Raise TypeError unless ``x`` has a floating dtype."""
    dtype = jnp.result_type(x)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(
            f"{fn}: argument `{name}` must have a floating dtype (float32, bfloat16, ...); "
            f"got dtype {dtype} with shape {jnp.shape(x)}. Cast it first, e.g. x.astype(jnp.float32)."
        )


def check_min_rank(x, rank: int, name: str, fn: str, expected: str) -> None:
    """Raise ValueError unless ``x.ndim >= rank``."""
    if jnp.ndim(x) < rank:
        raise ValueError(
            f"{fn}: argument `{name}` must have at least {rank} dimensions, shape {expected}; "
            f"got shape {jnp.shape(x)}."
        )


def check_rank(x, rank: int, name: str, fn: str, expected: str) -> None:
    """Raise ValueError unless ``x.ndim == rank``."""
    if jnp.ndim(x) != rank:
        raise ValueError(
            f"{fn}: argument `{name}` must have exactly {rank} dimensions, shape {expected}; "
            f"got shape {jnp.shape(x)}."
        )


def check_broadcasts_to(p, target: Sequence[int], name: str, fn: str) -> None:
    """Raise ValueError unless ``p`` broadcasts to ``target`` without changing ``target``.

    This is what forbids silent broadcasting: a per-channel parameter of shape ``(C,)`` may
    broadcast against a frame ``[B, H, W, C]``, but never enlarge it.
    """
    shape = tuple(jnp.shape(p))
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


def check_static_k(k, num_steps: int, fn: str, name: str = "k") -> int:
    """Validate a static chunk length ``k`` (1 <= k <= T) and return it as ``int``."""
    if isinstance(k, jax.core.Tracer):
        raise TypeError(
            f"{fn}: `{name}` must be a static Python int here (it sets output shapes); got a traced "
            f"value. To vmap or jit over K use the shape-stable `{fn}_dynamic` instead."
        )
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"{fn}: `{name}` must be an int; got {type(k).__name__} {k!r}.")
    k = int(k)
    if k < 1 or k > num_steps:
        raise ValueError(
            f"{fn}: `{name}` must satisfy 1 <= {name} <= T = {num_steps}; got {name}={k}."
        )
    return k


def check_no_nan(x, name: str, fn: str) -> None:
    """Raise ValueError if a concrete ``x`` contains NaN (no-op under tracing)."""
    if is_concrete(x) and bool(jnp.any(jnp.isnan(x))):
        raise ValueError(f"{fn}: argument `{name}` contains NaN (shape {jnp.shape(x)}).")


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


def one_of(value: str, allowed: Sequence[str], name: str, fn: str) -> str:
    """Raise ValueError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{fn}: unknown {name} {value!r}; expected one of {tuple(allowed)}.")
    return value
