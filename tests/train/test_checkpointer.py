"""EpochCheckpointer on its own: verification, retention, corrupt checkpoints, bad arguments."""

import os

import jax.numpy as jnp
import numpy as np
import pytest

import tacjax.train.checkpoint as ckmod
from tacjax.train import (
    CheckpointConfigError,
    CheckpointError,
    CorruptCheckpointWarning,
    EpochCheckpointer,
    model_fingerprint,
)


def _state(v=1.0):
    return {"w": jnp.full((3, 2), v, jnp.float32), "n": jnp.int32(7)}


def _corrupt(ck, epoch):
    with open(os.path.join(ck.path(epoch), "meta", "metadata"), "w") as f:
        f.write("{")


def test_round_trip_and_retention(tmp_path):
    ck = EpochCheckpointer(tmp_path / "c", max_to_keep=2)
    for e in (1, 2, 3):
        ck.save(e, _state(e), [{"epoch": i} for i in range(1, e + 1)], {"model": "m"})
    assert ck.epochs() == [2, 3]
    out = ck.restore(_state(0.0), fingerprint={"model": "m"})
    assert out.epoch == 3 and out.history == [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}]
    np.testing.assert_array_equal(np.asarray(out.state["w"]), np.full((3, 2), 3.0))
    assert int(out.state["n"]) == 7 and out.fingerprint == {"model": "m"}
    assert ck.restore(_state(0.0), epoch=2).epoch == 2


def test_a_save_that_fails_verification_deletes_nothing(tmp_path, monkeypatch):
    ck = EpochCheckpointer(tmp_path / "c", max_to_keep=1)
    ck.save(1, _state(1.0), [])
    real, calls = ckmod.tree_digest, []

    def digest_that_changes_on_read_back(tree):
        calls.append(1)
        return real(tree) if len(calls) == 1 else "0" * 64

    monkeypatch.setattr(ckmod, "tree_digest", digest_that_changes_on_read_back)
    with pytest.raises(CheckpointError, match=r"failed verification right after writing"):
        ck.save(2, _state(2.0), [])
    assert ck.epochs() == [1, 2]  # 1, the newest verified checkpoint, was kept


def test_corrupt_newest_falls_back_and_is_set_aside_then_retention_resumes(tmp_path):
    ck = EpochCheckpointer(tmp_path / "c", max_to_keep=2)
    for e in (1, 2):
        ck.save(e, _state(e), [{"epoch": e}])
    _corrupt(ck, 2)
    with pytest.warns(CorruptCheckpointWarning, match=r"c/2 is corrupt and was skipped: its metadata"):
        out = ck.restore(_state(0.0))
    assert out.epoch == 1 and ck.epochs() == [1]
    assert len(os.listdir(tmp_path / "c" / "corrupt")) == 1
    ck.save(2, _state(2.0), [{"epoch": 2}])
    ck.save(3, _state(3.0), [{"epoch": 3}])
    assert ck.epochs() == [2, 3]


def test_all_corrupt_is_an_error_that_lists_them_and_moves_nothing(tmp_path):
    ck = EpochCheckpointer(tmp_path / "c", max_to_keep=None)
    for e in (1, 2):
        ck.save(e, _state(e), [])
        _corrupt(ck, e)
    with pytest.warns(CorruptCheckpointWarning), pytest.raises(CheckpointError, match="no usable") as err:
        ck.restore(_state(0.0))
    assert str(ck.path(1)) in str(err.value) and str(ck.path(2)) in str(err.value)
    assert ck.epochs() == [1, 2]
    with pytest.warns(CorruptCheckpointWarning), pytest.raises(CheckpointError):
        ck.restore(_state(0.0), epoch=2)  # an explicit epoch is never replaced by another one


def test_state_that_does_not_fit_and_fingerprint_mismatch(tmp_path):
    ck = EpochCheckpointer(tmp_path / "c")
    ck.save(1, _state(), [], {"model": "a", "k": 2, "info.epochs": 5})
    with pytest.raises(CheckpointConfigError, match=r"k: checkpoint 2, now 4"):
        ck.restore(_state(), fingerprint={"model": "a", "k": 4, "info.epochs": 9})
    # info.* fields are recorded, not compared
    assert ck.restore(_state(), fingerprint={"model": "a", "k": 2, "info.epochs": 9}).epoch == 1
    with pytest.warns(UserWarning, match="configuration changed"):
        ck.restore(_state(), fingerprint={"model": "b", "k": 2}, allow_config_change=True)
    with pytest.raises(CheckpointConfigError, match=r"(?s)does not fit.*\['w'\]: checkpoint"):
        ck.restore({"w": jnp.zeros((2, 2)), "n": jnp.int32(0)}, allow_config_change=True)


def test_partial_saves_are_cleaned_up_and_files_are_refused(tmp_path):
    (tmp_path / "c" / "3.orbax-checkpoint-tmp-123" / "x").mkdir(parents=True)
    (tmp_path / "c" / "1.deleting").mkdir()
    ck = EpochCheckpointer(tmp_path / "c")
    assert sorted(os.listdir(tmp_path / "c")) == [] and ck.latest_epoch() is None
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        ck.restore(_state())
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match=r"`directory` = .*f' is an existing file"):
        EpochCheckpointer(tmp_path / "f")


@pytest.mark.parametrize("call,exc,match", [
    (lambda ck: ck.save(-1, _state(), []), ValueError, "`epoch`"),
    (lambda ck: ck.save(1.0, _state(), []), TypeError, "`epoch`"),
    (lambda ck: ck.save(1, _state(), {"epoch": 1}), TypeError, "`history`"),
    (lambda ck: ck.save(1, _state(), [{"loss": np.float32(1.0)}]), TypeError, "`history` and `fingerprint`"),
    (lambda ck: (ck.save(2, _state(), []), ck.save(2, _state(), [])), ValueError, "`epoch` = 2 is not newer"),
    (lambda ck: EpochCheckpointer(ck.directory, max_to_keep=0), ValueError, "`max_to_keep`"),
    (lambda ck: EpochCheckpointer(3), TypeError, "`directory`"),
])
def test_bad_arguments(tmp_path, call, exc, match):
    with pytest.raises(exc, match=match):
        call(EpochCheckpointer(tmp_path / "c"))


def test_model_fingerprint_names_configuration_and_shapes():
    from _tiny import model

    fp = model_fingerprint(model(0))
    assert fp["model"] == "tacjax.models.MNISTNet" and fp["conv1.mode"] == "baseline"
    assert fp["params/conv1/kernel"] == "float32[3, 3, 1, 2]" and fp["fc.out_features"] == 2
    assert fp["conv1.surrogate"] == "tacjax.surrogate.fast_sigmoid"
    assert fp["conv1.neuron"] == {"type": "LIFParams", "beta": 0.9, "threshold": 1.0, "reset": "subtract",
                               "detach_reset": False, "v_leak": 0.0, "v_reset": 0.0}
    assert model_fingerprint(model(5)) == fp  # the init seed is not configuration
