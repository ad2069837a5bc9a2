"""Each data set made ready before any training: data, configurations, overrides checked against the data."""

import numpy as np
import pytest

from tacjax.study import DataUnavailable, OptionError, StudyOptions, check_options, prepare


def _opts(tmp_path, **kw):
    return check_options(StudyOptions(protocol="smoke", out=str(tmp_path / "out"), **kw))


def test_images_from_data_dir_with_grids_override(tmp_path, isolated, image_dir):
    d = prepare("mnist", _opts(tmp_path, data_dir=str(image_dir), grids="4:2,4;2:1", train_samples=16,
                               test_samples=5))  # fmt: skip
    labels = [c.label for c in d.configs]
    assert labels == ["T4_baseline", "T4_tac_K2", "T4_tac_K4", "T2_baseline", "T2_tac_K1"]
    assert d.train[0].shape == (16, 28, 28) and d.test[1].shape == (5,)
    assert d.protocol["train"] == 16 and d.protocol["test"] == 5
    assert d.protocol["grids"] == ((4, (2, 4)), (2, (1,)))
    assert d.source == f"{image_dir / 'mnist'} (data_dir)"
    assert d.out_dir == str(tmp_path / "out" / "mnist")
    x = d.raster_input(4)
    assert x.shape == (4, 1, 28, 28, 1) and set(np.unique(x)) <= {0.0, 1.0}
    model = d.build(d.configs[1])
    assert model.conv_calls(4) == {"conv1": 2, "conv2": 2, "total": 4}  # T=4, K=2: both layers at 2 steps


def test_image_overrides_must_fit_the_data(tmp_path, isolated, image_dir):
    with pytest.raises(OptionError, match=r"--train-samples \(train_samples\) 41 exceeds the 40 train"):
        prepare("mnist", _opts(tmp_path, data_dir=str(image_dir), train_samples=41))
    with pytest.raises(OptionError, match=r"--test-samples \(test_samples\) 21 exceeds the 20 test samples"):
        prepare("mnist", _opts(tmp_path, data_dir=str(image_dir), test_samples=21))
    opts = check_options(StudyOptions(dataset="mnist", data_dir=str(image_dir)))  # default protocol: 2048
    want = r"the default protocol's train subset 2048 exceeds the 40 train samples of mnist; pass"
    with pytest.raises(OptionError, match=want + r" --train-samples \(train_samples\) 40 or less"):
        prepare("mnist", opts)
    with pytest.raises(OptionError, match=r"--train-samples \(train_samples\): mnist has 7 training samples, "
                                          r"fewer than one batch of 8"):
        prepare("mnist", _opts(tmp_path, data_dir=str(image_dir), train_samples=7))


def test_missing_images_are_unavailable(tmp_path, isolated):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataUnavailable, match="MNIST 'train' files .* not found"):
        prepare("mnist", _opts(tmp_path, data_dir=str(tmp_path / "empty")))


def test_synthetic_follows_the_protocol(tmp_path):
    d = prepare("synthetic", _opts(tmp_path, epochs=2, seed=3))
    assert [c.label for c in d.configs] == ["baseline", "tac_K2", "tac_K4", "tac_tp_K2"]
    assert d.train[0].shape == (48, 4, 12, 12, 2) and d.test[0].shape == (16, 4, 12, 12, 2)
    assert d.protocol["epochs"] == 2 and d.protocol["batch"] == 8
    np.testing.assert_array_equal(d.raster_input(4)[:, 0], d.test[0][0])  # time-major [T, 1, ...]


def test_dvs_gesture_from_a_fake_layout(tmp_path, monkeypatch):
    from data.test_data_dvs_gesture import write_layout  # tests/ is on the path (pythonpath = ["tests"])

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    write_layout(tmp_path / "dvs", labels=(0, 3, 10))
    write_layout(tmp_path / "dvs", "test", labels=(1,))
    d = prepare("dvs_gesture", _opts(tmp_path, dataset="dvs_gesture", data_dir=str(tmp_path / "dvs")))
    assert [c.label for c in d.configs] == ["baseline", "tac_K2", "tac_tp_K2"]
    assert d.train[0].shape == (6, 4, 16, 16, 2) and d.out_dir == str(tmp_path / "out" / "dvs")
    assert d.build(d.configs[0]).num_classes == 11
    with pytest.raises(DataUnavailable, match="needs --data-dir"):
        prepare("dvs_gesture", _opts(tmp_path, dataset="all"))
