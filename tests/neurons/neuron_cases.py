"""Checks shared by the tests of the NamedTuple-state neurons (synaptic, adaptive, recurrent).

A ``Family`` says how to draw a neuron's parameter leaves and initial state, how to run its scan and
its step from them, and which NumPy reference (``tests/reference.py``) it must equal. Each test file
defines its family and calls the checks below, so every check is written once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

import tacjax as tj

B, C = 2, 4  # batch, channels (N for the recurrent layer)
NEAR = 1e-5  # a membrane this close to the threshold may fire in float64 and not in float32


@dataclasses.dataclass(frozen=True)
class Family:
    """One neuron family, as the checks see it.

    ``scalar``: leaf -> the scalar value; ``ranges``: leaf -> (low, high) of the uniform per-channel
    draw; ``extra(rng)``: leaves that are neither (the recurrent weights); ``state(rng, shape)``:
    an initial state's fields; ``scan(x, leaves, reset, detach, **kw)`` and ``step(leaves, reset)``
    (a ``lax.scan`` body) run the neuron; ``reference(x, leaves, reset, state0)`` returns the
    NumPy ``(spikes, membrane, threshold [T, ...], final_state)``; ``coupled``: a near-threshold
    flip reaches every neuron of the row (recurrent weights).
    """

    state_cls: type
    scalar: dict
    ranges: dict
    state: Callable
    scan: Callable
    step: Callable
    reference: Callable
    extra: Callable = lambda rng: {}
    x_mean: float = 0.3
    coupled: bool = False


def draw_leaves(fam: Family, rng, per_channel: bool) -> dict:
    """Parameter leaves: float32 ``(C,)`` arrays when ``per_channel``, else the family's scalars."""
    if per_channel:
        leaves = {k: rng.uniform(lo, hi, C).astype(np.float32) for k, (lo, hi) in fam.ranges.items()}
    else:
        leaves = dict(fam.scalar)
    return {**leaves, **fam.extra(rng)}


def comparable(fam: Family, h_ref, theta_ref) -> np.ndarray:
    """``[T, ...]`` True where float32 must equal the float64 reference: before any step whose
    membrane came within ``NEAR`` of the threshold (in that neuron, or its row when coupled)."""
    near = np.abs(h_ref - theta_ref) < NEAR
    if fam.coupled:
        near = np.broadcast_to(near.any(axis=-1, keepdims=True), near.shape)
    ok = np.cumsum(near, axis=0) == 0
    assert ok.mean() > 0.9, "too many near-threshold membranes: the comparison would be vacuous"
    return ok


def check_matches_numpy(fam: Family, reset: str, per_channel: bool, num_steps: int) -> None:
    """Spikes and membrane equal the reference from zeros (an eager call); spikes, membrane and
    final state from a given ``state0`` (under ``jit``)."""
    rng = np.random.default_rng([num_steps, per_channel, tj.RESETS.index(reset)])
    x = rng.normal(fam.x_mean, 0.5, (num_steps, B, C)).astype(np.float32)
    leaves = draw_leaves(fam, rng, per_channel)
    state0 = fam.state_cls(*fam.state(rng, (B, C)))

    def membrane(x, leaves, state0):
        return fam.scan(x, leaves, reset, state0=state0, return_membrane=True)

    @jax.jit
    def with_final(x, leaves, state0):
        return *membrane(x, leaves, state0), fam.scan(x, leaves, reset, state0=state0)[1]

    fired = 0.0
    for st, out in ((None, membrane(x, leaves, None)), (state0, with_final(x, leaves, state0))):
        s, h = out[:2]
        s_ref, h_ref, theta_ref, final_ref = fam.reference(x, leaves, reset, st)
        ok = comparable(fam, h_ref, theta_ref)
        assert s.dtype == h.dtype == jnp.float32 and s.shape == h.shape == x.shape
        np.testing.assert_array_equal(np.asarray(s)[ok], s_ref[ok])
        np.testing.assert_allclose(np.asarray(h)[ok], h_ref[ok], rtol=1e-5, atol=1e-5)
        if st is not None:
            final = out[2]
            assert type(final) is fam.state_cls
            for got, want in zip(final, final_ref, strict=True):
                np.testing.assert_allclose(np.asarray(got)[ok[-1]], want[ok[-1]], rtol=1e-5, atol=1e-5)
        fired = max(fired, float(s_ref.mean()))
    if num_steps > 1:
        assert 0.02 < fired < 0.98  # neither silent nor saturated: the resets matter


def check_step_is_scan_body(fam: Family, reset: str) -> None:
    """``lax.scan`` of the step function equals the scan function, from zeros and from a state."""
    rng = np.random.default_rng(tj.RESETS.index(reset))
    x = jnp.asarray(rng.normal(fam.x_mean, 0.5, (9, B, C)).astype(np.float32))
    leaves = draw_leaves(fam, rng, True)
    zeros = fam.state_cls(*(jnp.zeros((B, C)) for _ in fam.state_cls._fields))
    for st in (zeros, fam.state_cls(*map(jnp.asarray, fam.state(rng, (B, C))))):
        final, s = jax.lax.scan(fam.step(leaves, reset), st, x)
        s_ref, final_ref = fam.scan(x, leaves, reset, state0=st)
        np.testing.assert_array_equal(s, s_ref)
        assert type(final) is fam.state_cls
        for got, want in zip(final, final_ref, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def check_grads(fam: Family, reset: str) -> dict:
    """Gradients of a spike loss w.r.t. the input and every leaf: finite, non-zero where the leaf
    acts (``v_reset`` only under reset "zero"), the same with ``remat``; ``detach_reset`` changes
    the gradient and not the spikes. Returns the gradients of the leaves."""
    rng = np.random.default_rng(10 + tj.RESETS.index(reset))
    x = jnp.asarray(rng.uniform(0.0, 2 * fam.x_mean + 0.1, (16, B, C)).astype(np.float32))
    leaves = {k: jnp.asarray(v) for k, v in draw_leaves(fam, rng, True).items()}
    r = jnp.asarray(rng.normal(size=x.shape).astype(np.float32))

    def loss(x, leaves, remat=False, detach=False):
        return jnp.sum(fam.scan(x, leaves, reset, detach, remat=remat)[0] * r)

    @jax.jit  # one compilation for all of it
    def run(x, leaves):
        grad = jax.grad(loss, argnums=(0, 1))
        spikes = [fam.scan(x, leaves, reset, detach)[0] for detach in (False, True)]
        return grad(x, leaves), grad(x, leaves, True), grad(x, leaves, False, True), spikes

    (gx, gl), (gx_r, gl_r), (gx_d, _), (s, s_d) = run(x, leaves)
    assert float(jnp.mean(s)) > 0.05  # the input fires
    for name, g in {"x": gx, **gl}.items():
        g = np.asarray(g)
        assert np.all(np.isfinite(g)), name
        if name == "v_reset" and reset != "zero":
            assert np.all(g == 0), "v_reset acts only under reset 'zero'"
        else:
            assert np.abs(g).max() > 1e-4, f"no gradient reaches {name}"
    for a, b in zip(jax.tree.leaves((gx, gl)), jax.tree.leaves((gx_r, gl_r)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # remat: the same gradients
    np.testing.assert_array_equal(s_d, s)  # detach_reset changes no spike ...
    if reset != "none":
        assert not np.allclose(gx_d, gx)  # ... only the gradient
    return gl


def check_vmap_over_params(fam: Family) -> None:
    """``vmap`` over a batch of every scalar leaf equals one call per setting (which differ)."""
    rng = np.random.default_rng(20)
    x = jnp.asarray(rng.normal(fam.x_mean, 0.5, (12, B, C)).astype(np.float32))
    extra = fam.extra(rng)
    batch = {k: jnp.linspace(lo, hi, 3, dtype=jnp.float32) for k, (lo, hi) in fam.ranges.items()}

    def run(scalars):
        return fam.scan(x, {**scalars, **extra}, "subtract")[0]

    out = jax.vmap(run)(batch)
    for n in range(3):
        np.testing.assert_array_equal(out[n], run({k: v[n] for k, v in batch.items()}))
    assert len({float(out[n].sum()) for n in range(3)}) == 3


def check_low_precision(fam: Family, dtype) -> None:
    """Low-precision input is integrated in float32: the outputs equal the float32 run on the same
    values, cast to the input's dtype."""
    rng = np.random.default_rng(30)
    x = jnp.asarray(rng.uniform(0.0, 0.25, (300, B, C)).astype(np.float32)).astype(dtype)
    leaves = draw_leaves(fam, rng, True)

    @jax.jit
    def run(x):
        return *fam.scan(x, leaves, "subtract", return_membrane=True), fam.scan(x, leaves, "subtract")[1]

    s, h, final = run(x)
    s32, h32, final32 = run(x.astype(jnp.float32))
    assert s.dtype == h.dtype == dtype and all(f.dtype == dtype for f in final)
    np.testing.assert_array_equal(np.asarray(s, np.float32), np.asarray(s32))
    np.testing.assert_array_equal(np.asarray(h), np.asarray(h32.astype(dtype)))
    for got, want in zip(final, final32, strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want.astype(dtype)))
    assert float(s32.mean()) > 0.01


def check_exact_gradient(fam: Family, reset: str, eps: float = 3e-3) -> None:
    """With the Heaviside spike (zero gradient) the membrane is piecewise smooth in every leaf, so
    autodiff must equal a central finite difference wherever no spike flips: checked for each
    channel of each leaf (and the first entries of the recurrent weights)."""
    rng = np.random.default_rng(40 + tj.RESETS.index(reset))
    x = jnp.asarray(rng.uniform(0.0, 2 * fam.x_mean + 0.1, (16, B, C)).astype(np.float32))
    target = jnp.asarray(rng.normal(0, 0.3, x.shape).astype(np.float32))
    leaves = {k: jnp.asarray(v) for k, v in draw_leaves(fam, rng, True).items()}

    @jax.jit
    def loss_and_spikes(leaves):
        s, h = fam.scan(x, leaves, reset, surrogate=tj.heaviside, return_membrane=True)
        return jnp.mean((h - target) ** 2), s

    grads = jax.jit(jax.grad(lambda lv: loss_and_spikes(lv)[0]))(leaves)
    checked = skipped = 0
    for name, value in leaves.items():
        for k in range(C):
            e = jnp.zeros(value.size).at[k].set(eps).reshape(value.shape)
            (lp, sp), (lm, sm) = (loss_and_spikes({**leaves, name: value + d}) for d in (e, -e))
            if not np.array_equal(sp, sm):  # a spike flipped inside the interval: not smooth there
                skipped += 1
                continue
            fd = (float(lp) - float(lm)) / (2 * eps)
            np.testing.assert_allclose(float(grads[name].reshape(-1)[k]), fd, rtol=2e-2, atol=3e-4,
                                       err_msg=f"d loss / d {name}[{k}]")
            checked += 1
    assert skipped <= 0.2 * (checked + skipped), f"{skipped} of {checked + skipped} entries flipped a spike"
