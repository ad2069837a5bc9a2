"""A plan's predicted order loss (the erasure/collapse rules) and dense work, against hand computations."""

import numpy as np
import pytest
from flax import nnx

from tacjax.models import ConvSNN
from tacjax.plan import envelope, layer_losses, plan_specs, plan_work


def test_envelope_is_the_running_max_clipped_at_zero():
    raw = np.array([[0.0, -0.1, 0.3, 0.2, 0.5], [0.0, 0.02, -0.5, 0.01, 0.0]])
    np.testing.assert_array_equal(envelope(raw), [[0, 0, 0.3, 0.3, 0.5], [0, 0.02, 0.02, 0.02, 0.02]])


# S_i(A) for i = conv1, conv2, readout input, A = 1 .. 8 (already an envelope)
ENV = np.array([[0, 1, 2, 3, 4, 5, 6, 7],
                [0, 10, 20, 30, 40, 50, 60, 70],
                [0, 100, 200, 300, 400, 500, 600, 700]], float)


@pytest.mark.parametrize("modes,ks,want", [
    (("baseline", "baseline"), (1, 1), [0, 0]),
    (("tac", "tac"), (4, 1), [3 + 30, 0]),             # the grid's "tac 4": S_1(4) + S_2(4), nothing after
    (("tac_tp", "tac_tp"), (4, 4), [3, 0]),           # the grid's "tac_tp 4": S_1(4); conv2's order gone
    (("tac_tp", "tac_tp"), (2, 4), [1, 30 - 10]),     # conv2 widens the erased chunk from 2 to 4
    (("baseline", "tac"), (1, 2), [0, 10 + 100]),     # collapse at conv2: input order, then output timing
    (("tac", "tac"), (2, 4), [1 + 10, 70 - 10 + 700 - 100]),  # conv2 sees 2-frame steps: A = 8, A_in = 2
    (("tac_tp", "tac"), (4, 2), [3, 0]),              # A = max(u = 4, c K = 2) = 4 = A_in: nothing new
    (("tac_tp", "tac"), (2, 4), [1, 30 - 10 + 300 - 100]),  # collapse of 4 after an erased 2
])  # fmt: skip
def test_layer_losses_follow_the_rules(modes, ks, want):
    assert layer_losses(ENV, modes, ks) == pytest.approx(want)


def test_layer_losses_caps_chunks_at_t_and_checks_lengths():
    env = ENV[:, :5]  # T = 5
    # conv2 would sum 3 * 2 = 6 frames: capped at T = 5
    assert layer_losses(env, ("tac", "tac"), (3, 2)) == pytest.approx([2 + 20, 40 - 20 + 400 - 200])
    with pytest.raises(ValueError, match=r"`modes` and `ks` need one entry per conv layer \(2\)"):
        layer_losses(env, ("tac",), (2,))


def test_dense_work_by_hand():
    """Conv 1 -> 2 channels on 4x4 (pool 2), readout 8 -> 2, T = 4, neuron cost 10."""
    model = ConvSNN(num_steps=4, in_size=4, in_channels=1, channels=(2,), num_classes=2, rngs=nnx.Rngs(0))
    conv, conv_n, fc, fc_n = 9 * 16 * 1 * 2, 16 * 2, 8 * 2, 2
    base = 4 * conv + 10 * 4 * conv_n + 4 * fc + 10 * 4 * fc_n
    assert plan_work(plan_specs(model, ("baseline",), (1,)), 10.0) == pytest.approx(base)
    tac = 2 * conv + 10 * 2 * conv_n + 2 * fc + 10 * 2 * fc_n  # K = 2: 2 calls, 2 steps everywhere
    assert plan_work(plan_specs(model, ("tac",), (2,)), 10.0) == pytest.approx(tac)
    tp = 2 * conv + 10 * 4 * conv_n + 4 * fc + 10 * 4 * fc_n  # K = 2 preserved: 2 calls, 4 LIF steps
    assert plan_work(plan_specs(model, ("tac_tp",), (2,)), 10.0) == pytest.approx(tp)
