"""scripts/gpu_check.sh: shell syntax, and its CPU smoke run (the GPU run's steps at tiny sizes)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_check.sh"


def test_gpu_check_syntax():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_gpu_check_cpu_smoke(tmp_path):
    out = tmp_path / "gpu"
    env = dict(os.environ, GPU_CHECK_PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(SCRIPT), "--cpu-smoke", str(out)], capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rec = json.loads((out / "gpu_check.json").read_text())
    steps = {s["step"]: s["exit_code"] for s in rec["steps"]}
    assert steps == {"device": 0, "tests": 0, "bench_tac": 0, "bench_peers": 0, "bench_neurons": 0}, steps
    assert rec["device"]["backend"] == "cpu"
    med = rec["bench_tac"]["default"]["workloads"]["a"]["median_ms"]
    assert med["fwd_bwd/folded"] > 0 and med["fwd/tac_k2"] > 0
    (name, recs), = rec["peers"]["workloads"].items()
    assert name.startswith("Linear+LIF N=32") and [r["status"] for r in recs] == ["ok", "ok"]
    md = (out / "gpu_check.md").read_text()
    assert md.startswith("# GPU check") and "| fwd_bwd | 2 |" in md and "| tacjax baseline |" in md
