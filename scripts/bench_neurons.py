"""Benchmark: forward and forward+backward time of each neuron family, as a ratio to ``lif_scan``.

Workload: input ``[T, B, N]`` (default T = 500, B = 16, N = 1024, float32), per-channel ``(N,)``
parameters. "fwd" is the jitted spikes (the membrane for the leaky integrator); "fwd+bwd" is the
jitted gradient of their sum with respect to the input and every learnable leaf (``beta``,
``threshold``; ``alpha`` for synaptic, ``rho`` and ``b`` for ALIF, ``w_rec`` ``[N, N]`` for RLIF).
Every function is compiled and warmed up first; then ``--reps`` rounds call each one in turn
(round-robin, so a drift in machine load hits all alike), timing each call to
``block_until_ready``. Reported: the median milliseconds, and each neuron's median over rounds
of its time divided by ``lif_scan``'s in the same round. Device-agnostic (CPU or GPU).

The Markdown table goes to stdout (``scripts/gpu_check.sh`` keeps it as ``bench_neurons.md``), the
JSON (with the same table under "markdown") to ``--out``; ``--md`` also writes the table to a file.

    python scripts/bench_neurons.py                            # the issue's sizes
    python -m tacjax.runtime --exec scripts/bench_neurons.py   # the same under the tuned CPU settings
    python scripts/bench_neurons.py --quick --out /tmp/b.json  # tiny smoke run
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from tacjax.common.files import atomic_write_text

NEURONS = ("lif", "synaptic", "alif", "rlif", "li", "psu")
PASSES = ("fwd", "fwd_bwd")


def _families(n: int, remat: bool):
    """name -> (out(x, leaves), leaves): each neuron's output ``[T, B, N]`` and its learnable leaves;
    ``remat`` goes to the scans that take it (not ``li_scan``, not ``psu``)."""
    import jax
    import jax.numpy as jnp

    import tacjax as tj

    def ch(v):
        return jnp.full((n,), v, jnp.float32)

    w_rec = jax.random.normal(jax.random.key(1), (n, n)) * (0.5 / n**0.5)
    return {
        "lif": (lambda x, p: tj.lif_scan(x, tj.LIFParams(**p), remat=remat)[0],
                dict(beta=ch(0.9), threshold=ch(1.0))),
        "synaptic": (lambda x, p: tj.synaptic_scan(x, tj.SynapticParams(**p), remat=remat)[0],
                     dict(alpha=ch(0.8), beta=ch(0.9), threshold=ch(1.0))),
        "alif": (lambda x, p: tj.alif_scan(x, tj.ALIFParams(**p), remat=remat)[0],
                 dict(beta=ch(0.9), threshold=ch(1.0), rho=ch(0.95), b=ch(0.1))),
        "rlif": (lambda x, p: tj.rlif_scan(x, p["w_rec"], tj.LIFParams(p["beta"], p["threshold"]),
                                           remat=remat)[0],
                 dict(beta=ch(0.9), threshold=ch(1.0), w_rec=w_rec)),
        "li": (lambda x, p: tj.li_scan(x, p["beta"])[0], dict(beta=ch(0.9))),
        "psu": (lambda x, p: tj.parallel.psu(x, threshold=p["threshold"]), dict(threshold=ch(1.0))),
    }


def run(args) -> dict:
    """Time every requested neuron; returns the JSON-able results."""
    import jax
    import jax.numpy as jnp

    from tacjax.runtime import describe

    shape = (args.steps, args.batch, args.n)
    x = jax.random.uniform(jax.random.key(0), shape, maxval=0.3)  # LIF's rest level 1.5: it fires
    families = _families(args.n, args.remat)
    fns = {}
    for name in args.neurons:
        out, leaves = families[name]
        fns[("fwd", name)] = (jax.jit(out), leaves)
        grad = jax.grad(lambda x, p, out=out: jnp.sum(out(x, p)), argnums=(0, 1))
        fns[("fwd_bwd", name)] = (jax.jit(grad), leaves)
    for fn, leaves in fns.values():  # compile, then warm up
        for _ in range(1 + args.warmup):
            jax.block_until_ready(fn(x, leaves))
    times: dict = {key: [] for key in fns}
    for _ in range(args.reps):
        for key, (fn, leaves) in fns.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn(x, leaves))
            times[key].append(time.perf_counter() - t0)
    res = {"runtime": describe(), "config": {"steps": args.steps, "batch": args.batch, "n": args.n,
                                            "reps": args.reps, "warmup": args.warmup, "remat": args.remat},
           "results": {}}
    for p in PASSES:
        lif = times.get((p, "lif"))
        for name in args.neurons:
            ts = times[(p, name)]
            row = {"median_ms": 1e3 * statistics.median(ts)}
            if lif is not None:
                row["ratio_to_lif"] = statistics.median(t / t_lif for t, t_lif in zip(ts, lif, strict=True))
            res["results"][f"{p}/{name}"] = row
    return res


def table(res: dict) -> str:
    """The results as a Markdown table (one row per neuron)."""
    cfg, rt = res["config"], res["runtime"]
    remat = ", remat=True" if cfg["remat"] else ""
    lines = [f"## bench_neurons: T={cfg['steps']}, B={cfg['batch']}, N={cfg['n']}, float32{remat}, "
             f"{cfg['reps']} rounds (backend {rt['backend']}, config {rt['config']}, jax {rt['jax']}, "
             f"{rt['cpu_count']} CPUs)", "",
             "| neuron | fwd ms | fwd / LIF | fwd+bwd ms | fwd+bwd / LIF |", "|---|---|---|---|---|"]
    names = dict.fromkeys(k.split("/")[1] for k in res["results"])
    for name in names:
        cells = []
        for p in PASSES:
            row = res["results"][f"{p}/{name}"]
            ratio = row.get("ratio_to_lif")
            cells += [f"{row['median_ms']:.2f}", "-" if ratio is None else f"{ratio:.2f}x"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--neurons", nargs="+", default=list(NEURONS), choices=NEURONS,
                    help="neurons to time (ratios need lif among them)")
    ap.add_argument("--steps", type=int, default=500, help="T")
    ap.add_argument("--batch", type=int, default=16, help="B")
    ap.add_argument("--n", type=int, default=1024, help="N (neurons per sample)")
    ap.add_argument("--reps", type=int, default=10, help="timed rounds")
    ap.add_argument("--warmup", type=int, default=1, help="untimed calls after the compiling call")
    ap.add_argument("--remat", action="store_true", help="pass remat=True to the scans that take it")
    ap.add_argument("--quick", action="store_true", help="T=20, B=2, N=64, 2 rounds, 1 warm-up")
    ap.add_argument("--out", default="results/bench_neurons.json", help="JSON results path")
    ap.add_argument("--md", help="also write the Markdown table to this path")
    args = ap.parse_args(argv)
    if args.quick:
        args.steps, args.batch, args.n, args.reps, args.warmup = 20, 2, 64, 2, 1
    for flag in ("steps", "batch", "n", "reps"):
        if getattr(args, flag) < 1:
            ap.error(f"--{flag} must be >= 1; got {getattr(args, flag)}")
    res = run(args)
    res["markdown"] = table(res)
    print(res["markdown"], flush=True)
    for path, text in ((args.out, json.dumps(res, indent=1)), (args.md, res["markdown"] + "\n")):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(Path(path), text)
            print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
