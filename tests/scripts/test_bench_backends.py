"""Smoke test: the JAX-vs-MLX benchmark runs on tiny sizes and records both backends."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mlx.core", reason="mlx is not installed (pip install 'tacjax[mlx]')")
ROOT = Path(__file__).resolve().parents[2]


def test_bench_backends_smoke(tmp_path):
    out = tmp_path / "b.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_backends.py"), "--workloads", "a", "--ks", "2",
           "--T", "4", "--batch-a", "1", "--warmup", "1", "--reps", "1", "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    got = {(r["backend"], r["mode"], r["k"]) for r in rows}
    modes = (("baseline", None), ("tac", 2), ("tac_tp", 2))
    assert got == {(b, m, k) for b in ("jax", "mlx") for m, k in modes}
    assert all(r["ms"] > 0 for r in rows)
