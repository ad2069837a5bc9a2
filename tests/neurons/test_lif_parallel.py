"""lif_parallel: the spikes, membranes and gradients of lif_scan, found in parallel over time."""

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference import lif_numpy

import tacjax as tj
from tacjax.neurons import lif_parallel
from tacjax.neurons.lif_parallel import default_window


def _drives(num_steps, seed=0):
    rng = np.random.default_rng(seed)
    steady = np.broadcast_to(rng.uniform(0.15, 0.6, (1, 3, 4)), (num_steps, 3, 4))
    return {"random": rng.normal(0.35, 0.6, (num_steps, 3, 4)).astype(np.float32),
            "steady": steady.astype(np.float32),
            "bursts": ((rng.random((num_steps, 3, 4)) < 0.2) * 2.5).astype(np.float32)}


# Every window for scalar parameters, the default window for per-channel ones (one compile each).
CASES = [(r, False, w) for r in tj.RESETS for w in (1, 5, None, 37)] + [(r, True, None) for r in tj.RESETS]


@pytest.mark.parametrize("reset, per_channel, window", CASES)
def test_spikes_and_membranes_equal_numpy(reset, per_channel, window):
    rng = np.random.default_rng(len(reset))
    beta = rng.uniform(0.7, 0.95, 4).astype(np.float32) if per_channel else np.float32(0.9)
    thr = rng.uniform(0.8, 1.2, 4).astype(np.float32) if per_channel else np.float32(1.0)
    v0 = rng.normal(0, 0.3, (3, 4)).astype(np.float32)
    p = tj.LIFParams(beta, thr, reset, v_leak=0.05, v_reset=-0.2)
    drives = _drives(37)
    x = np.concatenate(list(drives.values()), axis=1)  # the drives side by side: [37, 9, 4]
    v0s = np.concatenate([v0] * len(drives), axis=0)

    @jax.jit
    def run(x):
        s, h, rounds = lif_parallel(x, p, v0=v0s, window=window, return_membrane=True, return_rounds=True)
        return s, h, rounds, lif_parallel(x, p, v0=v0s, window=window)[1]

    s, h, rounds, v = run(x)
    s_ref, h_ref, v_ref = lif_numpy(x, beta, thr, reset, v0=v0s, v_leak=0.05, v_reset=-0.2)
    near = np.abs(h_ref - thr) < 1e-5
    np.testing.assert_array_equal(np.asarray(s)[~near], s_ref[~near])
    np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(v, v_ref, rtol=1e-5, atol=2e-5)
    w = default_window(37) if window is None else window
    assert 1 <= int(rounds) <= -(-37 // w) + 1
    if reset == "none":
        assert int(rounds) == 1
    for i in range(len(drives)):  # every drive fires
        assert s_ref[:, 3 * i:3 * i + 3].sum() > 0


def test_rounds_fall_with_windows_and_the_worst_case_is_the_bound():
    x = jnp.asarray(_drives(96)["steady"])
    p = tj.LIFParams(0.9, 1.0)
    rounds = {w: int(lif_parallel(x, p, window=w, return_rounds=True)[2]) for w in (1, 8, 32, 96)}
    assert rounds[96] <= 2 and rounds[32] <= 4 and rounds[8] <= 13  # steady: ceil(T / window) + 1
    assert rounds[1] > 40  # the plain fixed point: about two rounds per spike
    capped_s, _, r = lif_parallel(x, p, window=1, max_iters=3, return_rounds=True)
    assert int(r) == 3
    assert not np.array_equal(capped_s, tj.lif_scan(x, p)[0])  # stopped early: documented, visible


@pytest.mark.parametrize("reset, detach, membrane",
                         list(itertools.product(("subtract", "zero"), (False, True), (False, True))))
def test_gradient_equals_lif_scan(reset, detach, membrane):
    x = jnp.asarray(_drives(20, seed=3)["random"])
    rng = np.random.default_rng(4)
    w_s, w_o = (jnp.asarray(rng.normal(size=x.shape), jnp.float32) for _ in range(2))
    w_v = jnp.asarray(rng.normal(size=x.shape[1:]), jnp.float32)
    v0 = jnp.asarray(rng.normal(0, 0.3, x.shape[1:]), jnp.float32)

    def loss(fn, x, beta, thr, vl, vr, v0):
        s, o = fn(x, tj.LIFParams(beta, thr, reset, detach, vl, vr), v0=v0, return_membrane=membrane)
        return jnp.sum(s * w_s) + jnp.sum(o * (w_o if membrane else w_v))

    args = (x, jnp.full(4, 0.85), 1.0, 0.1, -0.2, v0)
    ours = functools.partial(lif_parallel, window=6)
    g = jax.jit(jax.grad(functools.partial(loss, ours), argnums=range(6)))
    g_ref = jax.grad(functools.partial(loss, tj.lif_scan), argnums=range(6))
    for name, a, b in zip(("x", "beta", "threshold", "v_leak", "v_reset", "v0"), g(*args), g_ref(*args),
                          strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5, err_msg=name)


def test_vmap_surrogate_and_grad_of_grad():
    xs = jnp.asarray(np.stack([d for d in _drives(24, seed=5).values()]))
    single = jax.jit(lambda x: lif_parallel(x, window=5)[0])
    s = jax.jit(jax.vmap(single))(xs)
    for i in range(3):
        np.testing.assert_array_equal(s[i], single(xs[i]))
    x = xs[0]
    g_atan = jax.jit(jax.grad(lambda x: lif_parallel(x, window=5, surrogate="atan")[0].sum()))(x)
    np.testing.assert_allclose(g_atan, jax.grad(lambda x: tj.lif_scan(x, surrogate="atan")[0].sum())(x),
                               rtol=2e-4, atol=2e-5)

    def outer(fn, beta):
        p = tj.LIFParams(beta, 1.0, "zero")
        grad = jax.grad(lambda x: jnp.sum(fn(x, p, surrogate="sigmoid")[0] ** 2))
        return jnp.sum(jnp.tanh(grad(x)))

    ours = functools.partial(lif_parallel, window=5)
    np.testing.assert_allclose(jax.jit(jax.grad(functools.partial(outer, ours)))(0.8),
                               jax.grad(functools.partial(outer, tj.lif_scan))(0.8), rtol=1e-4, atol=1e-6)


def test_bad_arguments():
    x = jnp.ones((6, 2))
    with pytest.raises(ValueError, match=r"lif_parallel: `window` must be an int in \[1, T = 6\]; got 7"):
        lif_parallel(x, window=7)
    with pytest.raises(ValueError, match=r"lif_parallel: `max_iters` must be an int in \[1, inf\]; got 0"):
        lif_parallel(x, max_iters=0)
    with pytest.raises(TypeError, match="lif_parallel: argument `x` must have a floating dtype"):
        lif_parallel(jnp.ones((6, 2), jnp.int32))
    s, v, r = lif_parallel(jnp.zeros((0, 2)), return_rounds=True)
    assert s.shape == (0, 2) and int(r) == 0
