"""--plan trials: chosen after the grid from short trainings on held-out data, trained last, and placed."""

import dataclasses

import numpy as np
import pytest

import tacjax.study.trialplan as trialplan
import tacjax.train
from tacjax.data import load_mnist
from tacjax.study import StudyOptions, run_study
from tacjax.study.datasets import prepare
from tacjax.study.options import check_options


@pytest.fixture
def fake_trials(fake_fit, monkeypatch):
    """``fake_fit`` for the grid and the trials (which train with ``tacjax.train.fit``); in a trial the
    baseline ("b-b-b") takes 1 s per epoch and every candidate 0.1 s, so each is 10x faster."""

    def trial_fit(model, train, test, **kw):
        hist = fake_fit(model, train, test, **kw)
        return [h | {"train_time_s": 1.0 if kw["desc"] == "b-b-b" else 0.1} for h in hist]

    monkeypatch.setattr(tacjax.train, "fit", trial_fit)
    monkeypatch.setattr(trialplan, "SHORTLIST", 3)
    return fake_fit


def test_plan_trials_runs_after_the_grid_and_is_reported(tmp_path, fake_trials):
    res = run_study(StudyOptions(protocol="smoke", dataset="synthetic", out=str(tmp_path), progress=False,
                                 plan="trials"))
    grid = ["baseline", "tac_K2", "tac_K4", "tac_tp_K2"]
    (summary,) = res["datasets"]["synthetic"]["trials"]
    names = [t["name"] for t in summary["trials"]]
    assert names[0] == "b-b-b" and len(names) == 4  # the baseline and the 3 shortlisted
    assert fake_trials.calls[:4] == grid and fake_trials.calls[-1] == "plan_trials"
    trial_calls = fake_trials.calls[4:-1]
    assert trial_calls[:4] == names and trial_calls[4] == "b-b-b"  # rung 0, then rung 1 from the baseline
    assert len(trial_calls) == 4 + 2  # ceil(feasible / 3) = 1 candidate in rung 1
    row = res["datasets"]["synthetic"]["runs"][-1]
    assert row["config"] == "plan_trials" and row["mode"] == "plan"
    assert (row["modes"], row["ks"]) == (summary["modes"], summary["ks"]) and summary["name"] in names
    grid_rows = res["datasets"]["synthetic"]["runs"][:4]
    assert summary["target_speedup"] == pytest.approx(np.median([r["train_speedup"] for r in grid_rows]))
    assert res["configs_total"] == res["configs_done"] == 5
    md = (tmp_path / "results.md").read_text()
    assert "### Trial plan `plan_trials` (T=4, --plan trials)" in md and "| b-b-b | - | 1.00x |" in md
    assert "Placement among the 4 grid points of T=4" in md and "| plan_trials | 4 | - |" in md
    assert "32 samples held out" in md  # twice the smoke test subset of 16
    assert (tmp_path / "synthetic_plan_trials.png").stat().st_size > 1000
    assert str(tmp_path / "synthetic_plan_trials.png") in res["plots"]


def test_plan_all_runs_both_plans(tmp_path, fake_trials):
    res = run_study(StudyOptions(protocol="smoke", dataset="synthetic", out=str(tmp_path), progress=False,
                                 plan="all"))
    labels = [r["config"] for r in res["datasets"]["synthetic"]["runs"]]
    assert labels[-2:] == ["plan_auto", "plan_trials"] and "--plan auto" in res["protocol"]
    assert "--plan trials" in res["protocol"]


def test_held_out_data_is_neither_train_nor_test(tmp_path, isolated, image_dir):
    opts = check_options(StudyOptions(protocol="smoke", dataset="mnist", data_dir=str(image_dir),
                                      out=str(tmp_path)))
    data = prepare("mnist", opts)
    x, y = data.validation(100)  # 40 train images, the smoke subset takes 32: 8 are left
    full = load_mnist("train", str(image_dir / "mnist"), download=False)
    assert len(y) == 8 and np.array_equal(x, full[0][32:40]) and np.array_equal(y, full[1][32:40])
    syn = prepare("synthetic", check_options(StudyOptions(protocol="smoke", out=str(tmp_path))))
    xv, _ = syn.validation(16)
    assert xv.shape[1:] == syn.train[0].shape[1:]
    for other in (syn.train[0], syn.test[0]):
        assert not any(np.array_equal(a, b) for a in xv for b in other)


def test_no_held_out_data_skips_the_trials_and_says_so(tmp_path, fake_trials, capsys):
    opts = check_options(StudyOptions(protocol="smoke", out=str(tmp_path), progress=False))
    data = dataclasses.replace(prepare("synthetic", opts), validation=None)
    config, summary = trialplan.trial_plan_config(data, data.configs[0], [], opts)
    assert config is None and summary["skipped"] == "no held-out validation data"
    assert "skipped" in capsys.readouterr().out and fake_trials.calls == []
