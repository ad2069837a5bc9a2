"""Conv geometry (kernel tuples, strides, padding, 1-D) against lax.conv_general_dilated and NumPy loops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from reference import aggregate_numpy, conv_numpy, lif_numpy, pool_numpy, same_pads_numpy

import tacjax
from tacjax.nn import SpikingConv, SpikingConv1D

T, B = 4, 2
NONE = tacjax.LIFParams(beta=0.8, threshold=1e9, reset="none")  # the membrane is the integrated current


def _x(shape, seed):
    return (jax.random.uniform(jax.random.key(seed), shape) < 0.5).astype(jnp.float32)


def _pads(padding, sizes, window, strides):
    if padding == "SAME":
        return same_pads_numpy(sizes, window, strides)
    return [(0, 0)] * len(sizes) if padding == "VALID" else list(padding)


@pytest.mark.parametrize("kernel,strides,padding", [
    (3, 2, "SAME"),
    ((3, 2), (2, 1), "SAME"),
    ((2, 3), 3, "VALID"),
    (3, (1, 2), ((2, 0), (1, 1))),
    (4, 2, "SAME"),  # even kernel: XLA puts the extra row/column at the end
])
def test_2d_geometry_matches_xla_and_numpy(kernel, strides, padding):
    layer = SpikingConv(3, 5, kernel, strides=strides, padding=padding, pool=None, neuron=NONE, use_bias=True,
                        rngs=nnx.Rngs(0))
    layer.bias[...] = jnp.linspace(-0.2, 0.2, 5)
    x = _x((T, B, 9, 7, 3), 1)
    mem = layer(x, return_membrane=True).membrane
    xla = jax.lax.conv_general_dilated(x[0], layer.kernel[...], layer.strides, padding,
                                       dimension_numbers=("NHWC", "HWIO", "NHWC"))
    assert mem.shape == (T, *xla.shape)  # the same settings give XLA's own shape
    pads = _pads(padding, (9, 7), layer.kernel_size, layer.strides)
    cur = conv_numpy(np.asarray(x).reshape(T * B, 9, 7, 3), layer.kernel[...], layer.strides, pads)
    cur = cur.reshape(T, B, *cur.shape[1:]) + np.linspace(-0.2, 0.2, 5)
    _, ref_m, _ = lif_numpy(cur, 0.8, 1e9, "none")
    np.testing.assert_allclose(np.asarray(mem), ref_m, rtol=1e-5, atol=1e-5)
    assert layer.initialize_carry((B, 9, 7)).shape == mem.shape[1:]


@pytest.mark.parametrize("mode,k", [("baseline", 1), ("tac", 2), ("tac_tp", 3)])
def test_1d_conv_in_every_mode_matches_numpy(mode, k):
    lif = tacjax.LIFParams(beta=0.9, threshold=1.0)
    layer = SpikingConv1D(4, 3, 5, strides=2, mode=mode, k=k, pool=2, share="mean", neuron=lif,
                          rngs=nnx.Rngs(2))
    layer.kernel[...] = layer.kernel[...] * 2.0
    x = _x((7, B, 11, 4), 3)
    out = layer(x, return_membrane=True)
    frames = aggregate_numpy(x, k, 0.9 ** np.arange(k - 1, -1, -1)) if mode != "baseline" else np.asarray(x)
    pads = same_pads_numpy((11,), (5,), (2,))
    cur = conv_numpy(frames.reshape(-1, 11, 4), layer.kernel[...], (2,), pads)
    cur = cur.reshape(frames.shape[0], B, 6, 3)
    if mode == "tac":  # one step per chunk, leak beta**L (L = 1 for the short last chunk of T = 7)
        s1, m1, v = lif_numpy(cur[:-1], 0.9 ** 2, 1.0, "subtract")
        s2, m2, _ = lif_numpy(cur[-1:], 0.9, 1.0, "subtract", v0=v)
        ref_s, ref_m = np.concatenate([s1, s2]), np.concatenate([m1, m2])
    else:
        lengths = [min(k, 7 - c * k) for c in range(cur.shape[0])]
        drive = np.repeat(cur / np.asarray(lengths)[:, None, None, None], lengths, axis=0) if k > 1 else cur
        ref_s, ref_m, _ = lif_numpy(drive, 0.9, 1.0, "subtract")
    assert 0 < ref_s.mean() < 1
    np.testing.assert_allclose(np.asarray(out.membrane), ref_m, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(out.spikes), pool_numpy(ref_s.reshape(-1, 6, 3), (2,), (2,),
                                                                   [(0, 0)], "max").reshape(-1, B, 3, 3))
    assert layer.output_batch_shape((B, 11)) == (B, 3)


def test_strided_tac_layers_keep_their_exactness():
    """TAC with reset "none" is the per-frame membrane at chunk ends, strided and padded too."""
    kw = dict(strides=2, padding="VALID", pool=None, neuron=NONE)
    base = SpikingConv(2, 3, 3, mode="baseline", rngs=nnx.Rngs(4), **kw)
    tac = SpikingConv(2, 3, 3, mode="tac", k=2, rngs=nnx.Rngs(4), **kw)
    x = _x((6, B, 9, 9, 2), 5)
    np.testing.assert_allclose(np.asarray(tac(x, return_membrane=True).membrane),
                               np.asarray(base(x, return_membrane=True).membrane)[1::2], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(strides=0), ValueError, "`strides`"),
    (dict(strides=(1, 0)), ValueError, r"`strides\[1\]`"),
    (dict(strides=(1, 1, 1)), ValueError, "`strides`"),
    (dict(kernel_size=(3,)), ValueError, "`kernel_size`"),
    (dict(kernel_size=(3, 0)), ValueError, r"`kernel_size\[1\]`"),
    (dict(padding="CIRCULAR"), ValueError, "`padding`"),
    (dict(padding=((1, 1),)), ValueError, "`padding`"),
    (dict(padding=((1, 1), (1, -2))), ValueError, r"`padding\[1\]`"),
    (dict(padding=3), ValueError, "`padding`"),
    (dict(use_bias="yes"), TypeError, "`use_bias`"),
])
def test_bad_geometry_raises(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        SpikingConv(2, 3, **{"kernel_size": 3, **kwargs, "rngs": nnx.Rngs(0)})


def test_input_smaller_than_the_kernel_raises():
    layer = SpikingConv1D(2, 3, 5, padding="VALID", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="smaller than the window"):
        layer(jnp.zeros((2, 1, 4, 2)))
    with pytest.raises(ValueError, match=r"`x` must be \[T, B, L, C\]"):
        layer(jnp.zeros((2, 1, 8, 8, 2)))
