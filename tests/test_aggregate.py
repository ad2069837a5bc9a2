"""TAC and TAC-TP: aggregation weights, exactness against per-frame conv + LIF, errors."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from hypothesis import given
from hypothesis import strategies as st
from reference import aggregate_numpy, lif_numpy

import tacjax as tj


def conv_op(w):
    """A bias-free 3x3 SAME convolution on NHWC batches."""
    return lambda z: jax.lax.conv_general_dilated(z, w, (1, 1), "SAME",
                                                  dimension_numbers=("NHWC", "HWIO", "NHWC"))


@pytest.fixture(scope="module")
def conv_setup():
    kx, kw = jax.random.split(jax.random.key(0))
    x = jax.random.bernoulli(kx, 0.3, (8, 2, 6, 6, 3)).astype(jnp.float32)
    w = jax.random.normal(kw, (3, 3, 3, 4)) * 0.4
    return x, conv_op(w)


def per_frame_baseline(x, op, params, **kw):
    cur = jax.vmap(op)(x)
    return tj.lif_scan(cur, params, **kw)


def chunk_ends(num_steps, k):
    return np.array([min((c + 1) * k, num_steps) - 1 for c in range(-(-num_steps // k))])


@pytest.mark.parametrize("k", [1, 2, 4, 8])
def test_tac_is_exact_without_reset(conv_setup, k):
    x, op = conv_setup
    p = tj.LIFParams(beta=0.8, reset="none")
    _, h_ref = per_frame_baseline(x, op, p, return_membrane=True)
    _, h = tj.tac(x, op, k, p, return_membrane=True)
    assert h.shape[0] == 8 // k
    np.testing.assert_allclose(h, h_ref[chunk_ends(8, k)], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("num_steps,k", [(7, 2), (7, 3), (10, 4), (5, 5)])
def test_tac_short_last_chunk_is_exact(num_steps, k):
    x = jax.random.normal(jax.random.key(num_steps), (num_steps, 3, 4))
    w = jax.random.normal(jax.random.key(1), (4, 2))
    op = lambda z: z @ w  # noqa: E731
    p = tj.LIFParams(beta=0.9, reset="none")
    _, h_ref = per_frame_baseline(x, op, p, return_membrane=True)
    s, h = tj.tac(x, op, k, p, return_membrane=True)
    assert s.shape == (-(-num_steps // k), 3, 2)
    np.testing.assert_allclose(h, h_ref[chunk_ends(num_steps, k)], rtol=1e-5, atol=1e-5)
    # the final state equals the per-frame final state too
    _, v = tj.tac(x, op, k, p)
    _, v_ref = per_frame_baseline(x, op, p)
    np.testing.assert_allclose(v, v_ref, rtol=1e-5, atol=1e-5)


class TestTacWithLeakPotential(chex.TestCase):
    """TAC (collapse) with ``v_leak``: per-chunk leak term ``(1 - beta**L) * v_leak``, exact for reset
    "none" against the per-frame NumPy reference sampled at chunk ends (with and without jit)."""

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters((8, 4), (7, 3), (5, 5), (6, 1))
    def test_exact_without_reset(self, num_steps, k):
        rng = np.random.default_rng(num_steps * 10 + k)
        x = rng.normal(0.2, 0.5, (num_steps, 3, 4)).astype(np.float32)
        w = rng.normal(0, 0.6, (4, 2)).astype(np.float32)
        v0 = rng.normal(0, 0.3, (3, 2)).astype(np.float32)
        v_leak = np.array([0.7, -0.4], np.float32)

        @self.variant
        def run(x, w, v_leak, v0):
            p = tj.LIFParams(beta=0.8, reset="none", v_leak=v_leak)
            return tj.tac(x, lambda z: z @ w, k, p, v0=v0, return_membrane=True)[1], \
                tj.tac(x, lambda z: z @ w, k, p, v0=v0)[1]

        h, v = run(x, w, v_leak, v0)
        _, h_ref, v_ref = lif_numpy(x @ w, 0.8, 1.0, "none", v0=v0, v_leak=v_leak)
        chex.assert_trees_all_close(h, h_ref[chunk_ends(num_steps, k)].astype(np.float32),
                                    rtol=1e-5, atol=1e-5)
        chex.assert_trees_all_close(v, v_ref.astype(np.float32), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_tac_tp_with_leak_and_reset_potentials_matches_numpy(reset):
    x = jax.random.uniform(jax.random.key(3), (7, 2, 5))
    w = jax.random.normal(jax.random.key(8), (5, 3)) * 0.5
    p = tj.LIFParams(beta=0.85, threshold=0.8, reset=reset, v_leak=0.3, v_reset=-0.25)
    s, h = tj.tac_tp(x, lambda z: z @ w, 3, p, return_membrane=True)
    cur = aggregate_numpy(np.asarray(x), 3, 0.85 ** np.arange(2, -1, -1)) @ np.asarray(w, np.float64)
    drive = np.concatenate([np.repeat(cur[c:c + 1], n, 0) for c, n in enumerate((3, 3, 1))])
    s_ref, h_ref, _ = lif_numpy(drive, 0.85, 0.8, reset, v_leak=0.3, v_reset=-0.25)
    np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-5)
    near = np.abs(h_ref - 0.8) < 1e-4
    np.testing.assert_array_equal(np.asarray(s)[~near], s_ref[~near])
    assert s_ref.sum() > 0


@pytest.mark.parametrize("reset", tj.RESETS)
def test_k1_equals_baseline_for_every_reset(conv_setup, reset):
    x, op = conv_setup
    p = tj.LIFParams(beta=0.7, threshold=0.8, reset=reset)
    s_ref, h_ref = per_frame_baseline(x, op, p, return_membrane=True)
    for fn in (tj.tac, tj.tac_tp):
        s, h = fn(x, op, 1, p, return_membrane=True)
        np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(s, s_ref)


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("share", ["repeat", "mean"])
def test_tac_tp_matches_numpy(k, share):
    num_steps = 10
    x = jax.random.uniform(jax.random.key(k), (num_steps, 2, 5))
    w = jax.random.normal(jax.random.key(7), (5, 3)) * 0.5
    p = tj.LIFParams(beta=0.85, threshold=1.0, reset="subtract")
    s, h = tj.tac_tp(x, lambda z: z @ w, k, p, share=share, return_membrane=True)
    assert s.shape == (num_steps, 2, 3)
    agg = aggregate_numpy(np.asarray(x), k, 0.85 ** np.arange(k - 1, -1, -1))
    cur = agg @ np.asarray(w, np.float64)
    lens = [min(k, num_steps - c * k) for c in range(len(cur))]
    drive = np.concatenate([np.repeat(cur[c:c + 1] / (lens[c] if share == "mean" else 1), lens[c], 0)
                            for c in range(len(cur))])
    s_ref, h_ref, v_ref = lif_numpy(drive, 0.85, 1.0, "subtract")
    np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-5)
    near = np.abs(h_ref - 1.0) < 1e-4
    np.testing.assert_array_equal(np.asarray(s)[~near], s_ref[~near])
    _, v = tj.tac_tp(x, lambda z: z @ w, k, p, share=share)
    np.testing.assert_allclose(v, v_ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("weights", ["beta", "sum", "mean"])
@pytest.mark.parametrize("num_steps,k", [(8, 4), (9, 4), (6, 1)])
def test_aggregate_weights(weights, num_steps, k):
    x = np.random.default_rng(0).normal(size=(num_steps, 3)).astype(np.float32)
    out = tj.aggregate(jnp.asarray(x), k, weights, beta=0.5)
    ref = []
    for start in range(0, num_steps, k):
        chunk = x[start:start + k].astype(np.float64)
        n = chunk.shape[0]
        w = {"beta": 0.5 ** np.arange(n - 1, -1, -1), "sum": np.ones(n), "mean": np.full(n, 1 / n)}[weights]
        ref.append(w @ chunk)
    np.testing.assert_allclose(out, np.stack(ref), rtol=1e-6, atol=1e-6)


def test_explicit_and_learnable_weights():
    x = jax.random.normal(jax.random.key(0), (6, 2))
    w = jnp.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(tj.aggregate(x, 3, w), aggregate_numpy(x, 3, w), rtol=1e-6)
    logits = tj.init_weight_logits(3, 0.9)
    sm = jax.nn.softmax(logits)
    np.testing.assert_allclose(sm / sm[-1], 0.9 ** np.arange(2, -1, -1), rtol=1e-5)
    g = jax.grad(lambda lg: tj.tac(x[:, :, None], lambda z: z, 3, tj.LIFParams(reset="none"),
                                   weights=jax.nn.softmax(lg), return_membrane=True)[1].sum())(logits)
    assert g.shape == (3,) and float(jnp.abs(g).sum()) > 0


def test_per_input_channel_agg_beta():
    x = jax.random.normal(jax.random.key(0), (4, 2, 3))
    beta = jnp.array([0.5, 0.8, 1.0])
    out = tj.aggregate(x, 2, "beta", beta)
    ref = np.stack([np.asarray(x[2 * c]) * np.asarray(beta) + np.asarray(x[2 * c + 1]) for c in range(2)])
    np.testing.assert_allclose(out, ref, rtol=1e-6)


@given(k=st.integers(1, 6), num_steps=st.integers(1, 12), a=st.floats(-3, 3), b=st.floats(-3, 3),
       seed=st.integers(0, 2**16))
def test_aggregation_is_linear(k, num_steps, a, b, seed):
    k = min(k, num_steps)
    kx, ky = jax.random.split(jax.random.key(seed))
    x = jax.random.normal(kx, (num_steps, 3))
    y = jax.random.normal(ky, (num_steps, 3))
    lhs = tj.aggregate(a * x + b * y, k)
    rhs = a * tj.aggregate(x, k) + b * tj.aggregate(y, k)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-4, atol=1e-4)


def test_conv_calls():
    assert tj.conv_calls(16, 4, "baseline") == 16
    assert tj.conv_calls(16, 1, "baseline") == 16
    assert tj.conv_calls(16, 4, "tac") == 4
    assert tj.conv_calls(25, 4, "tac_tp") == 7
    assert tj.chunk_lengths(25, 4) == (4, 4, 4, 4, 4, 4, 1)
    assert tj.chunk_lengths(5, 5) == (5,)
    with pytest.raises(ValueError, match="unknown mode 'fast'"):
        tj.conv_calls(16, 4, "fast")
    # k is validated for every mode: a baseline call does not ignore a nonsense k
    with pytest.raises(ValueError, match=r"conv_calls: `k` must satisfy 1 <= k <= T = 16; got k=0"):
        tj.conv_calls(16, 0, "baseline")


def test_jit_grad_and_low_precision(conv_setup):
    x, op = conv_setup
    p = tj.LIFParams()
    f = jax.jit(lambda x: tj.tac_tp(x, op, 4, p)[0].sum())
    g = jax.grad(lambda x: tj.tac(x, op, 4, p)[0].sum())(x)
    assert np.isfinite(float(f(x))) and float(jnp.abs(g).sum()) > 0
    op16 = lambda z: op(z.astype(jnp.float32)).astype(jnp.bfloat16)  # noqa: E731
    for fn in (tj.tac, tj.tac_tp):
        s, h = fn(x.astype(jnp.bfloat16), op16, 2, p, return_membrane=True)
        assert s.dtype == h.dtype == jnp.bfloat16
        # the binary input is exact in bfloat16; only the conv output is rounded, so spikes match the
        # float32 run on the same rounded currents: the neurons integrate in float32
        s32, h32 = fn(x, lambda z: op16(z).astype(jnp.float32), 2, p, return_membrane=True)
        np.testing.assert_array_equal(np.asarray(s, np.float32), np.asarray(s32))


def test_bad_inputs(conv_setup):
    x, op = conv_setup
    p = tj.LIFParams()
    with pytest.raises(ValueError, match=r"tac: `k` must satisfy 1 <= k <= T = 8; got k=9"):
        tj.tac(x, op, 9, p)
    with pytest.raises(ValueError, match=r"tac_tp: `k` must satisfy 1 <= k <= T = 8; got k=0"):
        tj.tac_tp(x, op, 0, p)
    with pytest.raises(TypeError, match="aggregate: `k` must be an int; got float"):
        tj.aggregate(x, 2.0)
    with pytest.raises(TypeError, match="traced value.*tac_dynamic"):
        jax.jit(lambda k: tj.tac(x, op, k, p))(2)
    with pytest.raises(ValueError, match=r"at least 2 dimensions, shape \[T, B, ...\]; got shape \(8,\)"):
        tj.tac(jnp.zeros(8), op, 2, p)
    with pytest.raises(TypeError, match="floating dtype.*int32"):
        tj.tac(x.astype(jnp.int32), op, 2, p)
    # errors raised on behalf of tac/tac_tp name them, not the helper that found the problem
    with pytest.raises(ValueError, match="^tac: unknown weights 'exp'"):
        tj.tac(x, op, 2, p, weights="exp")
    with pytest.raises(ValueError, match=r"^tac_tp: explicit `weights` must have shape \(K,\) = \(2,\)"):
        tj.tac_tp(x, op, 2, p, weights=jnp.ones(3))
    with pytest.raises(ValueError, match="^aggregation_weights: unknown weights 'exp'"):
        tj.aggregation_weights(2, "exp")
    with pytest.raises(ValueError, match="unknown share 'split'"):
        tj.tac_tp(x, op, 2, p, share="split")
    with pytest.raises(ValueError, match="per output channel.*pass `agg_beta`"):
        tj.tac(x, op, 2, tj.LIFParams(beta=jnp.full((4,), 0.9)))
    with pytest.raises(ValueError, match=r"`v0` must have the per-step state shape \(2, 6, 6, 4\)"):
        tj.tac(x, op, 2, p, v0=jnp.zeros((2, 6, 6, 3)))
    with pytest.raises(ValueError, match=r"must keep the batch axis.*returned shape \(3,\)"):
        tj.tac(x, lambda z: jnp.zeros(3), 2, p)
    with pytest.raises(TypeError, match="`op` must be a callable"):
        tj.tac(x, "conv", 2, p)
    # per-output-channel beta works when agg_beta is given explicitly
    s, _ = tj.tac(x, op, 2, tj.LIFParams(beta=jnp.full((4,), 0.9)), agg_beta=0.9)
    assert s.shape == (4, 2, 6, 6, 4)


def test_value_checks_skip_tracers_but_catch_concrete_values(conv_setup):
    x, op = conv_setup
    bad = tj.LIFParams(threshold=float("nan"))
    with pytest.raises(ValueError, match=r"tac: `params.threshold` must be finite; got nan"):
        tj.tac(x, op, 2, bad)
    # inside jit the value is a tracer: no check, and NaN propagates visibly instead of hiding
    _, h = jax.jit(lambda t: tj.tac(x, op, 2, tj.LIFParams(threshold=t), return_membrane=True))(jnp.nan)
    assert h.shape[0] == 4


def test_aggregate_derivatives_forward_and_reverse():
    # d/dx_t of sum(g * aggregate(x)) is w[j] * g[c] for frame t = c*K + j; d/dw_j is sum_c x[cK+j] g[c]
    x = jax.random.normal(jax.random.key(0), (6, 4))
    g = jax.random.normal(jax.random.key(1), (3, 4))
    w = jnp.array([0.3, 0.7])
    gx, gw = jax.grad(lambda x, w: jnp.sum(g * tj.aggregate(x, 2, w)), argnums=(0, 1))(x, w)
    np.testing.assert_allclose(gx, np.repeat(np.asarray(g), 2, 0) * np.tile(np.asarray(w), 3)[:, None],
                               rtol=1e-6)
    np.testing.assert_allclose(gw, np.einsum("ckf,cf->k", np.asarray(x).reshape(3, 2, 4), g), rtol=1e-5)
    dx = jax.random.normal(jax.random.key(2), x.shape)
    _, tangent = jax.jvp(lambda x: tj.aggregate(x, 2, w), (x,), (dx,))
    np.testing.assert_allclose(tangent, tj.aggregate(dx, 2, w), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("num_steps,k", [(8, 4), (8, 8), (7, 3)])
def test_gradients_match_plain_compositions(num_steps, k):
    """tac / tac_tp gradients equal those of the same maths written with plain jnp ops."""
    x = jax.random.uniform(jax.random.key(0), (num_steps, 2, 5))
    w = jax.random.normal(jax.random.key(1), (5, 3))
    p = tj.LIFParams(beta=0.85, threshold=0.7)
    lens = [min(k, num_steps - c * k) for c in range(-(-num_steps // k))]

    def plain_current(x, w):
        rows, start = [], 0
        for n in lens:
            wts = 0.85 ** jnp.arange(n - 1, -1, -1.0)
            rows.append(jnp.tensordot(wts, x[start:start + n], axes=(0, 0)))
            start += n
        return jnp.stack(rows) @ w

    def plain_tac(x, w):
        cur = plain_current(x, w)
        leak = jnp.array([0.85**n for n in lens]).reshape(-1, 1, 1)
        v, out = jnp.zeros(cur.shape[1:]), []
        for c in range(cur.shape[0]):
            v, s = tj.lif_step(v, cur[c] + (leak[c] - 0.85) * v, p)  # h = leak * v + I
            out.append(s)
        return jnp.stack(out)

    def plain_tac_tp(x, w):
        cur = plain_current(x, w)
        drive = jnp.concatenate([jnp.repeat(cur[c:c + 1], n, 0) for c, n in enumerate(lens)])
        return tj.lif_scan(drive, p)[0]

    proj = jax.random.normal(jax.random.key(2), (num_steps, 2, 3))
    for fn, ref in ((lambda x, w: tj.tac(x, lambda z: z @ w, k, p)[0], plain_tac),
                    (lambda x, w: tj.tac_tp(x, lambda z: z @ w, k, p)[0], plain_tac_tp)):
        loss = lambda x, w, f: jnp.sum(f(x, w) * proj[: f(x, w).shape[0]])  # noqa: E731
        g = jax.grad(loss, argnums=(0, 1))(x, w, fn)
        g_ref = jax.grad(loss, argnums=(0, 1))(x, w, ref)
        np.testing.assert_array_equal(fn(x, w), ref(x, w))
        for a, b in zip(g, g_ref, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
