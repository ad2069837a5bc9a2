"""The study script at smoke size: every configuration runs and every output is written; bad flags stop it."""

import json

import pytest

from tacjax.study import layer_order


def test_smoke_run_writes_tables_and_plots(tmp_path, capsys, load_script):
    rep = load_script("reproduce")
    out = tmp_path / "res"
    argv = ["--smoke", "--dataset", "synthetic", "--out", str(out), "--no-progress", "--plan", "auto"]
    res = rep.main(argv)
    runs = res["datasets"]["synthetic"]["runs"]
    assert [r["config"] for r in runs] == ["baseline", "tac_K2", "tac_K4", "tac_tp_K2", "plan_auto"]
    # conv calls per sample, 3 conv layers at T=4: TAC runs the whole net at T/K steps (3 * T/K),
    # TAC-TP aggregates K frames in every layer (3 * T/K too, but keeps T LIF steps)
    assert [r["conv_calls"] for r in runs[:4]] == [12, 6, 3, 6]
    (plan,) = res["datasets"]["synthetic"]["plans"]
    assert runs[4]["conv_calls"] == plan["conv_calls"] and runs[4]["modes"] == plan["modes"]
    assert runs[0]["train_speedup"] == 1.0
    for r in runs:
        assert 0.0 <= r["test_accuracy"] <= 1.0
        assert r["train_s_per_epoch"] > 0 and r["infer_ms_per_sample"] > 0
        assert layer_order(r["rates"]) == ["input", "conv1", "conv2", "conv3", "fc"]
    md = (out / "results.md").read_text()
    assert "smoke" in md and "| tac_tp_K2 | 4 | 2 | 6 |" in md and "Incomplete" not in md
    assert f"| plan_auto | 4 | - | {plan['conv_calls']} |" in md and "### Automatic plan `plan_auto`" in md
    assert "Placement among the 4 grid points of T=4 (1 = best): accuracy " in md
    saved = json.loads((out / "results.json").read_text())
    assert saved["datasets"]["synthetic"]["runs"][1]["k"] == 2 and saved["complete"]
    assert saved["argv"] == argv
    for name in ("synthetic_acc_speedup_vs_k.png", "spike_raster.png", "synthetic_plan_profile.png"):
        assert (out / name).stat().st_size > 1000
    assert (out / "synthetic" / "runs" / "baseline.csv").exists()
    assert "runtime:" in capsys.readouterr().out


BAD_FLAGS = [
    (["--train-samples", "0"], "--train-samples (train_samples) must be an int >= 1", "got 0"),
    (["--train-samples", "-3"], "--train-samples (train_samples)", "got -3"),
    (["--test-samples", "0"], "--test-samples (test_samples)", "got 0"),
    (["--epochs", "0"], "--epochs (epochs) must be an int >= 1", "got 0"),
    (["--epochs", "-2"], "--epochs (epochs)", "got -2"),
    (["--seed", "-1"], "--seed (seed) must be an int >= 0", "got -1"),
    (["--grids", "16"], "--grids (grids)", "got '16'"),
    (["--grids", "16:2,,4"], "--grids (grids)", "cannot parse '16:2,,4'"),
    (["--grids", "4:2,8"], "--grids (grids)", "bad entry (4, (2, 8))"),
    (["--grids", "16:2;16:4"], "--grids (grids)", "each T once"),
    (["--plan", "manual"], "argument --plan: invalid choice: 'manual'", "choose from"),
    (["--dataset", "dvs_gesture"], "--data-dir (data_dir) must be the folder holding DVSGesture", "got None"),
    (["--dataset", "synthetic", "--grids", "4:2"], "--grids (grids) must be left unset", "got '4:2'"),
]  # fmt: skip


def _usage_error(rep, argv, capsys, monkeypatch):
    import tacjax.study.run as run

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(run, "fit", no_training)
    with pytest.raises(SystemExit) as e:
        rep.main(argv)
    assert e.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("flags,names,value", BAD_FLAGS, ids=[" ".join(f[0]) for f in BAD_FLAGS])
def test_bad_flags_stop_before_any_work(tmp_path, capsys, monkeypatch, flags, names, value, load_script):
    rep = load_script("reproduce")
    err = _usage_error(rep, ["--smoke", "--out", str(tmp_path / "o"), *flags], capsys, monkeypatch)
    assert "error: " + names in err and value in err, err
    assert not (tmp_path / "o").exists()  # checked before the output folder is even created


def test_bad_paths_and_missing_data_stop_before_training(tmp_path, capsys, monkeypatch, load_script):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("TACJAX_DATA", raising=False)
    rep = load_script("reproduce")
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    cases = [
        (["--data-dir", str(tmp_path / "typo")], "--data-dir (data_dir) must be an existing folder"),
        (["--out", str(tmp_path / "file")], "--out (out) must be a folder that can be created and written"),
        (["--out", str(tmp_path / "file" / "sub")], "--out (out) must be a folder that can be created"),
        (["--dataset", "mnist", "--data-dir", str(tmp_path / "empty")], "--dataset (mnist) asked for mnist, "
                                                                        "which was not found"),
    ]  # fmt: skip
    for flags, msg in cases:
        err = _usage_error(rep, ["--smoke", *flags], capsys, monkeypatch)
        assert msg in err, err
    assert not list(tmp_path.rglob("results.json"))
