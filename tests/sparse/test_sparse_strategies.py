"""Every strategy equals XLA's convolution; binary checks; the dense layer as the 1x1 case."""

import jax
import numpy as np
import pytest

from tacjax.sparse import BINARY_ONLY, HOST_PLANNED, STRATEGIES, WITH_CAPACITY, as_fc, conv

CASES = [  # (input shape NHWC, kernel (kh, kw), O, stride, padding)
    ((2, 8, 7, 40), (3, 3), 5, 2, "SAME"),
    ((1, 9, 9, 2), (3, 2), 4, 2, "VALID"),
    ((3, 6, 6, 4), (3, 3), 2, (1, 2), ((0, 1), (2, 0))),
]


def _data(shape, k, o, density=0.25, seed=0):
    r = np.random.default_rng(seed)
    x = (r.random(shape) < density).astype(np.float32)
    w = r.normal(size=(*k, shape[-1], o)).astype(np.float32)
    return x, w


def _numpy_conv(x, w, stride, pad):
    """Direct loops: the reference for the reference."""
    (sh, sw), ((t, b), (lft, rgt)) = stride, pad
    xp = np.pad(x, ((0, 0), (t, b), (lft, rgt), (0, 0)))
    kh, kw, _, o = w.shape
    ho, wo = (xp.shape[1] - kh) // sh + 1, (xp.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], ho, wo, o), np.float64)
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, i * sh: i * sh + kh, j * sw: j * sw + kw, :]
            out[:, i, j] = np.einsum("nhwc,hwco->no", patch, w)
    return out


def test_dense_matches_direct_loops():
    x, w = _data((2, 7, 6, 3), (3, 3), 4)
    np.testing.assert_allclose(conv(x, w, stride=2, padding=((1, 1), (0, 2))),
                               _numpy_conv(x, w, (2, 2), ((1, 1), (0, 2))), atol=1e-5)
    # "SAME" with stride 2 on an even size pads (0, 1) like XLA
    x, w = _data((1, 8, 8, 2), (3, 3), 3)
    np.testing.assert_allclose(conv(x, w, stride=2), _numpy_conv(x, w, (2, 2), ((0, 1), (0, 1))), atol=1e-5)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("case", range(len(CASES)))
def test_strategy_equals_dense(name, case):
    shape, k, o, stride, pad = CASES[case]
    x, w = _data(shape, k, o, seed=case)
    ref = np.asarray(conv(x, w, stride=stride, padding=pad))
    out = np.asarray(STRATEGIES[name](x, w, stride=stride, padding=pad))
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", sorted(set(STRATEGIES) - HOST_PLANNED))
def test_strategy_under_jit(name):
    x, w = _data((2, 6, 6, 3), (3, 3), 4, density=0.1)
    kw = {"capacity": 10_000, "overflow": "dense"} if name in WITH_CAPACITY else {}
    f = jax.jit(lambda a, b: STRATEGIES[name](a, b, stride=1, padding="SAME", **kw))
    np.testing.assert_allclose(f(x, w), conv(x, w), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("density", [0.0, 1.0])
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_empty_and_full_input(name, density):
    x, w = _data((2, 5, 5, 3), (3, 3), 2, density=density)
    np.testing.assert_allclose(STRATEGIES[name](x, w), conv(x, w), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", sorted(BINARY_ONLY))
def test_non_binary_input_raises(name):
    x, w = _data((1, 5, 5, 2), (3, 3), 2)
    x[0, 0, 0, 0] = 0.5
    with pytest.raises(ValueError, match="binary"):
        STRATEGIES[name](x, w)


@pytest.mark.parametrize("name", sorted(set(STRATEGIES) - BINARY_ONLY))
def test_value_strategies_accept_aggregated_input(name):
    x, w = _data((2, 5, 5, 2), (3, 3), 2)
    agg = x * 0.9 + 0.5 * x[::-1]  # like a TAC aggregate: not binary
    np.testing.assert_allclose(STRATEGIES[name](agg, w), _numpy_conv(agg, w, (1, 1), ((1, 1), (1, 1))),
                               atol=1e-4)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_fc_as_1x1(name):
    r = np.random.default_rng(3)
    x = (r.random((6, 50)) < 0.2).astype(np.float32)
    w = r.normal(size=(50, 7)).astype(np.float32)
    np.testing.assert_allclose(as_fc(STRATEGIES[name])(x, w), x @ w, rtol=1e-5, atol=1e-4)


def test_shape_errors_name_the_argument():
    x, w = _data((1, 5, 5, 2), (3, 3), 2)
    with pytest.raises(ValueError, match="`spikes`.*C = 2"):
        conv(x, w[:, :, :1])
    with pytest.raises(ValueError, match="`spikes`"):
        conv(x[0], w)
    with pytest.raises(ValueError, match="`x`"):
        as_fc(conv)(x, w)
