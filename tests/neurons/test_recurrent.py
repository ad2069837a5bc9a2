"""Recurrent LIF: rlif_step / rlif_scan against a NumPy loop; jit, vmap, grad (w_rec included)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from neuron_cases import (
    C,
    Family,
    check_exact_gradient,
    check_grads,
    check_low_precision,
    check_matches_numpy,
    check_step_is_scan_body,
    check_vmap_over_params,
)
from reference import rlif_numpy

import tacjax as tj


def _params(leaves, reset, detach=False):
    return tj.LIFParams(reset=reset, detach_reset=detach, **{k: v for k, v in leaves.items() if k != "w_rec"})


def _scan(x, leaves, reset, detach=False, **kw):
    return tj.rlif_scan(x, leaves["w_rec"], _params(leaves, reset, detach), **kw)


def _reference(x, leaves, reset, state0):
    v0, s0 = (None, None) if state0 is None else state0
    lif = {k: v for k, v in leaves.items() if k != "w_rec"}
    s, h, final = rlif_numpy(x, leaves["w_rec"], reset=reset, v0=v0, s0=s0, **lif)
    return s, h, np.broadcast_to(np.asarray(leaves["threshold"]), h.shape), final


RLIF = Family(
    state_cls=tj.RLIFState,
    scalar=dict(beta=0.85, threshold=1.0, v_leak=0.0, v_reset=0.0),
    ranges=dict(beta=(0.6, 1.0), threshold=(0.6, 1.4), v_leak=(0.0, 0.5), v_reset=(-0.4, 0.0)),
    extra=lambda rng: {"w_rec": rng.normal(0, 0.4, (C, C)).astype(np.float32)},
    state=lambda rng, shape: (rng.normal(0, 0.3, shape).astype(np.float32),
                              (rng.uniform(size=shape) < 0.3).astype(np.float32)),
    scan=_scan,
    step=lambda leaves, reset: functools.partial(tj.rlif_step, w_rec=leaves["w_rec"],
                                                 params=_params(leaves, reset)),
    reference=_reference,
    x_mean=0.3,
    coupled=True,
)


@pytest.mark.parametrize("num_steps", [1, 7, 64])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("reset", tj.RESETS)
def test_rlif_scan_matches_numpy(reset, per_channel, num_steps):
    check_matches_numpy(RLIF, reset, per_channel, num_steps)


@pytest.mark.parametrize("reset", tj.RESETS)
def test_rlif_step_is_a_scan_body(reset):
    check_step_is_scan_body(RLIF, reset)


@pytest.mark.parametrize("reset", tj.RESETS)
def test_gradients_reach_input_every_parameter_and_w_rec(reset):
    check_grads(RLIF, reset)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_gradients_equal_finite_differences(reset):
    check_exact_gradient(RLIF, reset)


def test_vmap_over_params():
    check_vmap_over_params(RLIF)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_low_precision_integrates_in_float32(dtype):
    check_low_precision(RLIF, dtype)


def test_hand_computed_recurrence():
    """Neuron 0 spikes at t=0; through w_rec[0, 1] = 0.7 it lifts neuron 1 over threshold at t=1."""
    x = jnp.array([[1.0, 0.4], [0.0, 0.4], [0.0, 0.4]])
    w = jnp.array([[0.0, 0.7], [0.0, 0.0]])
    s, h = tj.rlif_scan(x, w, tj.LIFParams(beta=0.9), return_membrane=True)
    # neuron 1: h = 0.4; 0.9*0.4 + 0.4 + 0.7 = 1.46 (spike, v = 0.46); 0.9*0.46 + 0.4 = 0.814
    np.testing.assert_allclose(h[:, 1], [0.4, 1.46, 0.814], rtol=1e-6)
    np.testing.assert_array_equal(s, [[1, 0], [0, 1], [0, 0]])
    s_lif, _ = tj.lif_scan(x, tj.LIFParams(beta=0.9))  # alone, neuron 1 reaches 0.4, 0.76, 1.084
    np.testing.assert_array_equal(s_lif[:, 1], [0, 0, 1])


def test_zero_weights_are_lif_and_unbatched_input_works():
    x = jax.random.normal(jax.random.key(0), (20, 5)) * 0.5 + 0.4  # [T, N]: no batch axis
    p = tj.LIFParams(beta=0.8, threshold=0.9, reset="zero", v_leak=0.1, v_reset=-0.2)
    s, final = tj.rlif_scan(x, jnp.zeros((5, 5)), p)
    s_lif, v_lif = tj.lif_scan(x, p)
    np.testing.assert_array_equal(s, s_lif)
    np.testing.assert_allclose(final.v, v_lif, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(final.s, s[-1])
    assert float(s.mean()) > 0.05
