"""MLX synaptic, adaptive and recurrent scans with remat=True: the parameters' gradients (and the
recurrent weights') equal those without remat and JAX's.

MLX's ``mx.checkpoint`` differentiates only its arguments: a parameter captured by the checkpointed
step used to get a zero gradient.
"""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from xbackend import assert_grad  # noqa: E402

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402

RNG = np.random.default_rng(11)
X = RNG.normal(0.35, 0.6, (8, 3, 4)).astype(np.float32)
R = RNG.normal(size=X.shape).astype(np.float32)
W = RNG.normal(0, 0.3, (4, 4)).astype(np.float32)


def _run(lib, family, x, a, b, w, remat=None):
    """``family``'s scan with two learnable leaves ``a``, ``b`` (and ``w`` for the recurrent one)."""
    kw = {} if remat is None else {"remat": remat}
    if family == "synaptic":
        return lib.synaptic_scan(x, lib.SynapticParams(alpha=a, beta=b), **kw)
    if family == "alif":
        return lib.alif_scan(x, lib.ALIFParams(beta=a, b=b), **kw)
    return lib.rlif_scan(x, w, lib.LIFParams(beta=a, threshold=b), **kw)


@pytest.mark.parametrize("family", ["synaptic", "alif", "rlif"])
def test_parameter_gradients_survive_remat(family):
    def loss_j(x, a, b, w):
        s, state = _run(tacjax, family, x, a, b, w)
        return jnp.sum(s * R) + 0.3 * jnp.sum(state[0] * R[-1])

    def loss_m(x, a, b, w, remat):
        s, state = _run(tm, family, x, a, b, w, remat)
        r = mx.array(R)
        return mx.sum(s * r) + 0.3 * mx.sum(state[0] * r[-1])

    args = (np.float32(0.8), np.float32(0.9 if family != "rlif" else 1.0))
    gj = jax.grad(loss_j, argnums=(0, 1, 2, 3))(jnp.asarray(X), *map(jnp.asarray, args), jnp.asarray(W))
    for name, g in zip(("a", "b"), gj[1:3], strict=True):
        assert abs(float(g)) > 0, f"JAX d/d{name} is zero: the test would not see a lost gradient"
    for remat in (False, True):
        grad = mx.grad(lambda x, a, b, w, remat=remat: loss_m(x, a, b, w, remat), argnums=(0, 1, 2, 3))
        gm = grad(mx.array(X), *map(mx.array, args), mx.array(W))
        for name, m, j in zip(("x", "a", "b", "w_rec"), gm, gj, strict=True):
            if name == "w_rec" and family != "rlif":
                continue
            assert_grad(m, j, what=f"{family} d/d{name} remat={remat}")
