"""Fault tests: corrupt checkpoints and metrics files, kill -9 during a save or a step, config changes.

Every resumed run must lose no completed epoch and end with weights bit-identical to an
uninterrupted run (``reference``: 2 epochs of the tiny problem, checkpoints 1 and 2 kept).
"""

import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from _tiny import KW, data, model, params
from flax import nnx

from tacjax.models import MNISTNet
from tacjax.train import CheckpointConfigError, CorruptCheckpointWarning, fit

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted checkpointed run: its folder (ckpt/1, ckpt/2, m.json, m.csv), weights, history."""
    root = tmp_path_factory.mktemp("reference")
    m = model(1)
    hist = fit(m, data(), checkpoint_dir=str(root / "ckpt"), metrics_path=str(root / "m"), **KW)
    assert sorted(os.listdir(root / "ckpt")) == ["1", "2"]
    return root, params(m), hist


def _copy(reference, tmp_path):
    shutil.copytree(reference[0], tmp_path / "run")
    return tmp_path / "run"


def _resume(run, **kw):
    m = model(7)  # another init: everything must come from the checkpoint
    hist = fit(m, data(), checkpoint_dir=str(run / "ckpt"), metrics_path=str(run / "m"), **{**KW, **kw})
    return m, hist


def _assert_like_reference(reference, run, m, hist):
    _, want, want_hist = reference
    assert [h["epoch"] for h in hist] == [1, 2]
    for a, b in zip(params(m), want, strict=True):
        np.testing.assert_array_equal(a, b)  # bit-identical weights
    for got, exp in zip(hist, want_hist, strict=True):  # no completed epoch lost or changed
        assert (got["train_loss"], got["train_accuracy"]) == (exp["train_loss"], exp["train_accuracy"])
    with open(run / "m.json") as f:
        assert [r["train_loss"] for r in json.load(f)] == [h["train_loss"] for h in want_hist]
    with open(run / "m.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2]


def _largest(folder):
    files = [os.path.join(r, f) for r, _, fs in os.walk(folder) for f in fs]
    return max(files, key=os.path.getsize)


def _flip(path):
    b = bytearray(open(path, "rb").read())
    b[len(b) // 2] ^= 0x01
    open(path, "wb").write(b)


def _truncate(path):
    b = open(path, "rb").read()
    open(path, "wb").write(b[:len(b) // 2])


def _edit_history(path):
    rows = json.load(open(path))
    rows[0]["train_loss"] += 1.0  # valid JSON, wrong value: only the checksum can tell
    open(path, "w").write(json.dumps(rows))


FAULTS = {
    "array bit flip": lambda c: _flip(_largest(c / "state" / "d")),
    "array file truncated": lambda c: _truncate(_largest(c / "state" / "d")),
    "history file missing": lambda c: os.remove(c / "history" / "metadata"),
    "history value changed": lambda c: _edit_history(c / "history" / "metadata"),
    "metadata bad JSON": lambda c: open(c / "meta" / "metadata", "w").write("{not json"),
    "state metadata truncated": lambda c: _truncate(c / "state" / "_METADATA"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_corrupt_newest_checkpoint_is_reported_and_the_older_one_used(reference, tmp_path, fault):
    run = _copy(reference, tmp_path)
    FAULTS[fault](run / "ckpt" / "2")
    with pytest.warns(CorruptCheckpointWarning, match=f"{run / 'ckpt' / '2'} is corrupt"):
        m, hist = _resume(run)
    _assert_like_reference(reference, run, m, hist)
    assert sorted(os.listdir(run / "ckpt")) == ["1", "2", "corrupt"]  # retrained 2; the bad one set aside
    assert len(os.listdir(run / "ckpt" / "corrupt")) == 1


@pytest.mark.parametrize("fault", ["truncated", "missing", "stale"])
def test_metrics_files_are_repaired_from_the_checkpoint(reference, tmp_path, fault):
    run = _copy(reference, tmp_path)
    if fault == "truncated":
        _truncate(run / "m.json")
        _truncate(run / "m.csv")
    elif fault == "missing":
        os.remove(run / "m.json")
        os.remove(run / "m.csv")
    else:  # a kill between the checkpoint and the metrics write: one epoch behind
        open(run / "m.json", "w").write(json.dumps(reference[2][:1]))
    with pytest.warns(UserWarning, match="metrics file .*m.json"):
        m, hist = _resume(run)
    _assert_like_reference(reference, run, m, hist)


def _killed_run(tmp_path, kill_at):
    run = tmp_path / "run"
    cmd = [sys.executable, os.path.join(HERE, "_tiny.py"), kill_at, str(run / "ckpt"), str(run / "m")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == -9, out.stdout + out.stderr  # SIGKILL, not a clean exit
    return run


@pytest.mark.parametrize("kill_at", ["save", "step"])
def test_kill_9_during_a_save_or_a_step_resumes_bit_identical(reference, tmp_path, kill_at):
    run = _killed_run(tmp_path, kill_at)
    assert sorted(n for n in os.listdir(run / "ckpt") if n.isdigit()) == ["1"]  # epoch 1 survived
    if kill_at == "save":  # the partial save of epoch 2 is left behind, uncommitted
        assert any(n.startswith("2.orbax-checkpoint-tmp") for n in os.listdir(run / "ckpt"))
    with open(run / "m.json") as f:
        assert [r["epoch"] for r in json.load(f)] == [1]
    m, hist = _resume(run)
    _assert_like_reference(reference, run, m, hist)
    assert sorted(os.listdir(run / "ckpt")) == ["1", "2"]  # the partial save was cleaned up


@pytest.mark.parametrize("change,fields", [
    (dict(modes=("tac",), ks=(2,)), ["conv1.mode", "conv1.k"]),
    (dict(channels=(3,)), ["conv1.out_features", "params/conv1/kernel"]),
    (dict(learn_beta=True), ["params/conv1/beta"]),
])
def test_checkpoint_of_another_model_is_an_error_listing_the_fields(reference, tmp_path, change, fields):
    run = _copy(reference, tmp_path)
    other = MNISTNet(in_size=4, num_classes=2, rngs=nnx.Rngs(0),
                     **{"channels": (2,), "modes": ("baseline",), "ks": (1,), **change})
    with pytest.raises(CheckpointConfigError, match="another configuration") as err:
        fit(other, data(), checkpoint_dir=str(run / "ckpt"), **KW)
    for field in fields:
        assert field in str(err.value)
    assert sorted(os.listdir(run / "ckpt")) == ["1", "2"]  # nothing touched


def test_training_configuration_change_needs_allow_config_change(reference, tmp_path):
    run = _copy(reference, tmp_path)
    for change, field in [({"learning_rate": 1e-3}, "train.learning_rate"), ({"loss": "count"}, "train.loss"),
                          ({"batch_size": 2}, "train.batch_size"), ({"seed": 4}, "train.seed")]:
        with pytest.raises(CheckpointConfigError, match=field):
            _resume(run, **change)
    with pytest.warns(UserWarning, match="train.learning_rate"):
        m, hist = _resume(run, learning_rate=1e-3, allow_config_change=True)
    assert [h["epoch"] for h in hist] == [1, 2]


def test_epochs_smaller_than_the_checkpoint_is_an_error_naming_both(reference, tmp_path):
    run = _copy(reference, tmp_path)
    with pytest.raises(ValueError, match=r"`epochs` = 1 is smaller than the 2 epochs"):
        _resume(run, epochs=1)


def test_checkpoint_dir_that_is_a_file_fails_at_once(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    for path in (f, f / "sub"):
        with pytest.raises(ValueError, match="`checkpoint_dir`"):
            fit(model(0), data(), checkpoint_dir=str(path), **KW)
