"""Smoke test: the lif_parallel benchmark runs at tiny sizes, checks spikes and reports rounds and times."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_lif_parallel_smoke(tmp_path):
    out = tmp_path / "lifp.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_lif_parallel.py"), "--quick", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    drives = ("random", "steady", "real")
    assert [(r["T"], r["drive"]) for r in rows] == [(t, d) for t in (16, 32) for d in drives]
    for r in rows:
        assert r["mismatches"] == 0 and r["spike_rate"] > 0
        assert 1 <= r["rounds"] <= -(-r["T"] // r["window"]) + 1 and r["plain_rounds"] >= 1
        assert r["lif_scan_ms"] > 0 and r["lif_parallel_ms"] > 0
    assert "| 32 | steady |" in proc.stdout
