"""The study loop: rows on disk after each configuration, none lost to a failure or a kill; a custom kind."""

import json
import pathlib
import signal
import subprocess
import sys

import pytest

from tacjax.study import Config, OptionError, StudyOptions, run_study

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMOKE = dict(protocol="smoke", dataset="synthetic", progress=False)


def _on_disk(out):
    return json.loads((out / "results.json").read_text()), (out / "results.md").read_text()


def test_rows_are_written_as_each_configuration_finishes(tmp_path, fake_fit, monkeypatch):
    import tacjax.study.run as run

    seen = []
    real = run.write_results
    monkeypatch.setattr(run, "write_results", lambda res, out: seen.append(_snapshot(real(res, out))))
    res = run_study(StudyOptions(out=str(tmp_path), **SMOKE))
    assert [n for n, _ in seen] == [0, 1, 2, 3, 4, 4]  # before training, after each row, with the plots
    assert [r["config"] for r in res["datasets"]["synthetic"]["runs"]] == fake_fit.calls
    results, md = _on_disk(tmp_path)
    assert results["complete"] and results["configs_done"] == results["configs_total"] == 4
    assert "Incomplete" not in md and "| tac_tp_K2 | 4 | 2 | 6 |" in md
    assert results["datasets"]["synthetic"]["runs"][1]["train_speedup"] == pytest.approx(2.0)  # 0.2 / 0.1


def _snapshot(paths):
    results = json.loads(pathlib.Path(paths[1]).read_text())
    return results["configs_done"], results


def test_a_failure_midway_keeps_the_finished_rows(tmp_path, fake_fit):
    fake_fit.fail_on = 3
    with pytest.raises(RuntimeError, match="injected failure in tac_K4"):
        run_study(StudyOptions(out=str(tmp_path), **SMOKE))
    results, md = _on_disk(tmp_path)
    assert [r["config"] for r in results["datasets"]["synthetic"]["runs"]] == ["baseline", "tac_K2"]
    assert not results["complete"] and results["configs_done"] == 2
    assert results["stopped"] == {"dataset": "synthetic", "config": "tac_K4",
                                  "error": "RuntimeError: injected failure in tac_K4"}
    assert "**Incomplete: 2 of 4 configurations finished (stopped by RuntimeError" in md
    assert "| baseline | 4 | 1 | 12 |" in md and "| tac_K2 | 4 | 2 | 6 |" in md


def test_kill_after_the_first_configuration_keeps_it(tmp_path):
    """A real run killed with SIGKILL as its second configuration starts: the first row is on disk."""
    code = (
        "import os, signal, sys\n"
        "import tacjax.study.run as run\n"
        "real, calls = run.fit, []\n"
        "def fit(*a, **k):\n"
        "    calls.append(k['desc'])\n"
        "    if len(calls) == 2:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return real(*a, **k)\n"
        "run.fit = fit\n"
        "opts = run.StudyOptions(protocol='smoke', dataset='synthetic', out=sys.argv[1], progress=False)\n"
        "run.run_study(opts)\n"
    )
    cmd = [sys.executable, "-c", code, str(tmp_path)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    results, md = _on_disk(tmp_path)
    (row,) = results["datasets"]["synthetic"]["runs"]
    assert row["config"] == "baseline" and 0.0 <= row["test_accuracy"] <= 1.0 and row["conv_calls"] == 12
    assert not results["complete"] and "**Incomplete: 1 of 4" in md and "| baseline | 4 | 1 | 12 |" in md
    assert (tmp_path / "synthetic" / "runs" / "baseline.json").exists()
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_custom_configuration_kind_runs_beside_the_grid(tmp_path, isolated, image_dir, fake_fit):
    """The image path (T=4 grid K=4) plus a per-layer plan from ``extra_configs``, reported like the grid."""
    plan = Config("plan_tac2_tp2", "plan", None, 4, ("tac", "tac_tp"), (2, 2))
    opts = StudyOptions(protocol="smoke", dataset="mnist", data_dir=str(image_dir), grids="4:4",
                        out=str(tmp_path), progress=False)
    res = run_study(opts, argv=["--x"], extra_configs=lambda data: [plan] if data.name == "mnist" else [])
    runs = res["datasets"]["mnist"]["runs"]
    assert [r["config"] for r in runs] == ["T4_baseline", "T4_tac_K4", "plan_tac2_tp2"]
    assert runs[2]["mode"] == "plan" and runs[2]["k"] is None
    assert runs[2]["train_speedup"] == pytest.approx(3.0)  # the fake's epoch times: 0.2 / 1 over 0.2 / 3
    # TAC K=2 at T=4 (2 calls, 2 steps out), then TAC-TP K=2 at T=2 (1 call)
    assert runs[2]["conv_calls_per_layer"] == {"conv1": 2, "conv2": 1, "total": 3}
    results, md = _on_disk(tmp_path)
    assert results["argv"] == ["--x"] and "| plan_tac2_tp2 | 4 | - | 3 |" in md
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["mnist_acc_speedup_vs_k.png", "spike_raster.png"]
    assert fake_fit.calls == ["T4_baseline", "T4_tac_K4", "plan_tac2_tp2"]


def test_repeated_labels_stop_before_training(tmp_path, fake_fit):
    again = Config("baseline", "baseline", 1, 4, ("baseline",) * 3, (1, 1, 1))
    with pytest.raises(OptionError, match="configuration labels repeat in synthetic"):
        run_study(StudyOptions(out=str(tmp_path), **SMOKE), extra_configs=lambda data: [again])
    assert fake_fit.calls == [] and not (tmp_path / "results.json").exists()


def test_an_extra_configuration_that_cannot_be_built_stops_before_training(tmp_path, fake_fit):
    bad = Config("late_k", "plan", None, 4, ("tac", "tac", "tac"), (4, 2, 1))  # conv2 sees T = 1 < K = 2
    with pytest.raises(OptionError, match=r"extra configuration 'late_k' cannot be built for synthetic: "
                                          r"DVSGestureNet: ks\[1\] = 2 must be an int with 1 <= K <= T = 1"):
        run_study(StudyOptions(out=str(tmp_path), **SMOKE), extra_configs=lambda data: [bad])
    with pytest.raises(OptionError, match="`extra_configs` must return Configs; got tuple"):
        run_study(StudyOptions(out=str(tmp_path), **SMOKE), extra_configs=lambda data: [("x", "tac", 2)])
    assert fake_fit.calls == [] and not (tmp_path / "results.json").exists()


def test_a_data_set_asked_for_by_name_must_be_found(tmp_path, isolated, fake_fit):
    (tmp_path / "empty").mkdir()
    opts = StudyOptions(protocol="smoke", dataset="mnist", data_dir=str(tmp_path / "empty"),
                        out=str(tmp_path / "o"))
    with pytest.raises(OptionError, match=r"--dataset \(mnist\) asked for mnist, which was not found: load_"):
        run_study(opts)
    assert fake_fit.calls == [] and not (tmp_path / "o" / "results.json").exists()
