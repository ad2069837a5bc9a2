"""Smoke test: the neuron benchmark runs end to end (tiny sizes) and reports consistent results."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_neurons_smoke(tmp_path):
    out, md = tmp_path / "bench.json", tmp_path / "bench.md"
    script = str(ROOT / "scripts" / "bench_neurons.py")
    cmd = [sys.executable, script, "--quick", "--out", str(out), "--md", str(md)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert res["config"] == {"steps": 20, "batch": 2, "n": 64, "reps": 2, "warmup": 1, "remat": False}
    names = ("lif", "synaptic", "alif", "rlif", "li", "psu")  # the default: every neuron
    assert set(res["results"]) == {f"{p}/{n}" for p in ("fwd", "fwd_bwd") for n in names}
    assert all(r["median_ms"] > 0 and r["ratio_to_lif"] > 0 for r in res["results"].values())
    assert res["results"]["fwd/lif"]["ratio_to_lif"] == 1.0
    assert proc.stdout.strip() == res["markdown"] == md.read_text().strip()
    assert "| alif |" in res["markdown"] and "T=20, B=2, N=64" in res["markdown"]
    help_text = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True,
                               timeout=120).stdout
    assert "--out" in help_text and "--quick" in help_text  # what scripts/gpu_check.sh looks for
