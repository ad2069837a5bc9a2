"""Smoke test: the unroll benchmark runs at tiny sizes; both loops agree; the default's choice is shown."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_unroll_smoke(tmp_path):
    out = tmp_path / "unroll.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_unroll.py"), "--quick", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [(r["neuron"], r["shape"], r["T"]) for r in rows] == [
        (n, s, t) for s in ([4, 3, 3, 8], [4, 16]) for t in (2, 4) for n in ("lif", "synaptic")]
    for r in rows:
        assert r["same_loss"] and r["loop_ms"] > 0 and r["unrolled_ms"] > 0
        assert r["default"] == ("unrolled" if r["shape"][-1] >= 16 else "loop")
    assert "| lif | 4x16 | 4 |" in proc.stdout
