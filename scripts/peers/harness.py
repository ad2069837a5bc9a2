"""What every library's worker process shares: the step record, timing, memory, and the worker entry.

A worker process runs one library on one task (``on`` or ``mnist``), and when asked (``check``) first
compares the library's spikes with a NumPy loop of the rule it documents; it returns one JSON-ready
record. Library modules (``lib_*.py``) expose ``LABEL``, ``RULE`` (a key of ``reference.RULES``),
``version()``, ``lif_spikes(x, beta, thr)``, ``build_on(data, spec)`` and ``build_mnist(data, spec)``
(the builders return a ``Bench``), and ``PLATFORM``, their framework's module (``jaxcommon`` or
``torchcommon``) with ``setup(threads)``, ``runtime()`` and ``device_peak_bytes()``.
"""

from __future__ import annotations

import importlib
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from peers import reference

__all__ = ["LIBS", "Bench", "jax_memory", "measure", "merge_rounds", "run_worker", "time_stats"]

LIBS = {"tacjax": "lib_tacjax", "jax": "lib_jax", "snntorch": "lib_snntorch",
        "spikingjelly": "lib_spikingjelly", "spyx": "lib_spyx"}
"""Library key -> module under ``scripts/peers``."""

BETA, THRESHOLD = 0.9, 1.0


class Bench(NamedTuple):
    """One timed unit of work.

    ``step()`` runs one forward+backward (and, for training, one optimiser step) and returns its
    outputs, the scalar loss first; ``sync(out)`` waits until they are computed (block_until_ready
    or a device synchronise); ``memory`` is a compile-time memory analysis in bytes, if any.
    """

    step: Callable[[], Any]
    sync: Callable[[Any], None]
    memory: dict | None = None


def measure(bench: Bench, warmup: int, repeats: int) -> dict:
    """First call (with compilation), ``warmup - 1`` more untimed calls, then ``repeats`` timed calls.

    Returns milliseconds: ``median``, ``min``, ``max``, ``q1``, ``q3`` (quartiles), ``first`` (the first
    call; for JAX it reuses the executable that ``jax_memory`` compiled), the raw ``times``, and
    ``loss0`` (the loss of the first call).
    """
    t0 = time.perf_counter()
    out = bench.step()
    bench.sync(out)
    first = time.perf_counter() - t0
    loss0 = float(np.asarray(_scalar(out)))
    for _ in range(max(warmup - 1, 0)):
        bench.sync(bench.step())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        bench.sync(bench.step())
        times.append(1e3 * (time.perf_counter() - t0))
    return {**time_stats(times), "first": 1e3 * first, "times": times, "loss0": loss0}


def time_stats(times: list[float]) -> dict:
    """``median``, ``min``, ``max`` and quartiles ``q1``, ``q3`` of ``times``."""
    q = statistics.quantiles(times, n=4, method="inclusive") if len(times) > 1 else [times[0]] * 3
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "q1": q[0], "q3": q[2]}


def merge_rounds(recs: list[dict]) -> dict:
    """One record from the records of one spec over several rounds (processes).

    The timed steps are pooled and their statistics recomputed (``round_medians`` keeps each round's
    median); memory peaks are the largest of the rounds. A spec that never succeeded keeps its first
    record.
    """
    ok = [r for r in recs if r.get("status") == "ok"]
    if not ok:
        return recs[0]
    times = [t for r in ok for t in r["ms"]["times"]]
    peaks = [r["device_peak_mib"] for r in ok if r.get("device_peak_mib") is not None]
    return {**ok[0], "rounds": len(ok), "rss_peak_mib": max(r["rss_peak_mib"] for r in ok),
            "device_peak_mib": max(peaks) if peaks else None,
            "ms": {**ok[0]["ms"], **time_stats(times), "times": times,
                   "round_medians": [r["ms"]["median"] for r in ok]}}


def _scalar(out):
    first = out[0] if isinstance(out, tuple | list) else out
    return first.detach().cpu().numpy() if hasattr(first, "detach") else first


def jax_memory(jitted, *args) -> dict | None:
    """``memory_analysis()`` of ``jitted`` compiled for ``args``: argument, output, temp bytes (or None)."""
    try:
        ma = jitted.lower(*args).compile().memory_analysis()
    except (AttributeError, NotImplementedError, RuntimeError):  # not every backend/jaxlib provides it
        return None
    if ma is None:
        return None
    keys = ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes", "alias_size_in_bytes")
    return {k.removesuffix("_size_in_bytes"): int(getattr(ma, k, 0)) for k in keys}


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _device_peak_mib(mod) -> float | None:
    """Peak accelerator memory of this process, when the library is on a GPU."""
    value = mod.PLATFORM.device_peak_bytes()
    return None if value is None else value / 2**20


def _semantics(mod) -> dict:
    x = reference.check_input()
    spikes = np.asarray(mod.lif_spikes(x, BETA, THRESHOLD), np.float32)
    own = reference.compare(spikes, reference.RULES[mod.RULE](x, BETA, THRESHOLD))
    workload = reference.compare(spikes, reference.same_step_subtract(x, BETA, THRESHOLD))
    return {"rule": mod.RULE, "own_rule": own, "workload_rule": workload,
            "pass": own["mismatches"] == 0, "same_as_workload": workload["mismatches"] == 0}


def run_worker(spec: dict) -> dict:
    """Run one task in this process (see the module docstring); the record is JSON-ready."""
    rec = {"lib": spec["lib"], "task": spec["task"], "variant": spec.get("variant", "default"),
           "cpus": sorted(os.sched_getaffinity(0))}
    try:
        mod = importlib.import_module(f"peers.{LIBS[spec['lib']]}")
        rec["label"], rec["version"] = mod.LABEL, mod.version()
    except ImportError as e:
        return {**rec, "status": "unavailable", "reason": f"{type(e).__name__}: {e}"}
    mod.PLATFORM.setup(spec["threads"])
    rec["rss_base_mib"] = _rss_mib()
    rec["runtime"] = mod.PLATFORM.runtime()
    if spec.get("check"):
        rec["semantics"] = _semantics(mod)
    if spec["task"] == "on":
        data = reference.on_data(spec["n"], spec["batch"], spec["steps"])
        bench = mod.build_on(data, spec)
    else:
        data = reference.mnist_data(spec["batch"], spec["steps"], spec["size"], spec["channels"])
        bench = mod.build_mnist(data, spec)
    del data
    stats = measure(bench, spec["warmup"], spec["repeats"])
    rec.update(status="ok", ms=stats, memory=bench.memory, rss_peak_mib=_rss_mib(),
               device_peak_mib=_device_peak_mib(mod), python=sys.version.split()[0])
    return rec
