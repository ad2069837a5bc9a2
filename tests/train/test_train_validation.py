"""Bad input at the boundary of tacjax.train: the exception type, and a message naming the argument.

Each case is one row; nothing here trains (every check runs before the first step).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _tiny import KW, data, model

from tacjax.train import (
    accuracy,
    batch_mesh,
    count_cross_entropy,
    evaluate,
    events_encoder,
    fit,
    make_eval_step,
    make_optimizer,
    make_train_step,
    measure_inference,
    membrane_cross_entropy,
    rate_encoder,
    replicate,
    shard_batch,
    split_model,
    write_metrics,
)

X, Y = data()


def _fit(**change):
    kw = {**KW, **change}
    train = kw.pop("train", (X, Y))
    test = kw.pop("test", None)
    return fit(kw.pop("model", None) or model(0), train, test, **kw)


def _with_labels(y):
    return X[:len(y)], np.asarray(y)


FIT_CASES = [
    # (change to a valid call, exception, text the message must contain)
    (dict(epochs=0), ValueError, "fit: `epochs`"),
    (dict(epochs=1.5), TypeError, "fit: `epochs`"),
    (dict(epochs=True), TypeError, "fit: `epochs`"),
    (dict(batch_size=0), ValueError, "fit: `batch_size`"),
    (dict(batch_size="4"), TypeError, "fit: `batch_size`"),
    (dict(batch_size=9), ValueError, "fit: `batch_size` = 9 exceeds the 8"),
    (dict(learning_rate=0.0), ValueError, "fit: `learning_rate`"),
    (dict(learning_rate=-1e-3), ValueError, "fit: `learning_rate`"),
    (dict(learning_rate=math.nan), ValueError, "fit: `learning_rate`"),
    (dict(learning_rate=math.inf), ValueError, "fit: `learning_rate`"),
    (dict(learning_rate="1e-3"), TypeError, "fit: `learning_rate`"),
    (dict(loss="mse"), ValueError, "fit: `loss`"),
    (dict(seed=-1), ValueError, "fit: `seed`"),
    (dict(seed=1.0), TypeError, "fit: `seed`"),
    (dict(eval_batch_size=0), ValueError, "fit: `eval_batch_size`"),
    (dict(log_every=0), ValueError, "fit: `log_every`"),
    (dict(callback=5), TypeError, "fit: `callback`"),
    (dict(progress="yes"), TypeError, "fit: `progress`"),
    (dict(desc=3), TypeError, "fit: `desc`"),
    (dict(allow_config_change=1), TypeError, "fit: `allow_config_change`"),
    (dict(max_to_keep=0), ValueError, "fit: `max_to_keep`"),
    (dict(mesh="cpu"), TypeError, "fit: `mesh`"),
    (dict(encoder="rate"), TypeError, "fit: `encoder`"),
    (dict(model=lambda x: x), TypeError, "fit: `model`"),
    (dict(train=X), TypeError, "fit: `train` must be a pair"),
    (dict(train=(X, Y, Y)), TypeError, "fit: `train` must be a pair"),
    (dict(train=(X, Y[:5])), ValueError, r"fit: `train` labels must be \[N\]"),
    (dict(train=(X, Y[:, None])), ValueError, r"fit: `train` labels must be \[N\]"),
    (dict(train=(X, Y.astype(np.float32))), TypeError, "fit: `train` labels must be integer"),
    (dict(train=_with_labels([0, -1, 1, 0])), ValueError, "fit: `train` labels must be class indices >= 0"),
    (dict(train=_with_labels([0, 1, 2, 1]), batch_size=4), ValueError,
     r"fit: `train` labels must lie in \[0, 2\)"),
    (dict(train=(X[:0], Y[:0])), ValueError, "fit: `train` is empty"),
    (dict(train=(np.where(X > 0.5, np.nan, X), Y)), ValueError, "fit: `train` inputs contain"),
    (dict(train=(X * 255, Y)), ValueError, r"fit: `train` images for rate_encoder must lie in \[0, 1.0\]"),
    (dict(train=(X.astype(str), Y)), TypeError, "fit: `train` inputs must be a numeric array"),
    (dict(train=(X[..., 0, 0], Y)), ValueError, "fit: `train` images for rate_encoder"),
    (dict(train=(np.zeros((8, 5, 5, 1), np.float32), Y)), ValueError,
     "fit: the model .* cannot take `train`"),
    (dict(test=(X[:, :2], Y)), ValueError, "fit: `test` inputs"),
    (dict(test=_with_labels([0, 5, 1, 1])), ValueError, r"fit: `test` labels must lie in \[0, 2\)"),
    (dict(encoder=None, train=((X * 255).astype(np.uint8), Y)), TypeError,
     r"fit: `train` inputs without an encoder must be a float array \[T, N"),
    (dict(encoder=None, train=(X[0, 0], Y[:4])), ValueError, r"fit: `train` inputs must be \[T, N, ...\]"),
    (dict(encoder=None, train=(np.zeros((2, 8, 4, 4, 1), np.float32), Y[:5])), ValueError,
     r"N = inputs.shape\[1\] = 8"),
    (dict(encoder=events_encoder()), ValueError, r"fit: `train` events for events_encoder must be \[N, T"),
    (dict(metrics_path=""), ValueError, "fit: `metrics_path`"),
]


@pytest.mark.parametrize("change,exc,match", FIT_CASES, ids=[f"fit-{i}" for i in range(len(FIT_CASES))])
def test_fit_rejects_bad_input(change, exc, match):
    with pytest.raises(exc, match=match):
        _fit(**change)


def test_fit_metrics_path_that_is_a_folder(tmp_path):
    (tmp_path / "m.json").mkdir()
    with pytest.raises(ValueError, match=r"fit: `metrics_path` gives .*m.json', which is an existing folder"):
        _fit(metrics_path=str(tmp_path / "m"))
    with pytest.raises(TypeError, match="write_metrics: `history`"):
        write_metrics({"epoch": 1}, tmp_path / "x")


G, P, R = split_model(model(0))
TX = make_optimizer(1e-3)
ENC = rate_encoder(2)

OTHER_CASES = [
    (lambda: evaluate(G, P, R, (X, Y), encoder=ENC, batch_size=0), ValueError, "evaluate: `batch_size`"),
    (lambda: evaluate(G, P, R, (X, Y), encoder=ENC, batch_size=4, seed=-2), ValueError, "evaluate: `seed`"),
    (lambda: evaluate(G, P, R, (X, Y), encoder=ENC, batch_size=4, loss="ce"), ValueError, "evaluate: `loss`"),
    (lambda: evaluate(G, P, R, _with_labels([3, 0, 0, 0]), encoder=ENC, batch_size=4), ValueError,
     r"evaluate: `data` labels must lie in \[0, 2\)"),
    (lambda: evaluate(G, P, R, (X, Y), encoder=ENC, batch_size=4, eval_step=1), TypeError,
     "evaluate: `eval_step`"),
    (lambda: make_train_step("g", TX, ENC), TypeError, "make_train_step: `graphdef`"),
    (lambda: make_train_step(G, "adam", ENC), TypeError, "make_train_step: `tx`"),
    (lambda: make_train_step(G, TX, 3), TypeError, "make_train_step: `encoder`"),
    (lambda: make_train_step(G, TX, ENC, loss="l2"), ValueError, "make_train_step: `loss`"),
    (lambda: make_eval_step(G, ENC, loss="l2"), ValueError, "make_eval_step: `loss`"),
    (lambda: make_optimizer(math.nan), ValueError, "make_optimizer: `learning_rate`"),
    (lambda: make_optimizer(1e-3, 0), ValueError, "make_optimizer: `total_steps`"),
    (lambda: make_optimizer(1e-3, 10, warmup_steps=10), ValueError, "make_optimizer: `warmup_steps`"),
    (lambda: make_optimizer(1e-3, 10, final_fraction=2.0), ValueError, "make_optimizer: `final_fraction`"),
    (lambda: make_optimizer(1e-3, warmup_steps=2), ValueError, "make_optimizer: `warmup_steps`"),
    (lambda: rate_encoder(0), ValueError, "rate_encoder: `num_steps`"),
    (lambda: rate_encoder(4, gain=math.nan), ValueError, "rate_encoder: `gain`"),
    (lambda: ENC(jax.random.key(0), jnp.zeros((2, 4))), ValueError,
     r"rate_encoder: images must be \[B, H, W\]"),
    (lambda: events_encoder()(None, jnp.zeros((2, 4, 4, 1))), ValueError, "events_encoder: events must be"),
    (lambda: split_model(object()), TypeError, "split_model: `model`"),
    (lambda: measure_inference(model(0), jnp.zeros((2, 4, 4, 1)), repeats=0), ValueError,
     "measure_inference: `repeats`"),
    (lambda: measure_inference(model(0), jnp.zeros((2,))), ValueError, "measure_inference: `x`"),
    (lambda: batch_mesh([]), ValueError, "batch_mesh: `devices`"),
    (lambda: batch_mesh(["cpu"]), TypeError, "batch_mesh: `devices`"),
    (lambda: shard_batch("mesh", X), TypeError, "shard_batch: `mesh`"),
    (lambda: shard_batch(batch_mesh(), X[0, 0, 0], axis=1), ValueError, "shard_batch: array 0"),
    (lambda: replicate(None, {}), TypeError, "replicate: `mesh`"),
    (lambda: count_cross_entropy(jnp.zeros((4, 3)), jnp.zeros(4, jnp.int32)), ValueError, r"\[T, B, C\]"),
    (lambda: count_cross_entropy(jnp.zeros((2, 4, 3)), jnp.zeros(4)), TypeError,
     "count_cross_entropy: `labels` must be integer"),
    (lambda: membrane_cross_entropy(jnp.zeros((2, 4, 3)), jnp.array([0, 1, 2, 3])), ValueError,
     r"membrane_cross_entropy: `labels` must lie in \[0, C\) = \[0, 3\)"),
    (lambda: membrane_cross_entropy(jnp.zeros((2, 4, 3)), jnp.zeros(4, jnp.int32), reduction="max"),
     ValueError, "membrane_cross_entropy: `reduction`"),
    (lambda: accuracy(jnp.zeros((2, 4, 3)), jnp.zeros((5,), jnp.int32)), ValueError, "accuracy: `labels`"),
    (lambda: accuracy(jnp.zeros((2, 4, 3), jnp.int32), jnp.zeros((4,), jnp.int32)), TypeError,
     "accuracy: the readout must be a float"),
]


@pytest.mark.parametrize("call,exc,match", OTHER_CASES, ids=[f"api-{i}" for i in range(len(OTHER_CASES))])
def test_public_functions_reject_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_labels_are_checked_only_when_concrete():
    """Inside jit the label values cannot be checked; the loss then runs (fit/evaluate check first)."""
    out = jax.jit(membrane_cross_entropy)(jnp.zeros((2, 4, 3)), jnp.array([0, 1, 2, 1]))
    assert np.isfinite(float(out))
