"""Adaptive LIF: alif_step / alif_scan against a NumPy loop; jit, vmap, grad; Bellec et al.'s scaling."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from neuron_cases import (
    Family,
    check_exact_gradient,
    check_grads,
    check_low_precision,
    check_matches_numpy,
    check_step_is_scan_body,
    check_vmap_over_params,
)
from reference import alif_numpy

import tacjax as tj


def _params(leaves, reset, detach=False):
    return tj.ALIFParams(reset=reset, detach_reset=detach, **leaves)


def _reference(x, leaves, reset, state0):
    v0, a0 = (None, None) if state0 is None else state0
    return alif_numpy(x, reset=reset, v0=v0, a0=a0, **leaves)


ALIF = Family(
    state_cls=tj.ALIFState,
    scalar=dict(beta=0.85, threshold=1.0, rho=0.9, b=0.2, v_leak=0.0, v_reset=0.0),
    ranges=dict(beta=(0.6, 1.0), threshold=(0.6, 1.4), rho=(0.8, 0.99), b=(0.05, 0.3), v_leak=(0.0, 0.5),
                v_reset=(-0.4, 0.0)),
    state=lambda rng, shape: (rng.normal(0, 0.3, shape).astype(np.float32),
                              rng.uniform(0, 2, shape).astype(np.float32)),
    scan=lambda x, leaves, reset, detach=False, **kw: tj.alif_scan(x, _params(leaves, reset, detach), **kw),
    step=lambda leaves, reset: functools.partial(tj.alif_step, params=_params(leaves, reset)),
    reference=_reference,
    x_mean=0.4,
)


@pytest.mark.parametrize("num_steps", [1, 7, 64])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("reset", tj.RESETS)
def test_alif_scan_matches_numpy(reset, per_channel, num_steps):
    check_matches_numpy(ALIF, reset, per_channel, num_steps)


@pytest.mark.parametrize("reset", tj.RESETS)
def test_alif_step_is_a_scan_body(reset):
    check_step_is_scan_body(ALIF, reset)


@pytest.mark.parametrize("reset", tj.RESETS)
def test_gradients_reach_input_and_every_parameter(reset):
    check_grads(ALIF, reset)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_gradients_equal_finite_differences(reset):
    check_exact_gradient(ALIF, reset)


def test_vmap_over_params():
    check_vmap_over_params(ALIF)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_low_precision_integrates_in_float32(dtype):
    check_low_precision(ALIF, dtype)


def test_hand_computed_threshold_adaptation():
    """IF input 0.6 per step, threshold 1, b 0.5, no decay of a: each spike raises theta by 0.5 and
    the subtract reset removes theta."""
    x = jnp.full((8, 1), 0.6)
    p = tj.ALIFParams(beta=1.0, threshold=1.0, rho=1.0, b=0.5)
    s, h = tj.alif_scan(x, p, return_membrane=True)
    # theta: 1, 1, 1.5, 1.5, 1.5, 2, 2, 2; v after reset: .6, .2, .8, 1.4, .5, 1.1, 1.7, .3
    np.testing.assert_array_equal(s[:, 0], [0, 1, 0, 0, 1, 0, 0, 1])
    np.testing.assert_allclose(h[:, 0], [0.6, 1.2, 0.8, 1.4, 2.0, 1.1, 1.7, 2.3], rtol=1e-5)
    _, final = tj.alif_scan(x, p)
    np.testing.assert_allclose(final.v, [0.3], rtol=1e-4)
    np.testing.assert_allclose(final.a, [3.0])
    s_lif, _ = tj.lif_scan(x, tj.LIFParams(beta=1.0))
    assert float(s_lif.sum()) > float(s.sum())  # adaptation lowers the rate


def test_b_zero_is_lif():
    x = jax.random.normal(jax.random.key(0), (20, 3, 4)) * 0.5 + 0.4
    kw = dict(beta=0.8, threshold=0.9, reset="zero", v_leak=0.1, v_reset=-0.2)
    s, h = tj.alif_scan(x, tj.ALIFParams(b=0.0, rho=0.7, **kw), return_membrane=True)
    s_lif, h_lif = tj.lif_scan(x, tj.LIFParams(**kw), return_membrane=True)
    np.testing.assert_array_equal(s, s_lif)
    np.testing.assert_allclose(h, h_lif, rtol=1e-6, atol=1e-6)
    assert float(s.mean()) > 0.05


def test_b_is_bellec_strength_times_one_minus_rho():
    """Bellec et al. (2018): a' = rho a' + (1 - rho) s, threshold + beta_adapt a'. That neuron is
    ALIFParams(b = beta_adapt * (1 - rho)) (the docstring's statement)."""
    rho, beta_adapt, beta, thr = 0.9, 1.8, 0.95, 1.0
    x = np.random.default_rng(0).uniform(0.0, 0.5, (60, 5))
    v, a_bellec, spikes = np.zeros(5), np.zeros(5), []
    for t in range(60):
        theta = thr + beta_adapt * a_bellec
        h = beta * v + x[t]
        s = (h >= theta).astype(float)
        v = h - theta * s
        a_bellec = rho * a_bellec + (1 - rho) * s
        spikes.append(s)
    p = tj.ALIFParams(beta=beta, threshold=thr, rho=rho, b=beta_adapt * (1 - rho))
    s_ours, final = tj.alif_scan(jnp.asarray(x, jnp.float32), p)
    np.testing.assert_array_equal(s_ours, np.stack(spikes))
    np.testing.assert_allclose(final.a * (1 - rho), a_bellec, rtol=1e-5)
    assert np.stack(spikes).sum() > 10
