"""plan_study.py: Spearman's rank correlation by hand, and the report from a hand-made results.json."""

import json

import pytest


def test_spearman_by_hand(load_script):
    ps = load_script("plan_study")
    assert ps.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)  # 1 - 6 * 2 / (4 * 15)
    assert ps.spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert ps.spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(1.5 / 3 ** 0.5)  # average ranks 1.5, 1.5, 3
    assert ps.spearman([1, 1], [1, 2]) != ps.spearman([1, 1], [1, 2])  # NaN when one side is constant
    with pytest.raises(ValueError, match="spearman: need two 1-D sequences of one length >= 2"):
        ps.spearman([1, 2], [1, 2, 3])


def _results(tmp_path):
    """One conv layer + readout, T = 4; asymmetry S_1 = (0, .1, .2, .3), S_fc = (0, .01, .02, .03)."""
    scores = {s: [[0, 0.1, 0.2, 0.3], [0, 0.01, 0.02, 0.03]] for s in ("order", "asymmetry")}
    scores["within_variance"] = [[0, 0.5, 0.5, 1.0], [0, 0.5, 0.5, 1.0]]

    def row(label, mode, modes, ks, delta, train_s):
        return {"config": label, "mode": mode, "num_steps": 4, "modes": modes, "ks": ks,
                "acc_delta_pts": delta, "train_s_per_epoch": train_s}

    runs = [row("baseline", "baseline", ["baseline"], [1], 0.0, 4.0),
            row("tac_K2", "tac", ["tac"], [2], -3.0, 2.0),
            row("tac_K4", "tac", ["tac"], [4], -9.0, 1.0),
            row("tac_tp_K2", "tac_tp", ["tac_tp"], [2], -1.0, 3.0)]
    work = {"baseline": (400, 40), "tac_K2": (200, 20), "tac_K4": (100, 10), "tac_tp_K2": (200, 40)}
    plan = {"num_steps": 4, "profile": {"scores": scores},
            "work_terms": {k: {"macs": m, "neuron_updates": n} for k, (m, n) in work.items()}}
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"datasets": {"synthetic": {"runs": runs, "plans": [plan]}, "mnist": None}}))
    return path


def test_report_from_results(tmp_path, load_script):
    ps = load_script("plan_study")
    path = _results(tmp_path)
    records = ps.collect([str(path)])
    # predicted losses: tac K collapses conv1 and the readout's timing: S_1(K) + S_fc(K); tac_tp: S_1(K)
    got = {r["config"]: r["pred"]["asymmetry"] for r in records}
    assert got == pytest.approx({"baseline": 0.0, "tac_K2": 0.11, "tac_K4": 0.33, "tac_tp_K2": 0.1})
    text = ps.main([str(path), "--out", str(tmp_path / "report.md")])
    assert "| asymmetry | 1.000 | 1.000 |" in text  # drops 0, 3, 9, 1 rank like 0, .11, .33, .1
    slope = (0.11 * 3 + 0.33 * 9 + 0.1 * 1) / (0.11 ** 2 + 0.33 ** 2 + 0.1 ** 2)
    assert f"| {slope:.1f} |" in text
    assert (tmp_path / "report.md").read_text() == text + "\n"
    # train_s = 0.005 MACs + 0.05 neuron updates exactly: a LIF update costs 10 MACs
    assert "neuron_cost fitted on synthetic's training times: 10 MACs per LIF update" in text


def test_no_plan_profile_is_a_usage_error(tmp_path, capsys, load_script):
    ps = load_script("plan_study")
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"datasets": {"synthetic": {"runs": []}}}))
    with pytest.raises(SystemExit) as e:
        ps.main([str(path)])
    assert e.value.code == 2 and "run scripts/reproduce.py --plan auto first" in capsys.readouterr().err
