"""The LIF's hand-written gradient equals autodiff of a plain ``lax.scan`` written here, on every path."""

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tacjax as tj

ARGS = ("x", "beta", "threshold", "v_leak", "v_reset", "v0")


def plain_scan(x, p, v0=None, surrogate=tj.fast_sigmoid, step_beta=None):
    """The LIF as a user writes it (autodiff through ``lax.scan``): spikes, membranes, final v."""

    def body(v, inp):
        xt, b = inp
        b = p.beta if b is None else b
        h = b * v + (1 - b) * p.v_leak + xt
        s = surrogate(h - p.threshold)
        r = jax.lax.stop_gradient(s) if p.detach_reset else s
        if p.reset == "subtract":
            v = h - p.threshold * r
        elif p.reset == "zero":
            v = h * (1 - r) + p.v_reset * r
        else:
            v = h
        return v, (s, h)

    v = jnp.zeros(x.shape[1:], x.dtype) if v0 is None else v0
    v, (s, h) = jax.lax.scan(body, v, (x, step_beta))
    return s, h, v


def _data(num_steps=9, state=(2, 3), seed=0):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(0.45, 0.6, (num_steps,) + state), jnp.float32)
    w_s, w_h = (jnp.asarray(rng.normal(size=(num_steps,) + state), jnp.float32) for _ in range(2))
    w_v = jnp.asarray(rng.normal(size=state), jnp.float32)
    v0 = jnp.asarray(rng.normal(0.0, 0.3, state), jnp.float32)
    return x, w_s, w_h, w_v, v0


def _params(per_channel, rng):
    shape = (3,) if per_channel else ()
    return (jnp.asarray(rng.uniform(0.5, 0.95, shape), jnp.float32), jnp.asarray(rng.uniform(0.7, 1.2, shape),
                                                                                   jnp.float32),
            jnp.asarray(rng.normal(0.2, 0.1, shape), jnp.float32), jnp.asarray(rng.normal(-0.1, 0.1, shape),
                                                                                 jnp.float32))


def _assert_grads_equal(got, want, names=ARGS, rtol=2e-4, atol=2e-5):
    for name, a, b in zip(names, got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("reset, detach, per_channel, membrane",
                         list(itertools.product(tj.RESETS, (False, True), (False, True), (False, True))))
def test_every_input_gets_the_autodiff_gradient(reset, detach, per_channel, membrane):
    x, w_s, w_h, w_v, v0 = _data(seed=len(reset) + 2 * detach + 4 * per_channel)
    params = _params(per_channel, np.random.default_rng(int(membrane)))

    def loss(fn, x, beta, thr, vl, vr, v0):
        p = tj.LIFParams(beta, thr, reset, detach, vl, vr)
        s, h, v = fn(x, p, v0)
        return jnp.sum(s * w_s) + (jnp.sum(h * w_h) if membrane else jnp.sum(v * w_v))

    def ours(x, p, v0):
        s, out = tj.lif_scan(x, p, v0=v0, return_membrane=membrane)
        return (s, out, None) if membrane else (s, None, out)

    args = (x, *params, v0)
    got = jax.jit(jax.grad(functools.partial(loss, ours), argnums=range(6)))(*args)
    want = jax.grad(functools.partial(loss, plain_scan), argnums=range(6))(*args)
    _assert_grads_equal(got, want)
    assert float(jnp.abs(got[0]).sum()) > 0 and float(jnp.abs(got[2]).sum()) > 0
    if reset == "zero":
        assert float(jnp.abs(got[4]).sum()) > 0  # v_reset is reached


def _custom_spike():
    @jax.custom_jvp
    def spike(u):
        return (u >= 0).astype(u.dtype)

    spike.defjvp(lambda p, t: (spike(p[0]), t[0] * jnp.exp(-4.0 * p[0] ** 2)))
    return spike


@pytest.mark.parametrize("surrogate", [*tj.SURROGATES, "custom_jvp"])
def test_every_surrogate(surrogate):
    fn = _custom_spike() if surrogate == "custom_jvp" else tj.get_surrogate(surrogate)
    x, w_s, _, w_v, _ = _data(seed=3)
    p = tj.LIFParams(0.85, 0.9, "zero")

    def loss(x, thr):
        q = tj.LIFParams(p.beta, thr, p.reset)
        s, v = tj.lif_scan(x, q, surrogate=fn)
        return jnp.sum(s * w_s) + jnp.sum(v * w_v)

    def ref(x, thr):
        s, _, v = plain_scan(x, tj.LIFParams(p.beta, thr, p.reset), surrogate=fn)
        return jnp.sum(s * w_s) + jnp.sum(v * w_v)

    _assert_grads_equal(jax.grad(loss, (0, 1))(x, 0.9), jax.grad(ref, (0, 1))(x, 0.9), ("x", "threshold"))


def test_traced_slope_closure_under_jit_and_vmap():
    """A spike function closing over a traced slope (jit argument, vmapped axis) still works."""
    x, w_s, _, _, _ = _data(seed=4)

    def loss(fn, slope):
        spike = tj.get_surrogate("atan", slope)
        return jnp.sum(fn(x, spike) * w_s)

    def ours(x, spike):
        return tj.lif_scan(x, tj.LIFParams(0.8, 1.0), surrogate=spike)[0]

    def ref(x, spike):
        return plain_scan(x, tj.LIFParams(0.8, 1.0), surrogate=spike)[0]

    gx = jax.jit(lambda sl: jax.grad(lambda x: jnp.sum(ours(x, tj.get_surrogate("atan", sl)) * w_s))(x))
    gx_ref = jax.grad(lambda x: jnp.sum(ref(x, tj.get_surrogate("atan", 3.0)) * w_s))(x)
    np.testing.assert_allclose(gx(3.0), gx_ref, rtol=2e-4, atol=2e-5)
    slopes = jnp.array([1.0, 2.0, 5.0])
    g = jax.vmap(jax.grad(lambda sl: loss(ours, sl)))(slopes)
    np.testing.assert_array_equal(g, 0.0)  # the slope receives no gradient (as documented)
    gxs = jax.vmap(gx)(slopes)
    assert not np.allclose(gxs[0], gxs[2])  # the slope really changed the gradient


def test_remat_vmap_and_jit_agree():
    x, w_s, _, w_v, v0 = _data(num_steps=12, seed=5)

    def loss(x, beta, remat):
        s, v = tj.lif_scan(x, tj.LIFParams(beta, 1.0, "zero"), v0=v0, remat=remat)
        return jnp.sum(s * w_s) + jnp.sum(v * w_v)

    g = jax.grad(loss, (0, 1))(x, 0.9, False)
    _assert_grads_equal(jax.jit(jax.grad(loss, (0, 1)), static_argnums=2)(x, 0.9, True), g, ("x", "beta"))
    betas = jnp.array([0.6, 0.9])
    gv = jax.vmap(jax.grad(loss, (0, 1)), in_axes=(None, 0, None))(x, betas, False)
    for i, b in enumerate(betas):
        _assert_grads_equal((gv[0][i], gv[1][i]), jax.grad(loss, (0, 1))(x, b, False), ("x", "beta"))
    xs = jnp.stack([x, x[::-1]])
    gxs = jax.vmap(jax.grad(loss), in_axes=(0, None, None))(xs, 0.9, False)
    np.testing.assert_allclose(gxs[1], jax.grad(loss)(xs[1], 0.9, False), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_grad_of_grad_matches_autodiff(reset):
    x, w_s, _, w_v, _ = _data(num_steps=7, seed=6)
    p = tj.LIFParams(0.8, 0.9, reset)

    def inner(fn, beta):
        q = tj.LIFParams(beta, p.threshold, p.reset)
        return jax.grad(lambda x: jnp.sum(fn(x, q) * w_s))(x)

    def outer(fn, beta):
        return jnp.sum(jnp.tanh(inner(fn, beta)) * w_v)

    ours = jax.grad(functools.partial(outer, lambda x, q: tj.lif_scan(x, q, surrogate="sigmoid")[0]))(0.8)
    sig = tj.get_surrogate("sigmoid")
    want = jax.grad(functools.partial(outer, lambda x, q: plain_scan(x, q, surrogate=sig)[0]))(0.8)
    np.testing.assert_allclose(ours, want, rtol=1e-4, atol=1e-6)
    assert abs(float(want)) > 0


def test_forward_mode_is_refused_and_lif_step_scan_is_the_alternative():
    x, *_ = _data(seed=7)
    with pytest.raises(TypeError, match="custom_vjp"):
        jax.jvp(lambda x: tj.lif_scan(x)[0], (x,), (jnp.ones_like(x),))
    p = tj.LIFParams()
    step = functools.partial(tj.lif_step, params=p)
    scan = jax.jit(lambda x: jax.lax.scan(step, jnp.zeros(x.shape[1:]), x)[1])
    _, tangent = jax.jvp(lambda x: jnp.sum(scan(x)), (x,), (jnp.ones_like(x),))
    np.testing.assert_allclose(tangent, jnp.sum(jax.grad(lambda x: tj.lif_scan(x)[0].sum())(x)), rtol=1e-5)


def test_low_precision_gradient_follows_float32():
    """bfloat16 input integrates in float32: its gradient is the float32 one up to the bfloat16
    rounding of the incoming cotangent and of the result."""
    x, w_s, *_ = _data(num_steps=16, seed=8)
    x16 = x.astype(jnp.bfloat16)
    g32 = jax.grad(lambda x: jnp.sum(tj.lif_scan(x)[0] * w_s))(x16.astype(jnp.float32))
    g16 = jax.grad(lambda x: jnp.sum(tj.lif_scan(x)[0].astype(jnp.float32) * w_s))(x16)
    assert g16.dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(g16, np.float32), g32, rtol=2e-2, atol=1e-3)


def test_zero_steps():
    s, v = tj.lif_scan(jnp.zeros((0, 3)), v0=jnp.ones(3))
    assert s.shape == (0, 3)
    np.testing.assert_array_equal(v, 1.0)


@pytest.mark.parametrize("mode", ["tac", "tac_tp"])
def test_tac_paths_get_the_autodiff_gradient(mode):
    """Per-step beta (TAC's ``beta**L``) and shared chunk currents (TAC-TP's row ``t // K``), short
    last chunk included, against the same network written with a plain scan; traced K agrees."""
    rng = np.random.default_rng(9)
    x = jnp.asarray(rng.random((7, 2, 3)) < 0.5, jnp.float32)
    w = jnp.asarray(rng.normal(0.3, 0.6, (3, 4)), jnp.float32)
    w_s, w_v = jnp.asarray(rng.normal(size=(7, 2, 4)), jnp.float32), jnp.asarray(rng.normal(size=(2, 4)),
                                                                                 jnp.float32)
    k, lengths = 3, np.array([3, 3, 1])
    static = getattr(tj, mode)

    def ours(x, w, beta, thr, fn=static, k=k):
        kw = {"share": "mean"} if mode == "tac_tp" else {}
        s, v = fn(x, lambda z: z @ w, k, tj.LIFParams(beta, thr, "zero", v_leak=0.1), **kw)
        return jnp.sum(s * w_s[: s.shape[0]]) + jnp.sum(v * w_v)

    def ref(x, w, beta, thr):
        cur = tj.aggregate(x, k, "beta", beta) @ w
        p = tj.LIFParams(beta, thr, "zero", v_leak=0.1)
        if mode == "tac":
            s, _, v = plain_scan(cur, p, step_beta=beta ** jnp.asarray(lengths, jnp.float32))
        else:
            drive = jnp.repeat(cur / jnp.asarray(lengths, jnp.float32)[:, None, None], lengths, axis=0,
                               total_repeat_length=7)
            s, _, v = plain_scan(drive, p)
        return jnp.sum(s * w_s[: s.shape[0]]) + jnp.sum(v * w_v)

    args, names = (x, w, 0.85, 0.8), ("x", "w", "beta", "threshold")
    got = jax.grad(ours, argnums=range(4))(*args)
    _assert_grads_equal(got, jax.grad(ref, argnums=range(4))(*args), names)
    dyn = getattr(tj, f"{mode}_dynamic")
    traced = jax.jit(jax.grad(lambda x, w, b, t, k: ours(x, w, b, t, dyn, k), argnums=range(4)))
    _assert_grads_equal(traced(*args, jnp.int32(k)), got, names)
    assert all(float(jnp.abs(g).sum()) > 0 for g in got)


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the bound is XLA:CPU's buffer assignment")
@pytest.mark.parametrize("reset", tj.RESETS)
def test_forward_backward_allocates_at_most_three_inputs(reset):
    """Beyond its arguments, grad of lif_scan's default call allocates <= 3x its input's bytes (the
    membrane residual, the input's cotangent, and room to spare; autodiff of lax.scan takes 4x for
    the zero reset). XLA's compile-time memory analysis is deterministic."""
    x = jnp.zeros((64, 16, 64), jnp.float32)
    f = jax.jit(jax.grad(lambda x: jnp.sum(tj.lif_scan(x, tj.LIFParams(reset=reset))[0])))
    ma = f.lower(x).compile().memory_analysis()
    beyond = ma.temp_size_in_bytes + ma.output_size_in_bytes - ma.alias_size_in_bytes
    assert beyond <= 3 * x.nbytes, beyond / x.nbytes
