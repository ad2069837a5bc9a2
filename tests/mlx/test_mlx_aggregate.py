"""MLX aggregate/tac/tac_tp against JAX: K in {1,2,3,4} with T = 7, conv and dense ops, gradients."""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from xbackend import (  # noqa: E402
    assert_forward,
    assert_grad,
    assert_spikes_match,
    jax_conv,
    mlx_conv,
)

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402
from tacjax.mlx.convert import dense_to_mlx, hwio_to_ohwi, ohwi_to_hwio  # noqa: E402

T, B, H, W, CI, CO = 7, 2, 4, 4, 3, 4  # T = 7: K = 2, 3, 4 leave a short last chunk
KS = (1, 2, 3, 4)


def _data(seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((T, B, H, W, CI)) < 0.4).astype(np.float32)
    w = rng.normal(0, 0.5, (3, 3, CI, CO)).astype(np.float32)  # HWIO
    return x, w


def test_helpers_and_constants():
    assert tm.WEIGHTS == tacjax.WEIGHTS
    for k in KS:
        assert tm.chunk_lengths(T, k) == tacjax.chunk_lengths(T, k)
        for mode in ("baseline", "tac", "tac_tp"):
            assert tm.conv_calls(T, k, mode) == tacjax.conv_calls(T, k, mode)
        assert_forward(tm.init_weight_logits(k, 0.8), tacjax.init_weight_logits(k, 0.8))
    bj = tacjax.aggregation_weights(3, "beta", jnp.asarray([0.5, 0.9]))
    assert_forward(tm.aggregation_weights(3, "beta", mx.array([0.5, 0.9])), bj)


def test_conv_layout_roundtrip():
    x, w = _data(0)
    np.testing.assert_array_equal(ohwi_to_hwio(hwio_to_ohwi(w)), w)
    assert_forward(mlx_conv(hwio_to_ohwi(w), 1)(mx.array(x[0])), jax_conv(w, "SAME")(jnp.asarray(x[0])))
    assert_forward(mlx_conv(hwio_to_ohwi(w), 0)(mx.array(x[0])), jax_conv(w, "VALID")(jnp.asarray(x[0])))


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("weights", ["beta", "sum", "mean", "explicit"])
def test_aggregate_matches(k, weights):
    x, _ = _data(k)
    wts = np.linspace(0.2, 1.0, k).astype(np.float32) if weights == "explicit" else weights
    aj = tacjax.aggregate(jnp.asarray(x), k, wts if isinstance(wts, str) else jnp.asarray(wts), 0.8)
    am = tm.aggregate(mx.array(x), k, wts if isinstance(wts, str) else mx.array(wts), 0.8)
    assert_forward(am, aj)


def _run(mod, fn, x, op, k, **kw):
    f = getattr(mod, fn)
    s, h = f(x, op, k, return_membrane=True, **kw)
    _, v = f(x, op, k, **kw)
    return s, h, v


def _out_steps(fn, k):
    return len(tacjax.chunk_lengths(T, k)) if fn == "tac" else T


CASES = [("tac", {}), ("tac_tp", {"share": "repeat"}), ("tac_tp", {"share": "mean"})]


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("fn,kw", CASES, ids=["tac", "tac_tp-repeat", "tac_tp-mean"])
def test_tac_conv_forward_and_grad(fn, kw, k):
    x, w = _data(10 + k)
    reset = ("subtract", "zero", "none", "subtract")[k - 1]
    pj, pm = tacjax.LIFParams(0.85, 1.0, reset), tm.LIFParams(0.85, 1.0, reset)
    r = np.random.default_rng(k).normal(size=(_out_steps(fn, k), B, H, W, CO)).astype(np.float32)

    def loss_j(x, w):  # one compiled JAX function per case: forward outputs as aux, and grads
        s, h, v = _run(tacjax, fn, x, jax_conv(w), k, params=pj, **kw)
        return jnp.sum(s * r) + 0.1 * jnp.sum(h * r), (s, h, v)

    def loss_m(x, w):
        s, h = getattr(tm, fn)(x, mlx_conv(w), k, pm, return_membrane=True, **kw)
        return mx.sum(s * mx.array(r)) + 0.1 * mx.sum(h * mx.array(r))

    (_, (sj, hj, vj)), (gxj, gwj) = jax.jit(jax.value_and_grad(loss_j, (0, 1), has_aux=True))(
        jnp.asarray(x), jnp.asarray(w))
    sm, hm, vm = _run(tm, fn, mx.array(x), mlx_conv(hwio_to_ohwi(w)), k, params=pm, **kw)
    assert_spikes_match(sm, sj, hm, hj, 1.0)
    assert 0.02 < float(np.asarray(sj).mean()) < 0.98
    assert_forward(vm, vj, what="v_final")
    gxm, gwm = mx.grad(loss_m, argnums=(0, 1))(mx.array(x), hwio_to_ohwi(w))
    assert_grad(gxm, gxj, what="d/dx")
    assert_grad(ohwi_to_hwio(gwm), gwj, what="d/dkernel")


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("fn", ["tac", "tac_tp"])
def test_tac_dense_per_channel_and_options(fn, k):
    """Dense op with bias, per-channel LIF params, agg_beta, v0, learnable weights, detach_reset."""
    rng = np.random.default_rng(20 + k)
    x = rng.normal(0.3, 0.5, (T, B, 6)).astype(np.float32)
    wd = rng.normal(0, 0.6, (6, 5)).astype(np.float32)
    bias = rng.normal(0, 0.1, 5).astype(np.float32)
    beta = np.linspace(0.5, 0.95, 5).astype(np.float32)
    thr = np.linspace(0.7, 1.2, 5).astype(np.float32)
    v0 = rng.normal(0, 0.2, (B, 5)).astype(np.float32)
    logits = rng.normal(size=k).astype(np.float32)
    r = rng.normal(size=(_out_steps(fn, k), B, 5)).astype(np.float32)
    pj = tacjax.LIFParams(jnp.asarray(beta), jnp.asarray(thr), "subtract", True)
    pm = tm.LIFParams(mx.array(beta), mx.array(thr), "subtract", True)
    w_mx = dense_to_mlx(wd)

    def opj(z):
        return z @ jnp.asarray(wd) + jnp.asarray(bias)

    def opm(z):
        return z @ w_mx.T + mx.array(bias)

    def loss_j(x, lg):
        outs = [_run(tacjax, fn, x, opj, k, params=pj, v0=v0, **kw)
                for kw in ({"agg_beta": 0.7}, {"weights": "mean"})]
        s, v = getattr(tacjax, fn)(x, opj, k, pj, weights=jax.nn.softmax(lg), v0=v0)
        return jnp.sum(s * r) + jnp.sum(v ** 2), outs

    def loss_m(x, lg):
        s, v = getattr(tm, fn)(x, opm, k, pm, weights=mx.softmax(lg), v0=mx.array(v0))
        return mx.sum(s * mx.array(r)) + mx.sum(v ** 2)

    (_, outs), gj = jax.jit(jax.value_and_grad(loss_j, (0, 1), has_aux=True))(
        jnp.asarray(x), jnp.asarray(logits))
    for (sj, hj, vj), kw in zip(outs, ({"agg_beta": 0.7}, {"weights": "mean"}), strict=True):
        sm, hm, vm = _run(tm, fn, mx.array(x), opm, k, params=pm, v0=mx.array(v0), **kw)
        assert_spikes_match(sm, sj, hm, hj, thr)
        assert_forward(vm, vj)
    gm = mx.grad(loss_m, argnums=(0, 1))(mx.array(x), mx.array(logits))
    assert_grad(gm[0], gj[0], what="d/dx")
    assert_grad(gm[1], gj[1], what="d/dlogits")


def test_errors_match_jax_messages():
    x, w = _data(0)
    op = mlx_conv(hwio_to_ohwi(w))
    opj = jax_conv(w)
    cases = [
        (lambda tj, o: tj.tac(x, o, 8), ValueError),
        (lambda tj, o: tj.tac(x, o, 2.0), TypeError),
        (lambda tj, o: tj.tac(x, o, 2, tj.LIFParams(beta=np.full(CO, 0.9, np.float32))), ValueError),
        (lambda tj, o: tj.tac_tp(x, o, 2, share="sum"), ValueError),
        (lambda tj, o: tj.tac(x, lambda z: z.sum(0), 2), ValueError),
        (lambda tj, o: tj.tac(x, None, 2), TypeError),
        (lambda tj, o: tj.aggregate(x, 3, np.ones(2, np.float32)), ValueError),
        (lambda tj, o: tj.aggregate(x, 3, "max"), ValueError),
        (lambda tj, o: tj.conv_calls(T, 2, "fast"), ValueError),
        (lambda tj, o: tj.tac(x, o, 2, tj.LIFParams(threshold=np.nan)), ValueError),
        (lambda tj, o: tj.tac_tp(x, lambda z: (o(z), o(z)), 2), TypeError),
    ]
    for case, exc in cases:  # the same type and the same words in both backends
        with pytest.raises(exc) as em:
            case(tm, op)
        with pytest.raises(exc) as ej:
            case(tacjax, opj)
        msg_m = str(em.value).replace("mx.array", "X").replace("MLX", "X")
        msg_j = str(ej.value).replace("JAX array", "X").replace("JAX", "X")
        assert msg_m.split(";")[0] == msg_j.split(";")[0], (msg_m, msg_j)


@pytest.mark.parametrize("fn", ["tac", "tac_tp"])
def test_leak_and_reset_potentials_match_jax(fn):
    x, w = _data(5)
    kw = dict(beta=0.85, threshold=1.0, reset="zero", v_leak=0.3, v_reset=-0.2)
    sj, hj = getattr(tacjax, fn)(jnp.asarray(x), jax_conv(w), 3, tacjax.LIFParams(**kw), return_membrane=True)
    sm, hm = getattr(tm, fn)(mx.array(x), mlx_conv(hwio_to_ohwi(w)), 3, tm.LIFParams(**kw),
                             return_membrane=True)
    assert_spikes_match(sm, sj, hm, hj, 1.0)
    assert float(np.asarray(sj).mean()) > 0.02
