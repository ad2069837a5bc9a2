"""Smoke test: the per-layer plan sweep trains, times and scores tiny plans; bad plans stop it with exit 2."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import plan_sweep  # noqa: E402


def test_plan_sweep_smoke(tmp_path, capsys):
    out = tmp_path / "sweep.md"
    plan_sweep.main(["--quick", "--seeds", "3", "--test", "16", "--reps", "1", "--out", str(out)])
    res = json.loads(out.with_suffix(".json").read_text())
    assert list(res["plans"]) == ["b-b-b", "b-tp4-tac2"] and res["seeds"] == [3]
    for name, r in res["plans"].items():
        assert len(r["accuracy"]) == 1 and 0 <= r["accuracy"][0] <= 1 and r["step_ms"] > 0
        assert r["predicted_loss"] >= 0 and (name != "b-b-b" or r["predicted_loss"] == 0)
    assert "| b-tp4-tac2 | baseline,tac_tp,tac | 1,4,2 |" in out.read_text()
    assert "| b-b-b |" in capsys.readouterr().out


@pytest.mark.parametrize("args, match", [
    (["--plans", "b-b"], "has 2 layers"), (["--plans", "b-b-tac9"], "K"), (["--plans", "b-q-b"], "token"),
    (["--plans", "tac-b-b"], "token"), (["--plans", "b-tp0-b"], "token"),
    (["--seeds", "-1"], "--seeds"),
])
def test_plan_sweep_bad_arguments(args, match, capsys):
    with pytest.raises(SystemExit) as e:
        plan_sweep.main(["--quick", *args])
    assert e.value.code == 2 and match in capsys.readouterr().err
