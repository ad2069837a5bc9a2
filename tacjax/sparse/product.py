"""Product sparsity (Prosperity, Wei et al., HPCA 2025): the matmul that reuses a planned forest.

``tacjax.sparse.forest`` plans on the host (NumPy): for every row of a binary ``S [M, K]`` and
every column tile, the prefix row whose partial product it reuses, and the residual ones still
to add. Here that plan is executed in JAX: visiting rows by ascending ``(ones, index)``,
``P[r] = P[prefix(r)] + sum_{k in residual(r)} W[k, :]``, which is exact. The execution
(``run_plan``) is jittable for a fixed plan: per-residual gather + segment-sum, then one
gather-add per level of the prefix forest, touching only the rows that have a prefix.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from tacjax.sparse._common import Padding, check_conv_args, geometry, require_binary
from tacjax.sparse.forest import DEFAULT_TILE, ProductPlan, product_plan
from tacjax.sparse.im2col import gemm_weights, im2col

__all__ = ["execute_plan", "plan_arrays", "product_conv", "product_matmul", "run_plan"]


def plan_arrays(plan: ProductPlan) -> dict:
    """The plan as device arrays for ``run_plan``: residual entries and per-level gather indices.

    Returns:
        ``{"cols": [nnz], "rows": [nnz], "levels": ((idx, src), ...)}``: residual entry columns,
        their flat partial-product rows ``j*M + m``, and for every forest level the flat rows and
        the flat prefix rows they add.
    """
    m, _ = plan.shape
    kt = plan.prefix.shape[0]
    rows, cols = np.nonzero(plan.residual)
    flat_pref = (plan.prefix + (np.arange(kt) * m)[:, None]).reshape(-1)
    return {
        "cols": jnp.asarray(cols, jnp.int32),
        "rows": jnp.asarray((cols // plan.tile[1]) * m + rows, jnp.int32),
        "levels": tuple((jnp.asarray(i, jnp.int32), jnp.asarray(flat_pref[i], jnp.int32))
                        for i in plan.levels),
    }


@partial(jax.jit, static_argnames=("kt", "m"))
def run_plan(w: jax.Array, arrays: dict, *, kt: int, m: int) -> jax.Array:
    """Jitted execution of ``plan_arrays`` on weights ``w [K, N]``: returns ``[M, N]``.

    The plan enters as arguments (not constants), so XLA cannot fold the work away at compile time.
    """
    part = jax.ops.segment_sum(w[arrays["cols"]], arrays["rows"], num_segments=kt * m)  # [kt*M, N]
    for idx, src in arrays["levels"]:  # ascending depth: each row's prefix is final before it is read
        part = part.at[idx].add(part[src])
    return part.reshape(kt, m, -1).sum(0)


def execute_plan(plan: ProductPlan, w: jax.Array) -> jax.Array:
    """``S @ w`` computed with reuse from a plan (pure JAX).

    Accumulates ``nnz(residual) * N`` weight entries, plus one row addition per reused row.

    Args:
        plan: from ``product_plan(S)``.
        w: ``[K, N]`` weights.

    Returns:
        ``[M, N]``, equal to ``S @ w`` up to float summation order.
    """
    w = jnp.asarray(w)
    m, k = plan.shape
    if w.ndim != 2 or w.shape[0] != k:
        raise ValueError(f"execute_plan: `w` must have shape [K, N] with K = {k}; got {w.shape}.")
    return run_plan(w, plan_arrays(plan), kt=plan.prefix.shape[0], m=m)


def product_matmul(s, w: jax.Array, *, tile: tuple[int, int] = DEFAULT_TILE) -> jax.Array:
    """Binary ``S [M, K] @ W [K, N]`` with Prosperity's reuse: ``execute_plan(product_plan(S), W)``.

    ``S`` must be concrete (the plan is searched on the host); ValueError if it is not binary.
    """
    return execute_plan(product_plan(s, tile), w)


def product_conv(spikes: jax.Array, w: jax.Array, *, stride=1, padding: Padding = "SAME",
                 num_steps: int | None = None, tile: tuple[int, int] = DEFAULT_TILE) -> jax.Array:
    """Strategy "product": Prosperity's GEMM layout, host prefix plan, execution with reuse.

    Args:
        spikes: concrete binary ``[N, H, W, C]``. With ``num_steps = T`` the batch axis is read as
            time-major ``N = T*B`` and each position's T timesteps become adjacent GEMM rows (where
            most reuse is); otherwise each sample is its own row block (T = 1).
        w: ``[kh, kw, C, O]``.
        stride, padding: as in ``tacjax.sparse.conv``.
        num_steps: T, or None.
        tile: prefix-search tile.

    Returns:
        ``[N, Ho, Wo, O]``. Not jittable (the plan is built on the host).
    """
    spikes, w = check_conv_args(spikes, w, "product_conv")
    if isinstance(spikes, jax.core.Tracer):
        raise TypeError("product_conv: `spikes` must be concrete (host prefix search); call it outside jit.")
    require_binary(spikes, "product_conv")
    n, h, wd, c = spikes.shape
    t = 1 if num_steps is None else int(num_steps)
    if t < 1 or n % t:
        raise ValueError(f"product_conv: `num_steps` = {num_steps} must divide the batch N = {n}.")
    kh, kw, _, o = w.shape
    s = im2col(spikes.reshape(t, n // t, h, wd, c), (kh, kw), stride, padding)
    out = product_matmul(np.asarray(s), gemm_weights(w), tile=tile)  # rows (b, oy, ox, t)
    ho, wo = geometry(spikes.shape, w.shape, stride, padding, "product_conv")[2]
    return out.reshape(n // t, ho * wo, t, o).transpose(2, 0, 1, 3).reshape(n, ho, wo, o)
