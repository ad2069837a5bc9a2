"""Train step learns and reports the loss functions; fit resumes bit-identically; evaluation;
time-major input without an encoder."""

import csv
import inspect
import json

import _tiny as tiny
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from tacjax.models import MNISTNet
from tacjax.train import (
    accuracy,
    count_cross_entropy,
    evaluate,
    events_encoder,
    fit,
    make_eval_step,
    make_optimizer,
    make_train_step,
    membrane_cross_entropy,
    rate_encoder,
    seed_keys,
    split_model,
)

T, SIZE = 4, 8


def _data(n, seed=0):
    return tiny.data(n, seed, size=SIZE)


def _model(seed=0):
    return MNISTNet(in_size=SIZE, channels=(2, 4), num_classes=2, rngs=nnx.Rngs(seed))


def test_train_step_reduces_loss():
    x, y = _data(16)
    g, p, r = split_model(_model())
    tx = make_optimizer(3e-2)
    step = make_train_step(g, tx, rate_encoder(T), loss="membrane")
    o = tx.init(p)
    losses = []
    for i in range(25):
        p, o, m = step(p, r, o, x, y, jax.random.key(i))
        losses.append(float(m["loss"]))
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), losses


def test_resume_after_interruption_gives_same_weights(tmp_path):
    x, y = _data(24, 1)
    kw = dict(encoder=rate_encoder(T), epochs=2, batch_size=8, seed=3, progress=False, learning_rate=1e-2)
    full = _model(1)
    hist_full = fit(full, (x, y), **kw)

    class Killed(Exception):
        pass

    def kill(epoch, row):
        raise Killed

    ckpt = str(tmp_path / "ckpt")
    part = _model(1)
    with pytest.raises(Killed):
        fit(part, (x, y), checkpoint_dir=ckpt, callback=kill, **kw)
    resumed = _model(7)  # different init: everything must come from the checkpoint
    hist = fit(resumed, (x, y), checkpoint_dir=ckpt, metrics_path=str(tmp_path / "m"), **kw)
    assert [h["epoch"] for h in hist] == [1, 2]
    assert hist[0]["compile_s"] > 0 and hist[1]["compile_s"] > 0  # epoch 2 ran in the new process
    np.testing.assert_allclose(hist[1]["train_loss"], hist_full[1]["train_loss"], rtol=1e-6)
    pa, pb = nnx.state(full, nnx.Param), nnx.state(resumed, nnx.Param)
    for a, b in zip(jax.tree.leaves(pa), jax.tree.leaves(pb), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with open(tmp_path / "m.json") as f:
        assert [r["epoch"] for r in json.load(f)] == [1, 2]
    with open(tmp_path / "m.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and "train_time_s" in rows[0]


def test_evaluate_matches_a_hand_computation_on_its_own_key_stream():
    """Padded last batch not counted; batch i encoded with fold_in(eval key, i), where
    eval key = split(key(seed))[1]."""
    x, y = tiny.data(10, 2)
    m = tiny.model(2)
    for layer in [*m.convs(), m.fc]:
        layer.kernel[...] = layer.kernel[...] * 3.0
    g, p, r = split_model(m)
    ev = evaluate(g, p, r, (x, y), encoder=rate_encoder(tiny.T), batch_size=4, seed=5)
    eval_key = jax.random.split(jax.random.key(5))[1]
    losses, correct, input_rates = [], [], []
    for i, start in enumerate(range(0, 10, 4)):
        n = min(4, 10 - start)
        xb = np.concatenate([x[start:start + n], np.zeros((4 - n, *x.shape[1:]), x.dtype)])
        enc = rate_encoder(tiny.T)(jax.random.fold_in(eval_key, i), jnp.asarray(xb))
        mem = np.asarray(m(enc, return_membrane=True).membrane, np.float64)[:, :n]
        logits = mem.mean(0)
        z = logits - logits.max(-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        losses += list(-logp[np.arange(n), y[start:start + n]])
        correct += list(mem.sum(0).argmax(-1) == y[start:start + n])
        input_rates += list(np.asarray(enc)[:, :n].mean(axis=(0, 2, 3, 4)))
    assert ev["num_samples"] == 10
    np.testing.assert_allclose(ev["loss"], np.mean(losses), rtol=1e-5)
    np.testing.assert_allclose(ev["accuracy"], np.mean(correct))
    np.testing.assert_allclose(ev["rates"]["input"], np.mean(input_rates), rtol=1e-5)
    assert set(ev["rates"]) == {"input", "conv1", "fc"}


def test_evaluation_keys_never_equal_training_keys():
    """Before, evaluation batch i used fold_in(fold_in(key(seed), 1), i): epoch 1's training batch i."""
    keys = seed_keys(3)

    def data(k):
        return tuple(np.asarray(jax.random.key_data(k)).tolist())

    epochs = [jax.random.fold_in(keys.train, e) for e in range(4)]
    train = {data(jax.random.fold_in(k, i)) for k in epochs for i in range(8)}
    evals = {data(jax.random.fold_in(keys.eval, i)) for i in range(8)}
    assert len(train) == 32 and len(evals) == 8 and not train & evals


def test_train_step_metrics_are_the_loss_functions():
    x, y = tiny.data(8, 4)
    g, p, r = split_model(tiny.model(4))
    tx = make_optimizer(1e-2)
    key = jax.random.key(9)
    for loss, fn in (("membrane", membrane_cross_entropy), ("count", count_cross_entropy)):
        _, _, metrics = make_train_step(g, tx, rate_encoder(tiny.T), loss=loss)(p, r, tx.init(p), x, y, key)
        out = nnx.merge(g, p, r)(rate_encoder(tiny.T)(key, jnp.asarray(x)), return_membrane=True)
        readout = out.membrane if loss == "membrane" else out.spikes
        np.testing.assert_allclose(float(metrics["loss"]), float(fn(readout, jnp.asarray(y))), rtol=1e-6)
        np.testing.assert_allclose(float(metrics["accuracy"]), float(accuracy(readout, jnp.asarray(y))))


def test_time_major_input_without_encoder_equals_the_events_encoder():
    """encoder=None takes [T, N, ...] batches along axis 1: the same run as events_encoder on [N, T, ...]."""
    rng = np.random.default_rng(5)
    events = (rng.random((8, tiny.T, tiny.SIZE, tiny.SIZE, 1)) < 0.4).astype(np.float32)
    y = rng.integers(0, 2, 8).astype(np.int32)
    kw = dict(epochs=1, batch_size=4, progress=False, learning_rate=1e-2)
    a, b = tiny.model(5), tiny.model(5)
    ha = fit(a, (events, y), (events[:6], y[:6]), encoder=events_encoder(), **kw)
    tm = np.ascontiguousarray(np.swapaxes(events, 0, 1))
    hb = fit(b, (tm, y), (tm[:, :6], y[:6]), encoder=None, **kw)
    for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
        assert ha[0][key] == hb[0][key], key
    pa, pb = (jax.tree.leaves(nnx.state(m, nnx.Param)) for m in (a, b))
    for u, v in zip(pa, pb, strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def test_defaults_are_the_membrane_loss():
    for fn in (fit, evaluate, make_train_step, make_eval_step):
        assert inspect.signature(fn).parameters["loss"].default == "membrane", fn.__name__
