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
    assert steps == {"device": 0, "tests": 0, "bench_tac": 0, "bench_peers": 0, "bench_neurons": 0,
                     "bench_lif_parallel": 0}, steps
    assert rec["device"]["backend"] == "cpu"
    assert (rec["device"]["tcmalloc"], rec["device"]["eigen_conv"]) == (False, False)  # no CPU setting
    med = rec["bench_tac"]["default"]["workloads"]["a"]["median_ms"]
    assert med["fwd_bwd/folded"] > 0 and med["fwd/tac_k2"] > 0
    (name, recs), = rec["peers"]["workloads"].items()
    assert name.startswith("Linear+LIF N=32") and [r["status"] for r in recs] == ["ok", "ok"]
    md = (out / "gpu_check.md").read_text()
    assert md.startswith("# GPU check") and "| fwd_bwd | 2 |" in md and "| tacjax baseline |" in md


def test_gpu_summary_reads_steps_and_junit(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    from peers import gpu_summary

    steps = ["device\t0\t3\t", "tests\t1\t80\t", "bench_tac\t124\t70\ttimed out after 70s"]
    (tmp_path / "steps.tsv").write_text("\n".join(steps) + "\n")
    (tmp_path / "tests.xml").write_text(
        '<testsuites><testsuite tests="4" failures="1" errors="0" skipped="1">'
        '<testcase classname="tests.test_neurons" name="test_a"/>'
        '<testcase classname="tests.test_neurons" name="test_b"><failure message="x"/></testcase>'
        '<testcase classname="tests.test_aggregate" name="test_c"><skipped/></testcase>'
        '<testcase classname="tests.test_aggregate" name="test_d"/></testsuite></testsuites>')
    rec = gpu_summary.summarize(tmp_path)
    assert [s["exit_code"] for s in rec["steps"]] == [0, 1, 124]
    assert rec["tests"] == {"tests": 4, "failures": 1, "errors": 0, "skipped": 1, "passed": 2,
                            "failed_tests": ["tests.test_neurons::test_b"]}
    md = gpu_summary.markdown(tmp_path, rec)
    assert "| bench_tac | 124 | 70 | timed out after 70s |" in md and "2 passed, 1 failed, 1 skipped" in md
    assert "(bench_tac.md missing)" in md and rec["bench_tac"] is None
