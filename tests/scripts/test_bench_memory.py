"""Smoke test: the memory benchmark runs at tiny sizes and reports bytes and times for every variant."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_memory_smoke(tmp_path):
    out = tmp_path / "mem.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_memory.py"), "--quick", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    names = {r["variant"] for r in rows}
    assert {"scan", "scan+remat", "lif_scan", "lif_scan remat", "lif_parallel", "psu", "psu scan",
            "aggregate_dynamic", "tac_dynamic", "tac_tp_dynamic"} <= names
    assert {r["T"] for r in rows} == {8, 16}
    assert all(r["beyond_args_bytes"] > 0 and r["ms"] > 0 for r in rows)
    assert "| 16 | traced K | aggregate_dynamic |" in proc.stdout
