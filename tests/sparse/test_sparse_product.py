"""Product sparsity: prefix rules and densities worked out by hand; exact reuse execution; im2col layout."""

import os

import numpy as np
import pytest

from tacjax.sparse import (
    bit_density,
    conv,
    execute_plan,
    gemm_weights,
    im2col,
    product_density,
    product_matmul,
    product_plan,
)

# r0 = 1100, r1 = 1110, r2 = 1100 (identical to r0), r3 = 0001
S_HAND = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1]], bool)


def test_prefix_rules_by_hand():
    plan = product_plan(S_HAND, tile=(4, 4))
    # r0: its only subset with ones is r2, identical and later -> no prefix.
    # r1: subsets r0 and r2 (2 ones each) -> first on ties, r0; residual 0010.
    # r2: identical earlier row r0 -> prefix r0, empty residual.
    # r3: a single one is never searched.
    np.testing.assert_array_equal(plan.prefix, [[-1, 0, 0, -1]])
    np.testing.assert_array_equal(plan.residual.astype(int),
                                  [[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1]])
    assert plan.depth == 1 and plan.reused_rows == 2


def test_densities_by_hand():
    # nnz(S) = 8 of 16; residual nnz = 2 + 1 + 0 + 1 = 4
    assert bit_density(S_HAND, 10) == pytest.approx(0.5)
    assert product_density(S_HAND, 10, tile=(4, 4)) == pytest.approx(0.25)
    # 2-row tiles: {r0, r1}: r1 reuses r0 (residual 1); {r2, r3}: nothing -> 2 + 1 + 2 + 1 = 6
    assert product_density(S_HAND, 10, tile=(2, 4)) == pytest.approx(6 / 16)
    # 2-column tiles: cols {0,1}: r1 and r2 reuse r0 (11) -> 2+0+0+0; cols {2,3}: all single ones -> 2
    assert product_density(S_HAND, 10, tile=(4, 2)) == pytest.approx(4 / 16)


def test_layer_weighting_by_output_tiles():
    dense_layer = np.ones((2, 4), bool)  # bit density 1, product density 1/2 (row 1 reuses row 0)
    # weights ceil(100/128) = 1 and ceil(300/128) = 3
    assert bit_density([S_HAND, dense_layer], [100, 300]) == pytest.approx((8 + 3 * 8) / (16 + 3 * 8))
    assert product_density([S_HAND, dense_layer], [100, 300], tile=(4, 4)) == pytest.approx(
        (4 + 3 * 4) / (16 + 3 * 8))
    with pytest.raises(ValueError, match="n_out"):
        bit_density([S_HAND, dense_layer], 100)


def test_chain_and_later_proper_subset():
    # row 0 = 0111 reuses the *later* row 2 = 0011, which reuses row 1 = 0001? no: a single one is
    # a valid prefix (>= 1 one) but row 2 has two ones and its subset row 1 has one -> chain depth 2.
    s = np.array([[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 1, 1]], bool)
    plan = product_plan(s, tile=(4, 4))
    np.testing.assert_array_equal(plan.prefix, [[2, -1, 1]])
    assert plan.depth == 2
    assert product_density(s, 1, tile=(4, 4)) == pytest.approx(3 / 12)


@pytest.mark.parametrize("tile", [(256, 16), (7, 5)])
def test_product_matmul_exact(tile):
    r = np.random.default_rng(0)
    s = r.random((300, 37)) < 0.3
    s[50:60] = s[10]  # identical rows
    w = r.integers(-4, 5, size=(37, 6)).astype(np.float32)  # integers: float sums are exact
    np.testing.assert_array_equal(product_matmul(s, w, tile=tile), s.astype(np.float32) @ w)
    wf = r.normal(size=(37, 6)).astype(np.float32)
    np.testing.assert_allclose(execute_plan(product_plan(s, tile), wf), s @ wf, rtol=1e-5, atol=1e-5)


def test_product_rejects_non_binary():
    with pytest.raises(ValueError, match="binary"):
        product_plan(np.full((3, 3), 0.5))
    with pytest.raises(ValueError, match="binary"):
        bit_density(np.full((3, 3), 2.0), 4)


def test_im2col_layout():
    # one channel-major column index c*k*k + i*k + j and timesteps adjacent in rows
    t, h, w, c = 3, 4, 4, 2
    x = np.arange(t * h * w * c, dtype=np.float32).reshape(t, h, w, c)
    s = np.asarray(im2col(x, 3, 1, "VALID"))
    assert s.shape == (2 * 2 * t, c * 9)
    for oy, ox, tt, cc, i, j in [(0, 0, 0, 0, 0, 0), (1, 0, 2, 1, 2, 1), (1, 1, 1, 0, 1, 2)]:
        row = (oy * 2 + ox) * t + tt
        assert s[row, cc * 9 + i * 3 + j] == x[tt, oy + i, ox + j, cc]
    r = np.random.default_rng(1)
    wts = r.normal(size=(3, 3, c, 5)).astype(np.float32)
    out = (s @ np.asarray(gemm_weights(wts))).reshape(2, 2, t, 5).transpose(2, 0, 1, 3)
    np.testing.assert_allclose(out, conv(x, wts, padding="VALID"), rtol=1e-5, atol=1e-3)


# Optional real data: $TACJAX_PROSPERITY_DIR, else the team's shared folder beside the checkout.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LENET = os.path.join(os.environ.get("TACJAX_PROSPERITY_DIR",
                                    os.path.join(_ROOT, "..", "shared", "data", "prosperity")),
                     "lenet5_mnist_spikes.npz")


@pytest.mark.skipif(not os.path.exists(LENET), reason="Prosperity's LeNet-5 dump is not on this machine")
def test_lenet5_reference_densities():
    d = np.load(LENET)
    conv_in = d["conv2d_1"].transpose(0, 2, 3, 1)  # (T, C, H, W) -> (T, H, W, C)
    mats = [np.asarray(im2col(conv_in, 5, 1, "VALID")), d["fc_0"], d["fc_1"]]
    assert bit_density(mats, [16, 120, 84]) == pytest.approx(0.2536, abs=5e-5)
    assert product_density(mats, [16, 120, 84]) == pytest.approx(0.0156, abs=5e-5)
