"""Every study option is checked before any work; each error names the flag, the option and the value."""

import os

import pytest

from tacjax.study import OptionError, StudyOptions, check_options, parse_grids, prepare_out, selected_datasets
from tacjax.study.options import overrides


@pytest.mark.parametrize("field,value,expected", [
    ("train_samples", 0, "an int >= 1"), ("train_samples", -5, "an int >= 1"),
    ("test_samples", 0, "an int >= 1"), ("test_samples", 2.5, "an int >= 1"),
    ("epochs", 0, "an int >= 1"), ("epochs", -1, "an int >= 1"),
    ("epochs", True, "an int >= 1"), ("seed", -1, "an int >= 0"), ("seed", None, "an int >= 0"),
    ("protocol", "huge", "one of"), ("dataset", "cifar", "one of"), ("loss", "mse", "one of"),
    ("tp_share", "sum", "one of"), ("progress", "no", "a bool"), ("out", "", "a folder path"),
    ("plan", "manual", "one of ('none', 'auto', 'trials', 'all')"),
])  # fmt: skip
def test_bad_values_name_flag_option_and_value(field, value, expected):
    with pytest.raises(OptionError) as e:
        check_options(StudyOptions(**{field: value}))
    msg = str(e.value)
    special = {"protocol": "--smoke/--full", "progress": "--no-progress"}
    flag = special.get(field, "--" + field.replace("_", "-"))
    assert msg.startswith(f"{flag} ({field}) must be {expected}") and f"got {value!r}" in msg, msg
    assert isinstance(e.value, ValueError)


def test_zero_is_not_all():
    with pytest.raises(OptionError, match=r"0 does not mean 'all'\); got 0"):
        check_options(StudyOptions(train_samples=0))


@pytest.mark.parametrize("text", [
    "16", "16:", ":2", "16:2,,4", "a:b", "16:2;", "4:8", "0:1", "16:0", "16:2,2", "16:2;16:4", "16:-2", "",
])  # fmt: skip
def test_malformed_grids(text):
    with pytest.raises(OptionError, match=rf"--grids \(grids\) must be 'T:K1,K2,\.\.\.' .*got {text!r}"):
        parse_grids(text)
    with pytest.raises(OptionError, match="--grids"):
        check_options(StudyOptions(grids=text))


@pytest.mark.parametrize("grids", [((16, (32,)),), ((16, ()),), ((16.0, (2,)),), "x", (), ((16, 2),)])
def test_malformed_grid_tuples(grids):
    with pytest.raises(OptionError, match="--grids"):
        parse_grids(grids)


def test_good_grids_parse():
    assert parse_grids(" 25 : 5, 25 ;16:2,4,8,16") == ((25, (5, 25)), (16, (2, 4, 8, 16)))
    assert parse_grids([(4, [1, 4])]) == ((4, (1, 4)),)
    assert check_options(StudyOptions(grids="4:2")).grids == ((4, (2,)),)


def test_data_dir_must_exist(tmp_path):
    with pytest.raises(OptionError, match=r"--data-dir \(data_dir\) must be an existing folder; got '.*typo"):
        check_options(StudyOptions(data_dir=str(tmp_path / "typo")))
    (tmp_path / "f").write_text("x")
    with pytest.raises(OptionError, match="--data-dir"):
        check_options(StudyOptions(data_dir=str(tmp_path / "f")))
    assert check_options(StudyOptions(data_dir=str(tmp_path))).data_dir == str(tmp_path)


def test_dvs_needs_a_data_dir():
    with pytest.raises(OptionError, match=r"--data-dir \(data_dir\) must be the folder holding DVSGesture/"):
        check_options(StudyOptions(dataset="dvs_gesture"))


@pytest.mark.parametrize("field,value", [("train_samples", 5), ("test_samples", 5), ("grids", "4:2")])
@pytest.mark.parametrize("dataset", ["synthetic", "dvs_gesture"])
def test_image_overrides_need_an_image_data_set(tmp_path, field, value, dataset):
    with pytest.raises(OptionError, match=rf"\({field}\) must be left unset: it applies to the image data"):
        check_options(StudyOptions(dataset=dataset, data_dir=str(tmp_path), **{field: value}))
    check_options(StudyOptions(dataset="default", **{field: value}))  # Fashion-MNIST is in the default set


def test_not_options():
    with pytest.raises(TypeError, match="check_options: `opts` must be a StudyOptions; got dict"):
        check_options({"epochs": 1})


@pytest.mark.parametrize("where", ["is_a_file", "under_a_file"])
def test_unwritable_out(tmp_path, where):
    (tmp_path / "f").write_text("x")
    out = tmp_path / "f" if where == "is_a_file" else tmp_path / "f" / "sub"
    with pytest.raises(OptionError, match=r"--out \(out\) must be a folder that can be created and written"):
        prepare_out(out)


def test_prepare_out_leaves_no_probe(tmp_path):
    assert prepare_out(tmp_path / "a" / "b") == str(tmp_path / "a" / "b")
    assert os.listdir(tmp_path / "a" / "b") == []


def test_selection_and_overrides_text():
    assert selected_datasets("default", "smoke") == ("synthetic", "fashion_mnist")
    assert selected_datasets("default", "full") == ("synthetic", "mnist", "fashion_mnist")
    assert selected_datasets("all", "default") == ("synthetic", "mnist", "fashion_mnist", "dvs_gesture")
    with pytest.raises(ValueError, match="selected_datasets: `selection` .*got 'x'"):
        selected_datasets("x", "default")
    assert overrides(StudyOptions(epochs=3, grids="16:2")) == ["--epochs 3", "--grids 16:2"]
    assert overrides(StudyOptions()) == []
