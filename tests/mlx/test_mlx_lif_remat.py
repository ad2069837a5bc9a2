"""MLX lif_scan with remat=True: the same gradients as without remat and as JAX, for every reset.

Under reset "none" the membrane after reset is the membrane before it (one array returned twice
by the checkpointed step), which MLX's ``mx.checkpoint`` used to lose the gradient of.
"""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from xbackend import assert_grad  # noqa: E402

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402

RNG = np.random.default_rng(7)
X = RNG.normal(0.35, 0.6, (8, 3, 4)).astype(np.float32)
R = RNG.normal(size=X.shape).astype(np.float32)
V0 = RNG.normal(0, 0.2, X.shape[1:]).astype(np.float32)


@pytest.mark.parametrize("return_membrane", [False, True])
@pytest.mark.parametrize("reset", tacjax.RESETS)
def test_lif_scan_remat_gradient_matches_jax(reset, return_membrane):
    """d/dx and d/dbeta of spikes and of the final state (or membrane trace), remat on and off."""

    def loss_j(x, beta):
        s, v = tacjax.lif_scan(x, tacjax.LIFParams(beta=beta, reset=reset), v0=jnp.asarray(V0),
                               return_membrane=return_membrane)
        return jnp.sum(s * R) + 0.3 * jnp.sum(v * R[-1] if not return_membrane else v * R)

    def loss_m(x, beta, remat):
        s, v = tm.lif_scan(x, tm.LIFParams(beta=beta, reset=reset), v0=mx.array(V0),
                           return_membrane=return_membrane, remat=remat)
        r = mx.array(R)
        return mx.sum(s * r) + 0.3 * mx.sum(v * r[-1] if not return_membrane else v * r)

    gj = jax.grad(loss_j, argnums=(0, 1))(jnp.asarray(X), jnp.float32(0.8))
    assert float(np.abs(np.asarray(gj[0])).max()) > 0
    for remat in (False, True):
        grad = mx.grad(lambda x, b, remat=remat: loss_m(x, b, remat), argnums=(0, 1))
        gm = grad(mx.array(X), mx.array(0.8))
        assert_grad(gm[0], gj[0], what=f"d/dx remat={remat}")
        assert_grad(gm[1], gj[1], what=f"d/dbeta remat={remat}")
