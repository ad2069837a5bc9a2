"""bench_peers: the NumPy rules of each peer on hand-computed cases, and a smoke run (tacjax, plain JAX)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from peers import reference  # noqa: E402
from peers.harness import merge_rounds  # noqa: E402


@pytest.mark.parametrize("rule, x, want", [
    ("same_step_subtract", [2.5, 0, 0], [1, 1, 0]),     # 2.5 -> 1.5 fires again after the leak (1.35)
    ("snntorch_leaky", [2.5, 0, 0], [1, 0, 0]),         # left above threshold: no second spike
    ("spikingjelly_lif", [2.5, 0, 0], [1, 1, 0]),       # beta = 1 - 1/tau
    ("spyx_lif", [1.5, 0, 0], [0, 1, 0]),               # fires on the previous state
    ("same_step_subtract", [0.6, 0.6, 0.0], [0, 1, 0]),  # 0.6 -> 0.54 + 0.6 = 1.14
])
def test_reference_rules_hand_computed(rule, x, want):
    got = reference.RULES[rule](np.asarray(x, np.float32)[:, None], 0.9, 1.0)[:, 0]
    np.testing.assert_array_equal(got, want)


def test_spikingjelly_tau_mapping_matches_beta_on_the_check_input():
    x = reference.check_input()
    assert reference.tau_from_beta(0.9) == 10.0
    ref = reference.same_step_subtract(x, 0.9, 1.0)
    assert reference.compare(reference.spikingjelly_lif(x, 0.9, 1.0), ref)["mismatches"] == 0
    assert reference.compare(reference.spyx_lif(x, 0.9, 1.0), ref)["mismatches"] > 0


def test_merge_rounds_pools_steps_and_keeps_largest_peaks():
    def rec(times, rss, status="ok"):
        return {"status": status, "lib": "jax", "rss_peak_mib": rss, "device_peak_mib": None,
                "ms": {"times": times, "median": float(np.median(times)), "loss0": 1.5}}

    merged = merge_rounds([rec([4.0, 1.0], 100.0), {"status": "failed"}, rec([2.0, 3.0, 10.0], 90.0)])
    assert merged["rounds"] == 2 and merged["rss_peak_mib"] == 100.0
    ms = merged["ms"]
    assert ms["times"] == [4.0, 1.0, 2.0, 3.0, 10.0] and ms["round_medians"] == [2.5, 3.0]
    assert (ms["median"], ms["min"], ms["max"], ms["q1"], ms["q3"]) == (3.0, 1.0, 10.0, 2.0, 4.0)
    assert merge_rounds([{"status": "failed", "reason": "x"}])["reason"] == "x"


def test_bench_peers_smoke(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_peers.py"), "--libs", "tacjax", "jax",
           "--variants", "baseline", "--n", "32", "--on-batch", "2", "--on-steps", "8", "--mnist-batch", "2",
           "--mnist-steps", "10", "--mnist-size", "8", "--mnist-channels", "2", "4", "--repeats", "2",
           "--warmup", "1", "--no-pin", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((tmp_path / "peers.json").read_text())
    assert res["config"]["backend"] == "cpu" and res["config"]["threads"] == 1
    for lib in ("tacjax", "jax"):
        sem = res["checks"][lib]["semantics"]
        assert sem["pass"] and sem["same_as_workload"], sem
    assert len(res["workloads"]) == 2
    for name, recs in res["workloads"].items():
        assert [(r["lib"], r["variant"], r["status"]) for r in recs] == [
            ("tacjax", "baseline", "ok"), ("jax", "default", "ok")], name
        for r in recs:
            ms = r["ms"]
            assert 0 < ms["min"] <= ms["median"] <= ms["max"] and len(ms["times"]) == 2
            assert r["rss_peak_mib"] > 0 and r["memory"]["temp"] >= 0
        # Same network, same inputs, same rule: tacjax's baseline and plain JAX give the same loss.
        np.testing.assert_allclose(recs[0]["ms"]["loss0"], recs[1]["ms"]["loss0"], rtol=1e-5)
    md = (tmp_path / "peers.md").read_text()
    assert md == proc.stdout
    assert "| tacjax baseline |" in md and "| plain JAX | " in md and "| 1.00x | 1.00x |" in md
    assert (tmp_path / "peers.png").read_bytes()[:4] == b"\x89PNG"
