"""Smoke test: the baseline benchmark runs end to end at tiny sizes, checks spikes and reports ratios."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_baseline_smoke(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_baseline.py"), "--configs", "tuned", "--batch", "2",
           "--steps", "6", "--size", "8", "--channels", "2", "4", "--k", "2", "--reps", "1", "--warmup", "1",
           "--variants", "plain", "functional", "baseline", "tac", "--pieces", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())["results"]["tuned"]
    assert res["check"]["identical"] and res["check"]["layers"]["conv1"]["positions"] == 6 * 2 * 8 * 8 * 2
    assert set(res["step"]) == {"plain", "functional", "baseline", "tac"}  # tac_tp: same builder as tac
    assert all(m["wall_ms"] > 0 and m["cpu_ms"] >= 0 for m in res["step"].values())
    assert "L2 conv bwd-data" in res["pieces"] and "L1 LIF fwd+bwd (lif_scan)" in res["pieces"]
    assert "| functional |" in proc.stdout and "| L1 pool fwd+bwd (tacjax) |" in proc.stdout
