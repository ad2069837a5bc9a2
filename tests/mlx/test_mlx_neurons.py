"""MLX LIF against JAX: lif_step/lif_scan forward, spikes (with the spike rule), gradients, errors."""

import itertools

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from xbackend import (  # noqa: E402
    ambiguous_mask,
    assert_forward,
    assert_grad,
    assert_spikes_match,
)

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402

RNG = np.random.default_rng(1)
T, B, C = 9, 3, 4
X = RNG.normal(0.35, 0.6, (T, B, C)).astype(np.float32)
BETA_C = np.array([0.5, 0.8, 0.9, 1.0], np.float32)
THR_C = np.array([0.6, 1.0, 1.2, 0.8], np.float32)
V_LEAK_C = np.array([0.3, -0.2, 0.0, 0.5], np.float32)
V_RESET_C = np.array([-0.1, 0.2, 0.0, -0.3], np.float32)


def _params(mod, beta, thr, reset, detach, v_leak=0.0, v_reset=0.0):
    return mod.LIFParams(beta=beta, threshold=thr, reset=reset, detach_reset=detach, v_leak=v_leak,
                         v_reset=v_reset)


def test_lifparams_same_fields_and_defaults():
    import dataclasses

    fj = [(f.name, f.default) for f in dataclasses.fields(tacjax.LIFParams)]
    fm = [(f.name, f.default) for f in dataclasses.fields(tm.LIFParams)]
    assert fj == fm
    assert tm.RESETS == tacjax.RESETS
    with pytest.raises(ValueError, match="unknown reset"):
        tm.LIFParams(reset="soft")
    with pytest.raises(dataclasses.FrozenInstanceError):
        tm.LIFParams().beta = 0.5


@pytest.mark.parametrize("reset,detach,per_channel",
                         [(r, d, p) for r, (d, p) in itertools.product(tacjax.RESETS,
                                                                       [(False, True), (True, False)])])
def test_lif_scan_matches_jax(reset, detach, per_channel):
    """Spikes, membranes, final state and gradients w.r.t. x and every parameter (v_leak, v_reset too)."""
    beta, thr = (BETA_C, THR_C) if per_channel else (0.9, 1.0)
    v_leak, v_reset = (V_LEAK_C, V_RESET_C) if per_channel else (0.2, -0.15)
    pm = _params(tm, beta, thr, reset, detach, v_leak, v_reset)
    rng = np.random.default_rng([tacjax.RESETS.index(reset), detach, per_channel])
    v0 = rng.normal(0, 0.2, (B, C)).astype(np.float32)
    r = rng.normal(size=X.shape).astype(np.float32)

    def loss_j(x, b, t, vl, vr):  # one compiled JAX function: forward outputs as aux, and the grads
        p = _params(tacjax, b, t, reset, detach, vl, vr)
        s, h = tacjax.lif_scan(x, p, v0=v0, return_membrane=True)
        _, v = tacjax.lif_scan(x, p, v0=v0)
        return jnp.sum(s * r) + 0.1 * jnp.sum(h * r), (s, h, v)

    def loss_m(x, b, t, vl, vr):
        s, h = tm.lif_scan(x, _params(tm, b, t, reset, detach, vl, vr), v0=mx.array(v0), return_membrane=True)
        return mx.sum(s * mx.array(r)) + 0.1 * mx.sum(h * mx.array(r))

    args = tuple(a if per_channel else np.float32(a) for a in (beta, thr, v_leak, v_reset))
    (_, (sj, hj, vj)), gj = jax.jit(jax.value_and_grad(loss_j, (0, 1, 2, 3, 4), has_aux=True))(
        jnp.asarray(X), *map(jnp.asarray, args))
    sm, hm = tm.lif_scan(mx.array(X), pm, v0=mx.array(v0), return_membrane=True)
    _, vm = tm.lif_scan(mx.array(X), pm, v0=mx.array(v0))
    assert_spikes_match(sm, sj, hm, hj, thr)
    assert float(np.asarray(sj).mean()) > 0.05  # the comparison is not vacuous
    ok = ~ambiguous_mask([hm, hj], thr)[-1]
    assert_forward(np.array(vm)[ok], np.asarray(vj)[ok], what="v_final")
    gm = mx.grad(loss_m, argnums=(0, 1, 2, 3, 4))(mx.array(X), *map(mx.array, args))
    for a, b, n in zip(gm, gj, ("x", "beta", "threshold", "v_leak", "v_reset"), strict=True):
        if n == "v_reset" and reset != "zero":  # only "zero" uses v_reset: both gradients are 0
            assert float(np.abs(np.asarray(b)).max()) == 0.0 and float(np.abs(np.array(a)).max()) == 0.0
            continue
        assert_grad(a, b, what=f"d/d{n}")


def test_lif_step_and_remat():
    p = tacjax.LIFParams(reset="zero", v_reset=0.25)
    vj, sj = tacjax.lif_step(jnp.asarray(X[0]), jnp.asarray(X[1]), p)
    vm, sm = tm.lif_step(mx.array(X[0]), mx.array(X[1]), tm.LIFParams(reset="zero", v_reset=0.25))
    assert_forward(vm, vj)
    assert_forward(sm, sj)
    vd, sd = tm.lif_step(mx.array(X[0]), mx.array(X[1]), surrogate="atan")  # default params, named surrogate
    vdj, sdj = tacjax.lif_step(jnp.asarray(X[0]), jnp.asarray(X[1]))
    assert_forward(vd, vdj)
    assert_forward(sd, sdj)
    g1 = mx.grad(lambda x: mx.sum(tm.lif_scan(x, remat=True)[0] * x))(mx.array(X))
    g0 = mx.grad(lambda x: mx.sum(tm.lif_scan(x)[0] * x))(mx.array(X))
    np.testing.assert_allclose(np.array(g1), np.array(g0), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_low_precision_matches_jax(dtype):
    """Both backends integrate low-precision input in float32 and cast the outputs back."""
    x = np.random.default_rng(3).uniform(0, 0.12, (300, 16)).astype(np.float32)
    xm = mx.array(x).astype(getattr(mx, dtype))
    xj = jnp.asarray(x).astype(getattr(jnp, dtype))
    p = dict(beta=0.95, threshold=1.0)
    sm, hm = tm.lif_scan(xm, tm.LIFParams(**p), return_membrane=True)
    sj, hj = tacjax.lif_scan(xj, tacjax.LIFParams(**p), return_membrane=True)
    assert sm.dtype == hm.dtype == xm.dtype
    h32 = tacjax.lif_scan(xj.astype(jnp.float32), tacjax.LIFParams(**p), return_membrane=True)[1]
    assert_spikes_match(sm, sj, h32, h32, 1.0)
    assert float(np.asarray(sj, np.float32).mean()) > 0.01


def test_errors_name_the_argument():
    with pytest.raises(TypeError, match=r"`params` must be a tacjax.mlx.neurons.lif.LIFParams; got tacjax"):
        tm.lif_scan(X, tacjax.LIFParams())
    with pytest.raises(TypeError, match="floating"):
        tm.lif_scan(mx.array(X).astype(mx.int32))
    with pytest.raises(ValueError, match="params.beta"):
        tm.lif_scan(X, tm.LIFParams(beta=np.ones(5, np.float32)))
    with pytest.raises(ValueError, match="`v0`"):
        tm.lif_scan(X, v0=np.zeros((B, C + 1), np.float32))
    with pytest.raises(ValueError, match="same shape"):
        tm.lif_step(X[0], X[0, :2], tm.LIFParams())
    with pytest.raises(ValueError, match="at least 1 dimensions"):
        tm.lif_scan(np.float32(1.0))


def test_value_checks_skip_placeholders():
    """Inside mx.compile the parameters cannot be evaluated: no check (as under jax.jit), same result."""
    f = mx.compile(lambda x, b: tm.lif_scan(x, tm.LIFParams(beta=b))[0])
    np.testing.assert_array_equal(np.array(f(mx.array(X), mx.array(0.9))),
                                  np.array(tm.lif_scan(mx.array(X), tm.LIFParams(beta=0.9))[0]))


def test_spike_rule_helper():
    """The rule tolerates flips within 1e-5 of the threshold (and that neuron afterwards) only."""
    h = np.array([[0.2, 0.5], [1.0 + 4e-6, 1.4], [0.3, 0.1]], np.float32)  # [T=3, N=2]
    s = (h >= 1.0).astype(np.float32)
    flipped = s.copy()
    flipped[1, 0] = 0.0  # near-threshold flip ...
    h2 = h.copy()
    h2[2, 0] += 0.7  # ... whose neuron then diverges
    assert assert_spikes_match(flipped, s, h2, h, 1.0, max_excluded=0.5) == 2
    far = s.copy()
    far[1, 1] = 0.0  # a flip at |h - thr| = 0.4 must fail
    with pytest.raises(AssertionError, match="spikes differ"):
        assert_spikes_match(far, s, h, h, 1.0, max_excluded=0.5)


def test_mx_compile_gives_the_same_spikes_and_grads():
    """The docstrings recommend wrapping whole steps in mx.compile: it must not change results."""

    def loss(x):
        s, h = tm.lif_scan(x, tm.LIFParams(0.8, 0.7), return_membrane=True)
        return mx.sum(s * x) + 0.1 * mx.sum(h)

    x = mx.array(X)
    f, cf = mx.value_and_grad(loss), mx.compile(mx.value_and_grad(loss))
    (v0, g0), (v1, g1) = f(x), cf(x)
    np.testing.assert_allclose(v1.item(), v0.item(), rtol=1e-6)
    np.testing.assert_allclose(np.array(g1), np.array(g0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reset", tacjax.RESETS)
@pytest.mark.parametrize("window", [1, 4, None])
def test_lif_parallel_matches_jax(reset, window):
    """Same spikes, membranes, final state and rounds as JAX's lif_parallel; lif_scan's gradient."""
    x = np.concatenate([X, np.broadcast_to(X[:1] * 0.5 + 0.3, (12, B, C))]).astype(np.float32)  # + steady
    pj, pm = (_params(mod, BETA_C, THR_C, reset, False, V_LEAK_C, V_RESET_C) for mod in (tacjax, tm))
    v0 = np.random.default_rng(2).normal(0, 0.2, (B, C)).astype(np.float32)
    sj, hj, rj = tacjax.neurons.lif_parallel(jnp.asarray(x), pj, v0=jnp.asarray(v0), window=window,
                                             return_membrane=True, return_rounds=True)
    sm, hm, rm = tm.neurons.lif_parallel(mx.array(x), pm, v0=mx.array(v0), window=window,
                                         return_membrane=True, return_rounds=True)
    assert_spikes_match(sm, sj, hm, hj, THR_C)
    assert_forward(hm, hj, atol=2e-5)
    assert int(rj) == rm and float(np.asarray(sj).mean()) > 0.1
    _, vm = tm.neurons.lif_parallel(mx.array(x), pm, v0=mx.array(v0), window=window)
    _, vj = tacjax.neurons.lif_parallel(jnp.asarray(x), pj, v0=jnp.asarray(v0), window=window)
    assert_forward(vm, vj, atol=2e-5)
    r = np.random.default_rng(3).normal(size=x.shape).astype(np.float32)

    def loss_j(x, beta):
        s, v = tacjax.neurons.lif_parallel(x, _params(tacjax, beta, THR_C, reset, False), window=window)
        return jnp.sum(s * r) + jnp.sum(v)

    def loss_m(x, beta):
        s, v = tm.neurons.lif_parallel(x, _params(tm, beta, THR_C, reset, False), window=window)
        return mx.sum(s * mx.array(r)) + mx.sum(v)

    gj = jax.grad(loss_j, argnums=(0, 1))(jnp.asarray(x), jnp.asarray(BETA_C))
    gm = mx.grad(loss_m, argnums=(0, 1))(mx.array(x), mx.array(BETA_C))
    assert_grad(gm[0], gj[0], what="d/dx")
    assert_grad(gm[1], gj[1], what="d/dbeta")
