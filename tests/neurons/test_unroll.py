"""The time loops' unroll rule, and the unrolled (straight-line) paths against the rolled loops.

Since the default unrolls only states with >= 16 entries on the last axis, the small shapes of the
other neuron tests run the rolled loops; these tests force ``unroll=True`` to keep the straight-line
code checked (values and gradients equal to the rolled loop's, which the other tests check against
autodiff and NumPy).
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tacjax as tj
from tacjax.neurons._common import (
    FULL_UNROLL_MAX_STEPS,
    FULL_UNROLL_MIN_LANES,
    LIF_FULL_UNROLL_MAX_STEPS,
    scan_unroll,
    state_lanes,
)


@pytest.mark.parametrize("steps, lanes, max_steps, want", [
    (4, 16, LIF_FULL_UNROLL_MAX_STEPS, 4),  # short and wide: straight-line code
    (2, 32, LIF_FULL_UNROLL_MAX_STEPS, 2),
    (5, 16, LIF_FULL_UNROLL_MAX_STEPS, 1),  # the LIF loop stops unrolling above 4 steps
    (8, 16, FULL_UNROLL_MAX_STEPS, 8),  # lax.scan neurons unroll up to 8
    (9, 64, FULL_UNROLL_MAX_STEPS, 1),
    (4, 8, LIF_FULL_UNROLL_MAX_STEPS, 1),  # fewer than 16 lanes: the loop (2-7x faster there)
    (2, 1, FULL_UNROLL_MAX_STEPS, 1),
])
def test_default_unroll_rule(steps, lanes, max_steps, want):
    assert scan_unroll(steps, None, "f", lanes=lanes, max_steps=max_steps) == want
    assert scan_unroll(steps, 3, "f", lanes=lanes, max_steps=max_steps) == 3  # explicit values pass through
    assert scan_unroll(steps, True, "f", lanes=lanes, max_steps=max_steps) is True


def test_state_lanes_and_constants():
    assert state_lanes((7, 5, 16)) == 16 and state_lanes(()) == 1
    assert LIF_FULL_UNROLL_MAX_STEPS < FULL_UNROLL_MAX_STEPS and FULL_UNROLL_MIN_LANES == 16


def _inputs(num_steps, state, seed=0):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(0.45, 0.6, (num_steps, *state)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(num_steps, *state)), jnp.float32)
    return x, w


@pytest.mark.parametrize("reset", tj.RESETS)
@pytest.mark.parametrize("membrane", [False, True])
def test_lif_unrolled_equals_loop(reset, membrane):
    x, w = _inputs(4, (3, 5), seed=len(reset))
    params = tj.LIFParams(beta=jnp.asarray([0.6, 0.8, 0.9, 0.7, 0.95]), threshold=0.9, reset=reset)

    def loss(x, beta, unroll):
        p = dataclasses.replace(params, beta=beta)
        s, out = tj.lif_scan(x, p, return_membrane=membrane, unroll=unroll)
        return jnp.sum(s * w) + jnp.sum(out * (w if membrane else w[0])), (s, out)

    results = {}
    for unroll in (True, 1):
        grad = jax.jit(jax.grad(functools.partial(loss, unroll=unroll), argnums=(0, 1), has_aux=True))
        (gx, gb), (s, out) = grad(x, params.beta)
        results[unroll] = (s, out, gx, gb)
    for a, b, name in zip(results[True], results[1], ("spikes", "out", "dx", "dbeta"), strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6, err_msg=name)
    assert float(jnp.sum(results[True][0])) > 0 and float(jnp.abs(results[True][2]).sum()) > 0


_W_REC = np.random.default_rng(3).normal(0, 0.3, (5, 5)).astype(np.float32)
_FAMILIES = {
    "synaptic": lambda x, u: tj.synaptic_scan(x, tj.SynapticParams(), unroll=u)[0],
    "alif": lambda x, u: tj.alif_scan(x, tj.ALIFParams(), unroll=u)[0],
    "rlif": lambda x, u: tj.rlif_scan(x, jnp.asarray(_W_REC), unroll=u)[0],
}


@pytest.mark.parametrize("family", ["synaptic", "alif", "rlif"])
def test_scan_families_unrolled_equal_loop(family):
    fn = _FAMILIES[family]
    x, w = _inputs(6, (3, 5), seed=7)
    got = {}
    for unroll in (True, 1):
        grad = jax.jit(jax.grad(lambda x, u=unroll: jnp.sum(fn(x, u) * w)))(x)
        got[unroll] = (fn(x, unroll), grad)
    np.testing.assert_array_equal(got[True][0], got[1][0])
    np.testing.assert_allclose(got[True][1], got[1][1], rtol=2e-5, atol=2e-6)
    assert float(jnp.sum(got[True][0])) > 0
