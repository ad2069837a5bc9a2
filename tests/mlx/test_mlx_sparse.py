"""MLX sparse strategies against tacjax.sparse: same convolution for every stride/padding."""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from xbackend import assert_forward  # noqa: E402

import tacjax.mlx.sparse as ms  # noqa: E402
import tacjax.sparse as js  # noqa: E402

RNG = np.random.default_rng(4)
X = (RNG.random((2, 7, 6, 5)) < 0.3).astype(np.float32)
W = RNG.normal(size=(3, 3, 5, 4)).astype(np.float32)
GEOMS = [(1, "SAME"), (2, "SAME"), (2, "VALID"), (1, ((0, 2), (1, 0))), ((2, 1), 1)]


@pytest.mark.parametrize("stride,padding", GEOMS)
def test_every_strategy_equals_the_jax_reference(stride, padding):
    ref = js.conv(jnp.asarray(X), jnp.asarray(W), stride=stride, padding=padding)
    for name, f in ms.STRATEGIES.items():
        assert_forward(f(mx.array(X), mx.array(W), stride=stride, padding=padding), ref, what=name)
        assert name in js.STRATEGIES
    assert ms.BINARY_ONLY <= js.BINARY_ONLY and ms.WITH_CAPACITY <= js.WITH_CAPACITY


def test_layout_helpers_identical():
    xt = np.stack([X[0], X[1], X[0]])  # [T, H, W, C]
    np.testing.assert_array_equal(np.array(ms.im2col(mx.array(xt), (3, 2), 1, "SAME")),
                                  np.asarray(js.im2col(jnp.asarray(xt), (3, 2), 1, "SAME")))
    assert_forward(ms.gemm_weights(mx.array(W)), js.gemm_weights(jnp.asarray(W)))
    assert_forward(ms.patches(mx.array(X), 2, 3, 2, "SAME"), js.patches(jnp.asarray(X), 2, 3, 2, "SAME"))
    wide = (RNG.random((3, 70)) < 0.5).astype(np.float32)  # 70 channels: 3 words of 32 bits
    words = ms.pack_channels(mx.array(wide))
    np.testing.assert_array_equal(np.array(words), np.asarray(js.pack_channels(jnp.asarray(wide))))
    np.testing.assert_array_equal(np.array(ms.unpack_channels(words, 70)), wide)


@pytest.mark.parametrize("name", ["dense", "event", "bitpack"])
def test_as_fc(name):
    x = (RNG.random((3, 6)) < 0.5).astype(np.float32)
    w = RNG.normal(size=(6, 4)).astype(np.float32)
    assert_forward(ms.as_fc(ms.STRATEGIES[name])(mx.array(x), mx.array(w)), x @ w)


def test_capacity_overflow_and_binary_checks():
    n = int(X.sum())
    with pytest.raises(ValueError, match="exceed the static capacity"):
        ms.event_conv(X, W, capacity=n - 1)
    ref = js.conv(jnp.asarray(X), jnp.asarray(W))
    assert_forward(ms.event_conv(X, W, capacity=n - 1, overflow="dense"), ref)
    assert_forward(ms.tile_conv(X, W, tile=(8, 8), capacity=1, overflow="dense"), ref)
    assert_forward(ms.event_conv(np.zeros_like(X), W), np.zeros(ref.shape))
    with pytest.raises(ValueError, match="binary spikes"):
        ms.bitpack_conv(X * 0.5, W)
    with pytest.raises(ValueError, match="channels"):
        ms.conv(X, W[:, :, :4])
    with pytest.raises(ValueError, match="does not fit"):
        ms.conv(X[:, :2, :2], W, padding="VALID")
    with pytest.raises(ValueError, match="padding"):
        ms.im2col_matmul(X, W, padding="FULL")
