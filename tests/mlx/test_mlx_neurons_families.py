"""MLX synaptic, adaptive, recurrent and leaky-integrator neurons against JAX: spikes (the spike rule),
membranes and final states within 1e-5, gradients w.r.t. the input and every parameter within 1e-4."""

import itertools

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from xbackend import ambiguous_mask, assert_forward, assert_grad, assert_spikes_match  # noqa: E402

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402
from tacjax.common import docs  # noqa: E402

T, B, C = 9, 3, 4
RNG = np.random.default_rng(7)
W_REC = RNG.normal(0, 0.4, (C, C)).astype(np.float32)


def _channels(lo, hi):
    return np.linspace(lo, hi, C, dtype=np.float32)


def _lif_leaves(lv):
    return {k: v for k, v in lv.items() if k != "w_rec"}


# name -> (scan(mod, x, leaves, reset, detach, **kw), scalar leaves, per-channel leaves, state fields)
FAMILIES = {
    "synaptic": (
        lambda mod, x, lv, reset, detach, **kw: mod.synaptic_scan(
            x, mod.SynapticParams(reset=reset, detach_reset=detach, **lv), **kw),
        dict(alpha=0.7, beta=0.85, threshold=1.0, v_leak=0.2, v_reset=-0.15),
        dict(alpha=_channels(0.3, 0.9), beta=_channels(0.6, 1.0), threshold=_channels(0.7, 1.3),
             v_leak=_channels(-0.2, 0.4), v_reset=_channels(-0.3, 0.1)),
        ("i", "v"),
    ),
    "alif": (
        lambda mod, x, lv, reset, detach, **kw: mod.alif_scan(
            x, mod.ALIFParams(reset=reset, detach_reset=detach, **lv), **kw),
        dict(beta=0.85, threshold=1.0, rho=0.9, b=0.2, v_leak=0.2, v_reset=-0.15),
        dict(beta=_channels(0.6, 1.0), threshold=_channels(0.7, 1.3), rho=_channels(0.8, 0.99),
             b=_channels(0.05, 0.3), v_leak=_channels(-0.2, 0.4), v_reset=_channels(-0.3, 0.1)),
        ("v", "a"),
    ),
    "rlif": (
        lambda mod, x, lv, reset, detach, **kw: mod.rlif_scan(
            x, lv["w_rec"], mod.LIFParams(reset=reset, detach_reset=detach, **_lif_leaves(lv)), **kw),
        dict(beta=0.85, threshold=1.0, v_leak=0.2, v_reset=-0.15, w_rec=W_REC),
        dict(beta=_channels(0.6, 1.0), threshold=_channels(0.7, 1.3), v_leak=_channels(-0.2, 0.4),
             v_reset=_channels(-0.3, 0.1), w_rec=W_REC),
        ("v", "s"),
    ),
}
STATES = {"synaptic": "SynapticState", "alif": "ALIFState", "rlif": "RLIFState"}


def _state0(name, rng):
    fields = [rng.normal(0, 0.3, (B, C)).astype(np.float32) for _ in range(2)]
    if name == "alif":
        fields[1] = np.abs(fields[1]) * 3  # an adaptation trace is >= 0
    if name == "rlif":
        fields[1] = (fields[1] > 0.2).astype(np.float32)  # last step's spikes
    return fields


def _threshold(name, lv, spikes, a0):
    """The threshold each step fired against: ALIF's theta from its own spikes; else the constant."""
    thr = np.asarray(lv["threshold"], np.float64)
    if name != "alif":
        return thr
    a, theta = np.asarray(a0, np.float64), []
    for s in np.asarray(spikes, np.float64):
        theta.append(thr + np.asarray(lv["b"], np.float64) * a)
        a = np.asarray(lv["rho"], np.float64) * a + s
    return np.stack(theta)


CASES = [(n, r, d, p)
         for n, r, (d, p) in itertools.product(FAMILIES, tacjax.RESETS, [(False, True), (True, False)])]


@pytest.mark.parametrize("name,reset,detach,per_channel", CASES)
def test_scan_matches_jax(name, reset, detach, per_channel):
    scan, scalar, channel, fields = FAMILIES[name]
    leaves = {k: np.asarray(v, np.float32) for k, v in (channel if per_channel else scalar).items()}
    rng = np.random.default_rng([list(FAMILIES).index(name), tacjax.RESETS.index(reset), detach])
    x = rng.normal(0.35, 0.6, (T, B, C)).astype(np.float32)
    r = rng.normal(size=x.shape).astype(np.float32)
    st = _state0(name, rng)
    names = list(leaves)

    def loss_j(x, *vals):
        lv = dict(zip(names, vals, strict=True))
        s0 = getattr(tacjax, STATES[name])(*map(jnp.asarray, st))
        s, h = scan(tacjax, x, lv, reset, detach, state0=s0, return_membrane=True)
        final = scan(tacjax, x, lv, reset, detach, state0=s0)[1]
        return jnp.sum(s * r) + 0.1 * jnp.sum(h * r), (s, h, final)

    def loss_m(x, *vals):
        lv = dict(zip(names, vals, strict=True))
        s0 = getattr(tm, STATES[name])(*map(mx.array, st))
        s, h = scan(tm, x, lv, reset, detach, state0=s0, return_membrane=True)
        return mx.sum(s * mx.array(r)) + 0.1 * mx.sum(h * mx.array(r))

    argnums = tuple(range(len(names) + 1))
    (_, (sj, hj, fj)), gj = jax.jit(jax.value_and_grad(loss_j, argnums, has_aux=True))(
        jnp.asarray(x), *map(jnp.asarray, leaves.values()))
    s0m = getattr(tm, STATES[name])(*map(mx.array, st))
    lvm = {k: mx.array(v) for k, v in leaves.items()}
    sm, hm = scan(tm, mx.array(x), lvm, reset, detach, state0=s0m, return_membrane=True)
    _, fm = scan(tm, mx.array(x), lvm, reset, detach, state0=s0m)
    a0 = st[1] if name == "alif" else None
    thm, thj = _threshold(name, leaves, sm, a0), _threshold(name, leaves, sj, a0)
    assert_spikes_match(sm, sj, np.array(hm) - thm, np.asarray(hj) - thj, 0.0)
    assert 0.05 < float(np.asarray(sj).mean()) < 0.95  # the comparison is not vacuous
    assert type(fm) is getattr(tm, STATES[name]) and fm._fields == fields == fj._fields
    ok = ~ambiguous_mask([np.array(hm) - thm, np.asarray(hj) - thj], 0.0)[-1]
    for f in fields:
        assert_forward(np.array(getattr(fm, f))[ok], np.asarray(getattr(fj, f))[ok], what=f"final {f}")
    gm = mx.grad(loss_m, argnums=argnums)(mx.array(x), *lvm.values())
    for a, b, n in zip(gm, gj, ["x", *names], strict=True):
        if n == "v_reset" and reset != "zero":  # only "zero" uses v_reset: both gradients are 0
            assert float(np.abs(np.asarray(b)).max()) == 0.0 and float(np.abs(np.array(a)).max()) == 0.0
            continue
        assert_grad(a, b, what=f"{name} d/d{n}")


@pytest.mark.parametrize("name", list(FAMILIES))
def test_steps_remat_and_low_precision(name):
    """The step functions agree with JAX (default parameters); remat does not change the MLX
    gradient (for every reset); bfloat16 and float16 input is integrated in float32 and cast back."""
    scan, scalar, _, _ = FAMILIES[name]
    rng = np.random.default_rng(3)
    x = rng.normal(0.35, 0.6, (T, B, C)).astype(np.float32)
    st = _state0(name, rng)
    args = (mx.array(W_REC),) if name == "rlif" else ()
    jargs = (jnp.asarray(W_REC),) if name == "rlif" else ()
    step_m, step_j = getattr(tm, f"{name}_step"), getattr(tacjax, f"{name}_step")
    new_m, s_m = step_m(getattr(tm, STATES[name])(*map(mx.array, st)), mx.array(x[0]), *args)
    new_j, s_j = step_j(getattr(tacjax, STATES[name])(*map(jnp.asarray, st)), jnp.asarray(x[0]), *jargs)
    assert_forward(s_m, s_j)
    for a, b in zip(new_m, new_j, strict=True):
        assert_forward(a, b)
    lv = {k: mx.array(np.float32(v)) if np.ndim(v) == 0 else mx.array(v) for k, v in scalar.items()}

    def loss(x, reset, remat):
        s, h = scan(tm, x, lv, reset, False, remat=remat, return_membrane=True)
        return mx.sum(s * x) + mx.sum(h * x) + mx.sum(scan(tm, x, lv, reset, False, remat=remat)[1][0])

    for reset in tacjax.RESETS:  # under "none" the membrane is also the state: see _scan._checkpoint
        g0 = mx.grad(lambda x, reset=reset: loss(x, reset, False))(mx.array(x))
        g1 = mx.grad(lambda x, reset=reset: loss(x, reset, True))(mx.array(x))
        np.testing.assert_allclose(np.array(g1), np.array(g0), rtol=1e-5, atol=1e-6, err_msg=reset)
    for dtype in (mx.bfloat16, mx.float16):
        xb = mx.array(x).astype(dtype)
        s_b, h_b = scan(tm, xb, lv, "subtract", False, return_membrane=True)
        s_32, h_32 = scan(tm, xb.astype(mx.float32), lv, "subtract", False, return_membrane=True)
        assert s_b.dtype == h_b.dtype == dtype
        np.testing.assert_array_equal(np.array(s_b.astype(mx.float32)), np.array(s_32))
        np.testing.assert_array_equal(np.array(h_b.astype(mx.float32)),
                                      np.array(h_32.astype(dtype).astype(mx.float32)))


@pytest.mark.parametrize("per_channel", [False, True])
def test_leaky_integrator_matches_jax(per_channel):
    rng = np.random.default_rng(per_channel)
    x = rng.normal(0.1, 0.5, (T, B, C)).astype(np.float32)
    v0 = rng.normal(0, 0.5, (B, C)).astype(np.float32)
    beta = _channels(0.5, 1.0) if per_channel else np.float32(0.8)
    r = rng.normal(size=x.shape).astype(np.float32)
    mj, vj = tacjax.li_scan(x, beta, v0=v0)
    mm, vm = tm.li_scan(mx.array(x), mx.array(beta), v0=mx.array(v0))
    assert_forward(mm, mj, what="membrane")
    assert_forward(vm, vj, what="v_final")
    gj = jax.grad(lambda x, b: jnp.sum(tacjax.li_scan(x, b, v0=v0)[0] * r), (0, 1))(
        jnp.asarray(x), jnp.asarray(beta))
    gm = mx.grad(lambda x, b: mx.sum(tm.li_scan(x, b, v0=mx.array(v0))[0] * mx.array(r)), (0, 1))(
        mx.array(x), mx.array(beta))
    assert_grad(gm[0], gj[0], what="d/dx")
    assert_grad(gm[1], gj[1], what="d/dbeta")
    vs, out = tm.li_step(mx.array(v0), mx.array(x[0]), 0.5)
    assert_forward(vs, tacjax.li_step(v0, x[0], 0.5)[0])
    assert_forward(out, vs)
    for dtype in (mx.bfloat16, mx.float16):  # integrated in float32, cast back
        m_low, v_low = tm.li_scan(mx.array(x).astype(dtype), mx.array(beta))
        m_32, _ = tm.li_scan(mx.array(x).astype(dtype).astype(mx.float32), mx.array(beta))
        assert m_low.dtype == v_low.dtype == dtype
        np.testing.assert_array_equal(np.array(m_low.astype(mx.float32)),
                                      np.array(m_32.astype(dtype).astype(mx.float32)))


@pytest.mark.parametrize("fragment,module", [
    ("SYNAPTIC", "synaptic"), ("ALIF", "adaptive"), ("RLIF", "recurrent"), ("LI", "leaky"),
    ("PRECISION", "synaptic"), ("NEURON_CONVENTION", ""),
])
def test_docstring_fragments_are_in_both_backends(fragment, module):
    import importlib

    suffix = f".{module}" if module else ""
    for root in ("tacjax.neurons", "tacjax.mlx.neurons"):
        assert getattr(docs, fragment) in importlib.import_module(root + suffix).__doc__
