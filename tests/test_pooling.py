"""Pooling and flattening of time-major input against NumPy loops (T folded into the batch)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference import max_pool_numpy, pool_numpy, same_pads_numpy

from tacjax.pooling import avg_pool, flatten, max_pool, sum_pool

FNS = {"max": max_pool, "sum": sum_pool, "avg": avg_pool}


def _x(shape, seed=0):
    return jax.random.normal(jax.random.key(seed), shape)


def _reference(x, window, strides, padding, kind):
    """NumPy pooling of [T, B, *spatial, C] frame by frame."""
    x = np.asarray(x, np.float64)
    n = len(window)
    sp = x.shape[2:2 + n]
    pads = same_pads_numpy(sp, window, strides) if padding == "SAME" else (
        [(0, 0)] * n if padding == "VALID" else padding)
    y = pool_numpy(x.reshape(-1, *x.shape[2:]), window, strides, pads, kind)
    return y.reshape(x.shape[:2] + y.shape[1:])


@pytest.mark.parametrize("kind", ["max", "sum", "avg"])
@pytest.mark.parametrize("window,strides,padding", [
    ((2, 2), None, "VALID"),          # non-overlapping: the reshape path (odd border dropped)
    ((3, 2), (1, 2), "VALID"),
    ((3, 3), (2, 2), "SAME"),
    ((2, 3), (2, 1), ((1, 0), (0, 2))),
])
def test_2d_pooling_matches_numpy(kind, window, strides, padding):
    x = _x((3, 2, 5, 7, 4), seed=len(str(padding)))
    out = FNS[kind](x, window, strides, padding)
    want = _reference(x, window, window if strides is None else strides, padding, kind)
    assert out.shape == want.shape
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["max", "sum", "avg"])
def test_1d_pooling_matches_numpy(kind):
    x = _x((4, 2, 9, 3), seed=1)
    for window, strides, padding in [((2,), None, "VALID"), ((3,), (2,), "SAME")]:
        out = FNS[kind](x, window, strides, padding, spatial_dims=1)
        want = _reference(x, window, window if strides is None else strides, padding, kind)
        np.testing.assert_allclose(np.asarray(out), want, rtol=1e-6, atol=1e-6)


def test_max_pool_of_spikes_is_the_window_or_and_frames_stay_separate():
    x = (jax.random.uniform(jax.random.key(2), (3, 2, 6, 6, 2)) < 0.2).astype(jnp.float32)
    out = np.asarray(max_pool(x, 2))
    np.testing.assert_array_equal(out, max_pool_numpy(np.asarray(x), 2))
    x2 = x.at[1].set(0.0)  # a silent frame stays silent: no mixing across T
    assert np.asarray(max_pool(x2, 2))[1].sum() == 0 and out[1].sum() > 0


def test_one_frame_and_the_gradient():
    x = _x((2, 4, 4, 3))  # one frame [B, H, W, C]: the same function serves a streaming step
    want = _reference(x[None], (2, 2), (2, 2), "VALID", "avg")[0]
    np.testing.assert_allclose(np.asarray(avg_pool(x, 2)), want, rtol=1e-6)
    g = jax.grad(lambda z: max_pool(z, 2, 1, "SAME").sum())(x)
    assert np.asarray(g).sum() == pytest.approx(2 * 4 * 4 * 3)  # each output picks one input


def test_flatten_keeps_the_leading_axes_in_hwc_order():
    x = _x((3, 2, 4, 5, 6))
    out = flatten(x)
    assert out.shape == (3, 2, 120)
    np.testing.assert_array_equal(np.asarray(out[1, 0, :6]), np.asarray(x[1, 0, 0, 0]))
    assert flatten(x[0], 1).shape == (2, 120)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: max_pool(jnp.zeros((2, 4, 4, 3)), 0), ValueError, "`window`"),
    (lambda: max_pool(jnp.zeros((2, 4, 4, 3)), 2, 0), ValueError, "`strides`"),
    (lambda: max_pool(jnp.zeros((2, 4, 4, 3)), (2, 2, 2)), ValueError, "`window`"),
    (lambda: max_pool(jnp.zeros((2, 4, 4, 3)), 2, padding="FULL"), ValueError, "`padding`"),
    (lambda: max_pool(jnp.zeros((2, 4, 4, 3)), 2, padding=((1, 1),)), ValueError, "`padding`"),
    (lambda: max_pool(jnp.zeros((2, 4, 4, 3)), 2, padding=((1, -1), (0, 0))), ValueError, r"`padding\[0\]`"),
    (lambda: max_pool(jnp.zeros((2, 4, 4, 3)), 5), ValueError, "smaller than the window"),
    (lambda: max_pool(jnp.zeros((4, 4, 3)), 2), ValueError, "`x`"),
    (lambda: sum_pool(jnp.zeros((2, 4, 4, 3), jnp.int32), 2), TypeError, "`x`"),
    (lambda: avg_pool(jnp.zeros((2, 4, 3)), 2, spatial_dims=3), ValueError, "`spatial_dims`"),
    (lambda: flatten(jnp.zeros((2, 3)), 2), ValueError, "`x`"),
])
def test_bad_arguments_raise(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
