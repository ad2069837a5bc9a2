"""Collect the outputs of ``scripts/gpu_check.sh`` into ``gpu_check.md`` and ``gpu_check.json``.

    python scripts/peers/gpu_summary.py OUT_DIR

Reads from OUT_DIR: ``steps.tsv`` (step, exit code, seconds, note; written by the shell script),
``device.json`` (``tacjax.runtime.describe()``), ``tests.xml`` (pytest's JUnit report), and each
benchmark's Markdown (its stdout) and JSON: ``bench_tac.md/.json``, ``peers/peers.md/.json``,
``bench_neurons.md`` (+ ``bench_neurons.json`` when that script writes one). Missing pieces are
reported as missing; nothing is invented.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tacjax.common.files import atomic_write_text

BENCHES = (("bench_tac", "bench_tac.md", "bench_tac.json"), ("peers", "peers/peers.md", "peers/peers.json"),
           ("bench_neurons", "bench_neurons.md", "bench_neurons.json"),
           ("bench_lif_parallel", "bench_lif_parallel.md", "bench_lif_parallel.json"))


def _steps(out: Path) -> list[dict]:
    path = out / "steps.tsv"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        name, rc, seconds, note = (line.split("\t") + [""] * 4)[:4]
        rows.append({"step": name, "exit_code": int(rc), "seconds": float(seconds), "note": note})
    return rows


def _tests(out: Path) -> dict | None:
    path = out / "tests.xml"
    if not path.exists():
        return None
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    counts = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    failed = [f"{c.get('classname')}::{c.get('name')}" for s in suites for c in s.iter("testcase")
              if c.find("failure") is not None or c.find("error") is not None]
    return {**counts, "passed": counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
            "failed_tests": failed}


def _read_json(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def summarize(out: Path) -> dict:
    """The whole record (see the module docstring)."""
    return {"device": _read_json(out / "device.json"), "steps": _steps(out), "tests": _tests(out),
            **{name: _read_json(out / js) for name, _, js in BENCHES}}


def markdown(out: Path, rec: dict) -> str:
    dev = rec["device"] or {}
    lines = ["# GPU check", "", f"JAX {dev.get('jax')}, backend {dev.get('backend')}, devices "
             f"{', '.join(dev.get('devices', [])) or 'unknown'}, {dev.get('cpu_count')} CPUs.", "",
             "| step | exit code | seconds | note |", "|---|---|---|---|"]
    lines += [f"| {s['step']} | {s['exit_code']} | {s['seconds']:.0f} | {s['note']} |" for s in rec["steps"]]
    t = rec["tests"]
    lines += ["", "## Device-agnostic tests", ""]
    if t is None:
        log = out / "tests.log"
        last = log.read_text().strip().splitlines()[-1:] if log.exists() else []
        lines.append("No JUnit report (tests.xml)" + (f"; tests.log ends: `{last[0]}`" if last else "") + ".")
    else:
        lines.append(f"{t['passed']} passed, {t['failures'] + t['errors']} failed, {t['skipped']} skipped "
                     f"(of {t['tests']}).")
        lines += [f"- failed: `{name}`" for name in t["failed_tests"][:30]]
    for name, md, _ in BENCHES:
        path = out / md
        lines += ["", f"## {name}", "", path.read_text().strip() if path.exists() else f"({md} missing)"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: gpu_summary.py OUT_DIR")
    out = Path(argv[0])
    rec = summarize(out)
    atomic_write_text(out / "gpu_check.json", json.dumps(rec, indent=1))
    atomic_write_text(out / "gpu_check.md", markdown(out, rec))
    print(f"wrote {out / 'gpu_check.md'} and {out / 'gpu_check.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
