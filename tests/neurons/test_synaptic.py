"""Synaptic (current-based) LIF: synaptic_step / synaptic_scan against a NumPy loop; jit, vmap, grad."""

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
from reference import synaptic_numpy

import tacjax as tj


def _params(leaves, reset, detach=False):
    return tj.SynapticParams(reset=reset, detach_reset=detach, **leaves)


def _reference(x, leaves, reset, state0):
    i0, v0 = (None, None) if state0 is None else state0
    s, h, final = synaptic_numpy(x, reset=reset, i0=i0, v0=v0, **leaves)
    return s, h, np.broadcast_to(np.asarray(leaves["threshold"]), h.shape), final


SYNAPTIC = Family(
    state_cls=tj.SynapticState,
    scalar=dict(alpha=0.7, beta=0.85, threshold=1.0, v_leak=0.0, v_reset=0.0),
    ranges=dict(alpha=(0.3, 0.9), beta=(0.6, 1.0), threshold=(0.6, 1.4), v_leak=(0.0, 0.5),
                v_reset=(-0.4, 0.0)),
    state=lambda rng, shape: (rng.normal(0, 0.3, shape).astype(np.float32),
                              rng.normal(0, 0.3, shape).astype(np.float32)),
    scan=lambda x, leaves, reset, detach=False, **kw: tj.synaptic_scan(x, _params(leaves, reset, detach),
                                                                       **kw),
    step=lambda leaves, reset: functools.partial(tj.synaptic_step, params=_params(leaves, reset)),
    reference=_reference,
    x_mean=0.15,
)


@pytest.mark.parametrize("num_steps", [1, 7, 64])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("reset", tj.RESETS)
def test_synaptic_scan_matches_numpy(reset, per_channel, num_steps):
    check_matches_numpy(SYNAPTIC, reset, per_channel, num_steps)


@pytest.mark.parametrize("reset", tj.RESETS)
def test_synaptic_step_is_a_scan_body(reset):
    check_step_is_scan_body(SYNAPTIC, reset)


@pytest.mark.parametrize("reset", tj.RESETS)
def test_gradients_reach_input_and_every_parameter(reset):
    check_grads(SYNAPTIC, reset)


def test_vmap_over_params():
    check_vmap_over_params(SYNAPTIC)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_low_precision_integrates_in_float32(dtype):
    check_low_precision(SYNAPTIC, dtype)


def test_hand_computed_trace():
    # alpha 0.5, beta 0.5, threshold 1.2, reset "subtract" (never reached here)
    x = jnp.array([[1.0], [0.0], [0.0], [0.0]])
    s, h = tj.synaptic_scan(x, tj.SynapticParams(alpha=0.5, beta=0.5, threshold=1.2), return_membrane=True)
    # i = [1, .5, .25, .125]; h0 = 1; h1 = .5 + .5 = 1.0; h2 = .5 + .25 = .75; h3 = .375 + .125 = .5
    np.testing.assert_allclose(h[:, 0], [1.0, 1.0, 0.75, 0.5], rtol=1e-6)
    np.testing.assert_array_equal(s[:, 0], [0, 0, 0, 0])
    s, final = tj.synaptic_scan(x * 3, tj.SynapticParams(alpha=0.5, beta=0.5, threshold=1.2, reset="zero"))
    # i = [3, 1.5, .75, .375]; h = 3 (spike, v=0), 1.5 (spike, v=0), .75, .375 + .375 = .75
    np.testing.assert_array_equal(s[:, 0], [1, 1, 0, 0])
    np.testing.assert_allclose(final.i, [0.375], rtol=1e-6)
    np.testing.assert_allclose(final.v, [0.75], rtol=1e-6)


def test_alpha_zero_is_lif():
    x = jax.random.normal(jax.random.key(0), (20, 3, 4)) * 0.5 + 0.4
    kw = dict(beta=0.8, threshold=0.9, reset="zero", v_leak=0.1, v_reset=-0.2)
    s, h = tj.synaptic_scan(x, tj.SynapticParams(alpha=0.0, **kw), return_membrane=True)
    s_lif, h_lif = tj.lif_scan(x, tj.LIFParams(**kw), return_membrane=True)
    np.testing.assert_array_equal(s, s_lif)
    np.testing.assert_allclose(h, h_lif, rtol=1e-6, atol=1e-6)
    assert float(s.mean()) > 0.05


def test_step_keeps_each_state_dtype():
    x = jnp.full((3,), 0.4, jnp.bfloat16)
    state = tj.SynapticState(jnp.zeros(3, jnp.float32), jnp.zeros(3, jnp.bfloat16))
    new, s = tj.synaptic_step(state, x)
    assert new.i.dtype == jnp.float32 and new.v.dtype == jnp.bfloat16 and s.dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(new.i), 0.4, rtol=1e-2)


def test_surrogate_by_name():
    x = jax.random.uniform(jax.random.key(1), (9, 5), maxval=0.6)
    g_name = jax.grad(lambda x: tj.synaptic_scan(x, surrogate="atan")[0].sum())(x)
    g_fn = jax.grad(lambda x: tj.synaptic_scan(x, surrogate=tj.atan)[0].sum())(x)
    np.testing.assert_array_equal(g_name, g_fn)
    assert not np.allclose(g_name, jax.grad(lambda x: tj.synaptic_scan(x)[0].sum())(x))


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_gradients_equal_finite_differences(reset):
    check_exact_gradient(SYNAPTIC, reset)
