"""scripts/gpu_check.sh: shell syntax, and its CPU smoke run (the GPU run's steps at tiny sizes).

The smoke run runs bench_neurons (the quickest benchmark step) end to end; bench_tac, bench_peers and
bench_lif_parallel, which have their own smoke tests in this folder at the same or larger sizes, only
pass the arguments gpu_check.sh gives them through their own parsers (scripts/peers/args_only.py).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_check.sh"


def test_gpu_check_syntax():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_gpu_check_cpu_smoke(tmp_path):
    out = tmp_path / "gpu"
    args_only = ("bench_tac", "bench_peers", "bench_lif_parallel")
    env = dict(os.environ, GPU_CHECK_PYTHON=sys.executable, GPU_CHECK_ARGS_ONLY=" ".join(args_only))
    proc = subprocess.run(["bash", str(SCRIPT), "--cpu-smoke", str(out)], capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rec = json.loads((out / "gpu_check.json").read_text())
    steps = {s["step"]: s["exit_code"] for s in rec["steps"]}
    assert steps == {"device": 0, "tests": 0, "bench_tac": 0, "bench_peers": 0, "bench_neurons": 0,
                     "bench_lif_parallel": 0}, steps
    assert rec["device"]["backend"] == "cpu"
    assert (rec["device"]["tcmalloc"], rec["device"]["eigen_conv"]) == (False, False)  # no CPU setting
    neurons = rec["bench_neurons"]  # the real step: gpu_check found --out and --quick in its --help
    assert neurons["config"]["steps"] == 20 and neurons["results"]["fwd_bwd/alif"]["median_ms"] > 0
    notes = {s["step"]: s["note"] for s in rec["steps"]}
    assert notes["bench_neurons"] == "" and all(
        notes[n] == "arguments checked only (GPU_CHECK_ARGS_ONLY)" for n in args_only), notes
    assert [rec[n] for n in ("bench_tac", "peers", "bench_lif_parallel")] == [None] * 3  # nothing ran
    md = (out / "gpu_check.md").read_text()
    assert md.startswith("# GPU check") and "| alif |" in md and "(peers/peers.md missing)" in md
    assert "args_only: scripts/bench_tac.py accepts --configs default --workloads a --batch 1 " in md
    assert "args_only: scripts/bench_lif_parallel.py accepts --quick --out " in md

@pytest.mark.parametrize("args, rc, msg", [
    (["--quick", "--steps", "8"], 0, "args_only: scripts/bench_lif_parallel.py accepts --quick --steps 8"),
    (["--quick", "--no-such-flag"], 2, "error: unrecognized arguments: --no-such-flag"),
    (["--steps", "eight"], 2, "error: argument --steps"),
])
def test_args_only_parses_with_the_scripts_own_parser_and_runs_nothing(tmp_path, args, rc, msg):
    out = tmp_path / "lifp.json"
    cmd = [sys.executable, "scripts/peers/args_only.py", "scripts/bench_lif_parallel.py", *args,
           "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == rc and msg in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert not out.exists()


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
