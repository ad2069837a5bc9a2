"""--plan auto: the planned configuration is built before training, trained beside the grid, and placed."""

import json

import pytest

from tacjax.models import ConvSNN
from tacjax.study import StudyOptions, run_study
from tacjax.study.report import plan_placement


def _row(config, mode, acc, train_s, infer_ms, calls, t=4):
    return {"config": config, "mode": mode, "num_steps": t, "test_accuracy": acc,
            "train_s_per_epoch": train_s, "infer_ms_per_sample": infer_ms, "conv_calls": calls,
            "train_speedup": 2.0 / train_s, "infer_speedup": 1.0 / infer_ms}


def test_placement_ranks_the_plan_among_the_grid_points_of_its_t():
    runs = [_row("baseline", "baseline", 0.90, 2.0, 1.0, 12), _row("tac_K2", "tac", 0.80, 1.0, 0.5, 6),
            _row("tac_tp_K2", "tac_tp", 0.85, 1.5, 0.8, 6),
            _row("T8_baseline", "baseline", 0.99, 9.0, 9.0, 1, t=8),
            _row("plan_auto", "plan", 0.88, 1.25, 0.5, 9)]
    assert plan_placement(runs, "missing") is None
    got = plan_placement(runs, "plan_auto")
    assert got["grid_points"] == 3  # the T=8 row and the plan itself are not grid points of T=4
    assert got["ranks"] == {"test_accuracy": 2, "train_s_per_epoch": 2, "infer_ms_per_sample": 1,
                            "conv_calls": 3}  # ties (0.5 ms) do not count as better
    assert got["acc_vs_best_pts"] == pytest.approx(-2.0) and got["best_accuracy"] == 0.90
    assert got["train_speedup"] == pytest.approx(1.6)
    assert got["grid_median_train_speedup"] == pytest.approx(4 / 3)
    assert got["grid_median_infer_speedup"] == pytest.approx(1.25)


def test_plan_auto_is_planned_before_training_and_reported(tmp_path, fake_fit, monkeypatch):
    import tacjax.study.run as run

    first = []
    real = run.write_results
    monkeypatch.setattr(run, "write_results", lambda res, out: first.append(json.loads(json.dumps(
        res, default=float))) or real(res, out))
    res = run_study(StudyOptions(protocol="smoke", dataset="synthetic", out=str(tmp_path), progress=False,
                                 plan="auto"))
    assert fake_fit.calls == ["baseline", "tac_K2", "tac_K4", "tac_tp_K2", "plan_auto"]
    (summary,) = first[0]["datasets"]["synthetic"]["plans"]  # already there before the first training step
    assert first[0]["configs_done"] == 0 and first[0]["configs_total"] == 5
    row = res["datasets"]["synthetic"]["runs"][-1]
    assert row["config"] == "plan_auto" and row["mode"] == "plan" and row["k"] is None
    assert (row["modes"], row["ks"]) == (summary["modes"], summary["ks"])
    ConvSNN(num_steps=4, in_size=12, in_channels=2, channels=(2, 4, 4), num_classes=4, modes=summary["modes"],
            ks=summary["ks"], rngs=__import__("flax").nnx.Rngs(0))  # a valid network
    assert row["conv_calls"] == summary["conv_calls"]
    assert summary["budget"] == {"kind": "max_drop", "value": 1.0} and summary["predicted_drop"] <= 1.0
    assert set(summary["work_terms"]) == {"baseline", "tac_K2", "tac_K4", "tac_tp_K2", "plan_auto"}
    scores = summary["profile"]["scores"]["asymmetry"]
    assert len(scores) == 4 and all(len(r) == 4 for r in scores)  # conv1..conv3 and the readout, K = 1..4
    md = (tmp_path / "results.md").read_text()
    assert "### Automatic plan `plan_auto` (T=4, --plan auto)" in md and "| conv1 |" in md
    assert "Placement among the 4 grid points of T=4 (1 = best): accuracy " in md and " of 5" in md
    assert "against the best grid point" in md and "| plan_auto | 4 | - |" in md
    assert (tmp_path / "synthetic_plan_profile.png").stat().st_size > 1000
    assert str(tmp_path / "synthetic_plan_profile.png") in res["plots"]


def test_plan_auto_on_an_image_grid_gets_the_grid_prefix(tmp_path, isolated, image_dir, fake_fit):
    opts = StudyOptions(protocol="smoke", dataset="mnist", data_dir=str(image_dir), grids="4:2,4",
                        out=str(tmp_path), progress=False, plan="auto")
    res = run_study(opts)
    assert fake_fit.calls == ["T4_baseline", "T4_tac_K2", "T4_tac_K4", "T4_plan_auto"]
    assert res["datasets"]["mnist"]["plans"][0]["label"] == "T4_plan_auto"
    assert (tmp_path / "mnist_T4_plan_profile.png").exists()
