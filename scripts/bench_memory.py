"""Benchmark: memory and time of forward+backward for long T, neurons and the traced-K path.

For each T (``--steps``, default 16 64 256 1024 4096) and each variant, XLA's compiled memory
analysis of ``jax.jit(jax.grad(lambda x: sum(f(x))))`` (bytes beyond the arguments: temporaries
plus outputs, minus aliased; and that as a multiple of the input's bytes) and the median time of
that function; ``f(x)`` is the spikes (the aggregated frames for ``aggregate*``). Input
``[T, --batch, --neurons]`` float32.

Neurons (LIF beta 0.9, threshold 1; one row per reset):
  scan              ``lax.scan`` over ``lif_step`` (autodiff, as a user writes it)
  scan+remat        the same with ``jax.checkpoint`` around the step
  lif_scan          tacjax's default (one membrane residual, hand-written reverse loop)
  lif_scan remat    ``lif_scan(remat=True)`` (keeps the input instead of the membrane)
  lif_parallel      the exact-reset parallel solver
  psu, psu scan     PSU with its ``T x T`` matrices, and with two associative scans
Traced K (K = 4) against the static path:
  aggregate / aggregate_dynamic, tac / tac_dynamic, tac_tp / tac_tp_dynamic (op = identity)

    python scripts/bench_memory.py
    python scripts/bench_memory.py --quick
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def variants(reset: str) -> dict:
    """Name -> ``f(x) -> array`` whose weighted sum is differentiated (neurons for ``reset``)."""
    import jax
    import jax.numpy as jnp

    import tacjax as tj

    p = tj.LIFParams(beta=0.9, threshold=1.0, reset=reset)
    step = functools.partial(tj.lif_step, params=p)

    def scan(x, body):
        return jax.lax.scan(body, jnp.zeros(x.shape[1:], x.dtype), x)[1]

    out = {"scan": lambda x: scan(x, step), "scan+remat": lambda x: scan(x, jax.checkpoint(step)),
           "lif_scan": lambda x: tj.lif_scan(x, p)[0],
           "lif_scan remat": lambda x: tj.lif_scan(x, p, remat=True)[0]}
    if reset != "none":
        out["lif_parallel"] = lambda x: tj.lif_parallel(x, p)[0]
    return out


def traced_k(k: int = 4) -> dict:
    """The static functions and their traced-K forms (``k`` a jit argument in the latter)."""
    import jax.numpy as jnp

    import tacjax as tj

    p = tj.LIFParams(beta=0.9, threshold=1.0)
    ident = lambda z: z  # noqa: E731

    def dyn(fn):
        return lambda x: fn(x, jnp.int32(k))

    return {"aggregate": lambda x: tj.aggregate(x, k),
            "aggregate_dynamic": dyn(lambda x, kk: tj.aggregate_dynamic(x, kk)),
            "tac": lambda x: tj.tac(x, ident, k, p)[0],
            "tac_dynamic": dyn(lambda x, kk: tj.tac_dynamic(x, ident, kk, p)[0]),
            "tac_tp": lambda x: tj.tac_tp(x, ident, k, p)[0],
            "tac_tp_dynamic": dyn(lambda x, kk: tj.tac_tp_dynamic(x, ident, kk, p)[0])}


def measure(fn, x, reps: int) -> dict:
    """Memory analysis and median time of the gradient of ``sum(fn(x))`` with respect to ``x``."""
    import jax
    import jax.numpy as jnp

    f = jax.jit(jax.grad(lambda x: jnp.sum(fn(x))))
    compiled = f.lower(x).compile()
    ma = compiled.memory_analysis()
    beyond = ma.temp_size_in_bytes + ma.output_size_in_bytes - ma.alias_size_in_bytes
    jax.block_until_ready(compiled(x))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(x))
        times.append(1e3 * (time.perf_counter() - t0))
    return {"beyond_args_bytes": int(beyond), "temp_bytes": int(ma.temp_size_in_bytes),
            "x_multiple": beyond / x.nbytes, "ms": statistics.median(times)}


def run(args) -> dict:
    import jax

    from tacjax.runtime import describe

    rows = []
    for num_steps in args.steps:
        x = jax.random.normal(jax.random.key(0), (num_steps, args.batch, args.neurons)) * 0.6 + 0.3
        groups = [(f"neuron ({reset})", variants(reset)) for reset in ("subtract", "zero", "none")]
        groups.append(("traced K", traced_k()))
        for group, fns in groups:
            for name, fn in fns.items():
                rows.append({"T": num_steps, "group": group, "variant": name, **measure(fn, x, args.reps)})
        import tacjax as tj

        for name, method in (("psu", "matmul"), ("psu scan", "scan")):
            fn = functools.partial(tj.parallel.psu, method=method)
            row = {"T": num_steps, "group": "neuron (PSU)", "variant": name}
            rows.append({**row, **measure(fn, x, args.reps)})
        print(f"  T={num_steps} done", file=sys.stderr, flush=True)
    return {"runtime": describe(), "batch": args.batch, "neurons": args.neurons, "rows": rows}


def markdown(res: dict) -> str:
    rt = res["runtime"]
    lines = [f"Forward+backward memory (XLA memory analysis) and time, input [T, {res['batch']}, "
             f"{res['neurons']}] float32 (backend {rt['backend']}, config {rt['config']})", "",
             "| T | group | variant | bytes beyond arguments | x input bytes | ms |",
             "|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['T']} | {r['group']} | {r['variant']} | {r['beyond_args_bytes']:,} "
                     f"| {r['x_multiple']:.2f}x | {r['ms']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, nargs="+", default=[16, 64, 256, 1024, 4096], help="values of T")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--neurons", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="T = 8 16, 2 x 4 neurons, 1 repetition")
    ap.add_argument("--out", default="results/bench_memory.json")
    args = ap.parse_args(argv)
    if args.quick:
        args.steps, args.batch, args.neurons, args.reps = [8, 16], 2, 4, 1
    if min(args.steps) < 4 or min(args.batch, args.neurons, args.reps) < 1:
        ap.error("--steps must be >= 4 (K = 4); --batch, --neurons and --reps >= 1")
    res = run(args)
    print(markdown(res))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
