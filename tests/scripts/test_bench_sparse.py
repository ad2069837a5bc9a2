"""Smoke test: the sparsity study runs end to end on a tiny sweep and writes its three outputs."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_sparse_smoke(tmp_path):
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_sparse.py"), "--no-real", "--layers", "fc",
           "--densities", "0.05", "0.5", "--steps", "2", "--batch", "1", "--reps", "1",
           "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((tmp_path / "sparse.json").read_text())
    rows = res["sweep"]["fc"]["iid"]
    assert set(rows) == {"0.05", "0.5"}
    for row in rows.values():
        assert set(row["ratio"]) == set(res["strategies"]) and row["ratio"]["dense"] == 1.0
    assert (tmp_path / "sparse.png").stat().st_size > 0
    assert "Crossover density" in (tmp_path / "sparse.md").read_text()
