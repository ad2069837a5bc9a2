"""The (kind, K) grid -> per-layer configurations, and the report: speed-ups, Markdown, atomic files."""

import json
import os
import stat

import pytest

from tacjax.study import KINDS, Config, add_speedups, grid, layer_order, make_config, markdown, write_results


def test_grid_per_layer_modes_and_ks():
    got = grid(8, (2, 8), (4,), 3, prefix="T8_")
    assert [c.label for c in got] == ["T8_baseline", "T8_tac_K2", "T8_tac_K8", "T8_tac_tp_K4"]
    assert got[0] == Config("T8_baseline", "baseline", 1, 8, ("baseline",) * 3, (1, 1, 1))
    assert got[1] == Config("T8_tac_K2", "tac", 2, 8, ("tac",) * 3, (2, 1, 1))  # only the first collapses
    assert got[3] == Config("T8_tac_tp_K4", "tac_tp", 4, 8, ("tac_tp",) * 3, (4, 4, 4))
    assert set(KINDS) == {"baseline", "tac", "tac_tp"}


@pytest.mark.parametrize("kind,k,match", [
    ("tac", 9, r"K = 9 for 'tac' must be an int with 1 <= K <= T = 8"), ("tac_tp", 0, "K = 0 for 'tac_tp'"),
    ("tac", 2.0, "K = 2.0"), ("tac", True, "K = True"), ("plan", 2, "`kind` must be one of"),
])  # fmt: skip
def test_make_config_errors(kind, k, match):
    with pytest.raises(ValueError, match="make_config: " + match):
        make_config(kind, k, 8, 3)


def test_make_config_shape_errors_and_repeats():
    with pytest.raises(ValueError, match="make_config: `num_steps` must be an int >= 1; got 0"):
        make_config("tac", 1, 0, 3)
    with pytest.raises(ValueError, match="make_config: `n_layers` must be an int >= 1; got 0"):
        make_config("baseline", 1, 4, 0)
    with pytest.raises(ValueError, match=r"grid: the 'tac_tp' K values \(2, 2\) repeat a K"):
        grid(4, (2,), (2, 2), 3)
    assert make_config("baseline", 99, 4, 2).k == 1  # K plays no part in the baseline


def _row(config, mode, t, k, acc, train_s, infer_ms):
    rates = {"fc": 0.01, "conv2": 0.2, "input": 0.3, "conv10": 0.05, "conv1": 0.1}
    return {"config": config, "mode": mode, "num_steps": t, "k": k, "test_accuracy": acc, "conv_calls": 9,
            "train_s_per_epoch": train_s, "infer_ms_per_sample": infer_ms, "rates": rates}


def _results(rows, **extra):
    runtime = {"config": "default", "jax": "0.x", "cpu_count": 2, "devices": ["cpu:0"]}
    return {"protocol": "p", "runtime": runtime, "wall_s": 12.0, "complete": True,
            "datasets": {"synthetic": {"protocol": {}, "runs": rows}, "mnist": None}, **extra}


def test_speedups_against_the_baseline_of_the_same_t():
    rows = add_speedups([_row("T4_baseline", "baseline", 4, 1, 0.80, 2.0, 1.0),
                         _row("T4_tac_K2", "tac", 4, 2, 0.75, 0.5, 0.25),
                         _row("T8_tac_K2", "tac", 8, 2, 0.5, 1.0, 1.0)])
    assert rows[1]["train_speedup"] == 4.0 and rows[1]["infer_speedup"] == 4.0
    assert rows[1]["acc_delta_pts"] == pytest.approx(-5.0) and rows[0]["acc_delta_pts"] == 0.0
    assert rows[2]["train_speedup"] is None and rows[2]["acc_delta_pts"] is None  # no T=8 baseline


def test_markdown_rows_and_layer_order():
    rates = _row("a", "tac", 4, 2, 0, 1, 1)["rates"]
    assert layer_order(rates) == ["input", "conv1", "conv2", "conv10", "fc"]
    rows = add_speedups([_row("baseline", "baseline", 4, 1, 0.5, 1.0, 1.0),
                         _row("plan", "plan", 4, None, 0.25, 0.5, 2.0)])
    md = markdown(_results(rows))
    assert ("| baseline | 4 | 1 | 9 | 50.00% | +0.00 | 1.00 | 1.00x | 1.000 | 1.00x | "
            "0.300 / 0.100 / 0.200 / 0.050 / 0.010 |") in md
    # a kind without one K
    assert "| plan | 4 | - | 9 | 25.00% | -25.00 | 0.50 | 2.00x | 2.000 | 0.50x |" in md
    assert "## mnist" not in md and "Incomplete" not in md


def test_markdown_says_when_incomplete():
    rows = add_speedups([_row("baseline", "baseline", 4, 1, 0.5, 1.0, 1.0)])
    md = markdown(_results(rows, complete=False, configs_done=1, configs_total=4))
    assert "**Incomplete: 1 of 4 configurations finished (still running, or killed).**" in md
    stopped = {"dataset": "synthetic", "config": "tac_K2", "error": "RuntimeError: boom"}
    md = markdown(_results(rows, complete=False, configs_done=1, configs_total=4, stopped=stopped))
    assert "(stopped by RuntimeError: boom in `synthetic/tac_K2`)" in md


def test_write_results_is_atomic_and_readable(tmp_path):
    old = os.umask(0o022)
    try:
        rows = add_speedups([_row("baseline", "baseline", 4, 1, 0.5, 1.0, 1.0)])
        md, js = write_results(_results(rows), tmp_path)
    finally:
        os.umask(old)
    assert json.loads(open(js).read())["datasets"]["synthetic"]["runs"][0]["config"] == "baseline"
    assert open(md).read().startswith("# TAC study results")
    assert sorted(os.listdir(tmp_path)) == ["results.json", "results.md"]  # no temporary file left
    assert stat.S_IMODE(os.stat(md).st_mode) == 0o644  # like open(): 0o666 minus the umask
