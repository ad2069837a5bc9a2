"""Losses, accuracy and the optimiser schedule."""

import jax.numpy as jnp
import numpy as np
import pytest

from tacjax.train import (
    accuracy,
    correct_predictions,
    count_cross_entropy,
    make_optimizer,
    membrane_cross_entropy,
)


def _ce(logits, labels, reduce=np.mean):
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return reduce(-logp[np.arange(len(labels)), labels])


def test_count_and_membrane_cross_entropy_match_numpy():
    rng = np.random.default_rng(0)
    spikes = (rng.random((5, 4, 3)) < 0.5).astype(np.float32)
    mem = rng.normal(size=(5, 4, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 2], np.int32)
    np.testing.assert_allclose(float(count_cross_entropy(jnp.asarray(spikes), jnp.asarray(y))),
                               _ce(spikes.sum(0), y), rtol=1e-5)
    np.testing.assert_allclose(float(membrane_cross_entropy(jnp.asarray(mem), jnp.asarray(y))),
                               _ce(mem.mean(0), y), rtol=1e-5)
    np.testing.assert_allclose(float(accuracy(jnp.asarray(spikes), jnp.asarray(y))),
                               np.mean(spikes.sum(0).argmax(-1) == y))


@pytest.mark.parametrize("reduction,reduce", [("mean", np.mean), ("sum", np.sum), ("none", lambda v: v)])
def test_reductions_and_per_sample_correctness(reduction, reduce):
    rng = np.random.default_rng(1)
    mem = rng.normal(size=(3, 5, 4)).astype(np.float32)
    y = np.array([0, 3, 1, 1, 2], np.int32)
    got = membrane_cross_entropy(jnp.asarray(mem), jnp.asarray(y), reduction=reduction)
    np.testing.assert_allclose(np.asarray(got), reduce(_ce(mem.mean(0).astype(np.float64), y, lambda v: v)),
                               rtol=1e-5)
    got = count_cross_entropy(jnp.asarray(mem > 0, jnp.float32), jnp.asarray(y), reduction=reduction)
    np.testing.assert_allclose(np.asarray(got), reduce(_ce((mem > 0).sum(0).astype(np.float64), y,
                                                           lambda v: v)), rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(correct_predictions(jnp.asarray(mem), jnp.asarray(y))),
                                  mem.sum(0).argmax(-1) == y)


def test_silent_readout_counts_as_class_zero():
    """Documented tie rule: a silent readout predicts class 0 (argmax of equal counts)."""
    silent = jnp.zeros((4, 3, 5))
    np.testing.assert_array_equal(np.asarray(correct_predictions(silent, jnp.array([0, 1, 4]))),
                                  [True, False, False])


def test_loss_shape_errors():
    with pytest.raises(ValueError, match=r"\[T, B, C\]"):
        count_cross_entropy(jnp.zeros((4, 3)), jnp.zeros((4,), jnp.int32))
    with pytest.raises(ValueError, match=r"labels"):
        accuracy(jnp.zeros((2, 4, 3)), jnp.zeros((5,), jnp.int32))


def test_adam_cosine_schedule_starts_at_lr_and_decays_to_zero():
    tx = make_optimizer(1e-2, total_steps=10)
    p = {"w": jnp.ones(3)}
    g = {"w": jnp.array([1.0, -2.0, 3.0])}
    state = tx.init(p)
    first, state = tx.update(g, state, p)
    np.testing.assert_allclose(np.asarray(first["w"]), -1e-2 * np.sign([1.0, -2.0, 3.0]), rtol=1e-3)
    for _ in range(9):
        _, state = tx.update(g, state, p)
    last, _ = tx.update(g, state, p)
    assert np.all(np.abs(np.asarray(last["w"])) < 1e-8)
    with pytest.raises(ValueError, match="learning_rate"):
        make_optimizer(0.0)
