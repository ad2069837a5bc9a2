"""Smoke test: the TAC benchmark runs end to end (tiny sizes) and reports consistent tables."""

import json
import subprocess
import sys
from pathlib import Path

from tacjax.runtime import find_tcmalloc

ROOT = Path(__file__).resolve().parents[2]


def test_bench_tac_smoke(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_tac.py"), "--configs", "default", "tuned",
           "--workloads", "a", "--batch", "1", "--ks", "2", "--reps", "1", "--warmup", "1", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    # "default" is the bare configuration even when this process runs tuned (`make test` preloads tcmalloc)
    assert res["default"]["runtime"]["config"] == "default"
    assert (res["default"]["runtime"]["eigen_conv"], res["default"]["runtime"]["tcmalloc"]) == (False, False)
    assert res["tuned"]["runtime"]["eigen_conv"] is True
    assert res["tuned"]["runtime"]["tcmalloc"] is (find_tcmalloc() is not None)
    med = res["tuned"]["workloads"]["a"]["median_ms"]
    variants = ("loop", "folded", "tac_k2", "tac_tp_k2")
    assert set(med) == {f"{p}/{v}" for p in ("fwd", "fwd_bwd") for v in variants}
    assert all(v > 0 for v in med.values())
    assert "| fwd | 2 |" in proc.stdout and "config: tuned" in proc.stdout
