"""Train step learns; fit is resumable with identical final weights; metrics files; evaluation."""

import csv
import json

import jax
import numpy as np
import pytest
from flax import nnx

from tacjax.models import MNISTNet
from tacjax.train import evaluate, fit, make_optimizer, make_train_step, rate_encoder, split_model

T, SIZE = 4, 8


def _data(n, seed=0):
    """Two classes: bright left half vs bright right half (plus noise)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int32)
    x = rng.random((n, SIZE, SIZE, 1)).astype(np.float32) * 0.2
    for i, c in enumerate(y):
        x[i, :, c * SIZE // 2:(c + 1) * SIZE // 2] = 0.9
    return x, y


def _model(seed=0):
    return MNISTNet(num_steps=T, in_size=SIZE, channels=(2, 4), num_classes=2, rngs=nnx.Rngs(seed))


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


def test_evaluate_counts_every_sample_and_reports_rates():
    x, y = _data(10, 2)
    m = _model(2)
    g, p, r = split_model(m)
    ev = evaluate(g, p, r, (x, y), encoder=rate_encoder(T), batch_size=4)
    assert ev["num_samples"] == 10
    assert 0.0 <= ev["accuracy"] <= 1.0
    assert set(ev["rates"]) == {"input", "conv1", "conv2", "fc"}
    np.testing.assert_allclose(ev["rates"]["input"], x.mean(), atol=0.05)
