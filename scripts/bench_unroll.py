"""Benchmark: the time loops' full unroll against the rolled loop, forward + backward, per state shape and T.

``tacjax.neurons`` unrolls a loop fully (straight-line code) only where this measured faster: the
fused LIF loop at ``T <= 4``, the ``lax.scan`` neurons at ``T <= 8``, and only for states with at least
16 entries on the last axis (``tacjax.neurons._common``). For each state shape (``--shapes``, batch
first) and T (``--steps``), this times the gradient of a loss on the spikes of ``lif_scan`` and of
``synaptic_scan`` with ``unroll=1`` and ``unroll=T``, round-robin in one process (medians of
``--reps``), checks that both give the same loss, and prints which the default picks.

    python -m tacjax.runtime --exec scripts/bench_unroll.py      # CPU, tuned configuration
    python scripts/bench_unroll.py --quick                        # smoke sizes
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_SHAPES = ("64,16,16,8", "64,8,8,16", "64,28,28,32", "128,14,14,64", "64,512")


def _grad_fn(neuron: str, unroll: int):
    import jax
    import jax.numpy as jnp

    import tacjax as tj

    def loss(x, w):
        if neuron == "lif":
            s, _ = tj.lif_scan(x, tj.LIFParams(), unroll=unroll)
        else:
            s, _ = tj.synaptic_scan(x, tj.SynapticParams(), unroll=unroll)
        return jnp.sum(s * w)

    return jax.jit(jax.value_and_grad(loss))


def measure(shape: tuple[int, ...], num_steps: int, reps: int) -> list[dict]:
    """Rows for one shape and T: per neuron, loop and unrolled medians (ms) and the default's choice."""
    import jax
    import numpy as np

    from tacjax.neurons._common import (
        FULL_UNROLL_MAX_STEPS,
        LIF_FULL_UNROLL_MAX_STEPS,
        scan_unroll,
        state_lanes,
    )

    rng = np.random.default_rng(0)
    x = jax.numpy.asarray(rng.normal(0.3, 0.5, (num_steps, *shape)), jax.numpy.float32)
    w = jax.numpy.asarray(rng.normal(size=(num_steps, *shape)), jax.numpy.float32)
    fns = {(n, u): _grad_fn(n, u) for n in ("lif", "synaptic") for u in (1, num_steps)}
    losses = {key: float(jax.block_until_ready(f(x, w))[0]) for key, f in fns.items()}  # also compiles
    times = {key: [] for key in fns}
    for _ in range(reps):
        for key, f in fns.items():
            t0 = time.perf_counter()
            jax.block_until_ready(f(x, w))
            times[key].append(time.perf_counter() - t0)
    rows = []
    for n in ("lif", "synaptic"):
        max_steps = LIF_FULL_UNROLL_MAX_STEPS if n == "lif" else FULL_UNROLL_MAX_STEPS
        picked = scan_unroll(num_steps, None, n, lanes=state_lanes(shape), max_steps=max_steps)
        loop, full = (1e3 * statistics.median(times[(n, u)]) for u in (1, num_steps))
        same = abs(losses[(n, 1)] - losses[(n, num_steps)]) <= 1e-4 * (1 + abs(losses[(n, 1)]))
        rows.append({"neuron": n, "shape": list(shape), "T": num_steps, "loop_ms": loop, "unrolled_ms": full,
                     "unrolled_speedup": loop / full, "default": "unrolled" if picked != 1 else "loop",
                     "same_loss": same})
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", nargs="+", default=list(DEFAULT_SHAPES), help="state shapes, batch first")
    p.add_argument("--steps", nargs="+", type=int, default=[2, 4, 8], help="T values")
    p.add_argument("--reps", type=int, default=15, help="timed rounds (medians)")
    p.add_argument("--quick", action="store_true", help="smoke sizes")
    p.add_argument("--out", default=None, help="write the rows as JSON here")
    args = p.parse_args(argv)
    if args.quick:
        args.shapes, args.steps, args.reps = ["4,3,3,8", "4,16"], [2, 4], 2
    import tacjax.runtime as rt

    print(f"runtime: {json.dumps(rt.describe())}")
    rows = []
    print("| neuron | state | T | loop ms | unrolled ms | unrolled speed-up | default | same loss |")
    print("|---|---|---|---|---|---|---|---|")
    for text in args.shapes:
        shape = tuple(int(v) for v in text.split(","))
        for t in args.steps:
            for r in measure(shape, t, args.reps):
                rows.append(r)
                print(f"| {r['neuron']} | {'x'.join(map(str, shape))} | {t} | {r['loop_ms']:.2f} | "
                      f"{r['unrolled_ms']:.2f} | {r['unrolled_speedup']:.2f}x | {r['default']} | "
                      f"{r['same_loss']} |", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"rows": rows}, indent=1))
    return rows


if __name__ == "__main__":
    main()
