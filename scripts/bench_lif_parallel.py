"""Benchmark: ``lif_parallel`` (exact reset, parallel over time) against ``lif_scan``, on any device.

For each T (``--steps``, default 64 256 1024 4096) and each drive:

  random   Gaussian currents, a new value every step (mean 0.3, std 0.6)
  steady   one constant current per neuron (0.15-0.6): the worst case, its firing phase is never
           forgotten, so every round settles one more window
  real     the currents of a dense layer (784 -> N, He-uniform weights) on rate-coded random images

it reports the rounds ``lif_parallel`` needs (default window ``round(2 sqrt(T))``; also the plain
fixed point, ``window=1``, up to ``--plain-max-steps``), the sequential depth of those rounds
(``rounds * (window + 2 log2 T)``: window steps and a scan's two sweeps per round, against ``T``
steps for ``lif_scan``), the spike rate, a check that the spikes equal ``lif_scan``'s (except
within 1e-5 of the threshold), and the median time of forward+backward (gradient of a loss on
the spikes and final membrane) of both, timed round-robin in one process. LIF beta 0.9,
threshold 1, subtract reset; ``--batch`` x ``--neurons`` neurons.

It pays where a sequential step is expensive compared with a pass over ``[T, ...]``: on a GPU,
not on a few CPU cores (there every round is several passes over the whole sequence).

    python scripts/bench_lif_parallel.py                       # default sizes
    python scripts/bench_lif_parallel.py --quick               # smoke sizes
    python -m tacjax.runtime --exec scripts/bench_lif_parallel.py   # CPU, tuned configuration
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DRIVES = ("random", "steady", "real")


def drives(num_steps: int, batch: int, neurons: int, seed: int = 0) -> dict:
    """The three ``[T, batch, neurons]`` float32 drives (see the module doc)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    shape = (num_steps, batch, neurons)
    pixels = rng.random((batch, 784), dtype=np.float32)
    spikes = (rng.random((num_steps, batch, 784), dtype=np.float32) < pixels).astype(np.float32)
    bound = math.sqrt(6.0 / 784) * 2.0  # twice He-uniform: the layer fires at 10-30 %
    w = rng.uniform(-bound, bound, (784, neurons)).astype(np.float32)
    return {"random": rng.normal(0.3, 0.6, shape).astype(np.float32),
            "steady": np.broadcast_to(rng.uniform(0.15, 0.6, (1, batch, neurons)), shape).astype(np.float32),
            "real": spikes @ w}


def _median_ms(fns: dict, reps: int) -> dict:
    import jax

    for fn in fns.values():
        jax.block_until_ready(fn())
    times = {k: [] for k in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(1e3 * (time.perf_counter() - t0))
    return {k: statistics.median(v) for k, v in times.items()}


def _measure(num_steps: int, args) -> list[dict]:
    """The rows of one T: every drive's rounds, spike check and times."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    import tacjax as tj
    from tacjax.neurons.lif_parallel import default_window

    p = tj.LIFParams(beta=0.9, threshold=1.0, reset="subtract")
    window = default_window(num_steps)
    data = drives(num_steps, args.batch, args.neurons)
    w_s = jnp.asarray(np.random.default_rng(1).normal(size=data["random"].shape), jnp.float32)

    def loss(fn, x):
        s, v = fn(x)
        return jnp.sum(s * w_s) + jnp.sum(v)

    scan_grad = jax.jit(jax.grad(lambda x: loss(lambda x: tj.lif_scan(x, p), x)))
    par_grad = jax.jit(jax.grad(lambda x: loss(lambda x: tj.lif_parallel(x, p), x)))
    par_rounds = jax.jit(lambda x: tj.lif_parallel(x, p, window=window, return_rounds=True))
    plain_rounds = jax.jit(lambda x: tj.lif_parallel(x, p, window=1, return_rounds=True)[2])
    depth_per_round = window + 2 * math.ceil(math.log2(num_steps))
    rows = []
    for drive in DRIVES:
        x = jnp.asarray(data[drive])
        s, _, rounds = par_rounds(x)
        s_ref, h_ref = tj.lif_scan(x, p, return_membrane=True)
        near = np.abs(np.asarray(h_ref) - 1.0) < 1e-5
        ms = _median_ms({"lif_scan": functools.partial(scan_grad, x),
                         "lif_parallel": functools.partial(par_grad, x)}, args.reps)
        rows.append({"T": num_steps, "drive": drive, "window": window, "rounds": int(rounds),
                     "plain_rounds": int(plain_rounds(x)) if num_steps <= args.plain_max_steps else None,
                     "depth": int(rounds) * depth_per_round, "spike_rate": float(s_ref.mean()),
                     "mismatches": int(np.sum((np.asarray(s) != np.asarray(s_ref)) & ~near)),
                     "lif_scan_ms": ms["lif_scan"], "lif_parallel_ms": ms["lif_parallel"]})
        print(f"  T={num_steps} {drive}: {int(rounds)} rounds, {ms['lif_parallel']:.1f} vs "
              f"{ms['lif_scan']:.1f} ms", file=sys.stderr, flush=True)
    return rows


def run(args) -> dict:
    from tacjax.runtime import describe

    rows = [row for num_steps in args.steps for row in _measure(num_steps, args)]
    return {"runtime": describe(), "batch": args.batch, "neurons": args.neurons, "rows": rows}


def markdown(res: dict) -> str:
    rt = res["runtime"]
    lines = [f"lif_parallel vs lif_scan, forward+backward, {res['batch']}x{res['neurons']} neurons "
             f"(backend {rt['backend']}, {rt['devices'][0]}, config {rt['config']})", "",
             "| T | drive | window | rounds | plain fixed point rounds | sequential depth (vs T) "
             "| spike rate | spikes != lif_scan | lif_scan ms | lif_parallel ms | lif_scan / lif_parallel |",
             "|" + "---|" * 11]
    for r in res["rows"]:
        plain = "-" if r["plain_rounds"] is None else str(r["plain_rounds"])
        lines.append(f"| {r['T']} | {r['drive']} | {r['window']} | {r['rounds']} | {plain} | {r['depth']} "
                     f"| {r['spike_rate']:.3f} | {r['mismatches']} | {r['lif_scan_ms']:.2f} "
                     f"| {r['lif_parallel_ms']:.2f} | {r['lif_scan_ms'] / r['lif_parallel_ms']:.2f}x |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, nargs="+", default=[64, 256, 1024, 4096], help="values of T")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--neurons", type=int, default=512)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--plain-max-steps", type=int, default=1024,
                    help="measure the plain fixed point's rounds up to this T (it needs ~2 per spike)")
    ap.add_argument("--quick", action="store_true", help="T = 16 32, 2 x 16 neurons, 1 repetition")
    ap.add_argument("--out", default="results/bench_lif_parallel.json")
    args = ap.parse_args(argv)
    if args.quick:
        args.steps, args.batch, args.neurons, args.reps = [16, 32], 2, 16, 1
    if min(args.steps + [args.batch, args.neurons, args.reps]) < 1:
        ap.error("--steps, --batch, --neurons and --reps must be >= 1")
    res = run(args)
    print(markdown(res))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
