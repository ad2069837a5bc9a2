"""Benchmark: the MNIST conv SNN training step, tacjax against the same network in plain JAX.

Workload (``scripts/bench_peers.py``'s): T = 25, B = 128, conv 1->32 3x3 SAME, LIF, 2x2 max-pool of
the spikes, conv 32->64, LIF, pool, dense 3136->10, LIF readout; cross-entropy on the time-mean of
the readout membrane; one Adam step. Same inputs and initial weights for every variant
(``scripts/peers/reference.py``). Variants, all timed round-robin in one process:

  plain       plain JAX as a user writes it (``scripts/peers/lib_jax.py``: a ``lax.scan`` LIF,
              ``lax.conv_general_dilated``, a reshape-max pool)
  functional  the same code with ``tacjax.lif_scan`` as the LIF: what a user of the functional
              core (own conv, own pool) gets
  baseline    ``tacjax.models.MNISTNet``, every layer per frame (``lif_scan`` + tacjax's pool)
  tac_tp      MNISTNet, TAC-TP with K in every conv layer
  tac         MNISTNet, TAC with K in the first layer (the rest runs T/K steps)

Before timing, plain JAX, functional and baseline run once on the initial weights and must give
identical spikes in every layer (the check is printed; a mismatch stops the script).
``--pieces`` also times each piece of the baseline at the network's shapes (conv forward,
backward-data and backward-weights; LIF forward and forward+backward, plain ``lax.scan`` against
``lif_scan``; pool forward and forward+backward, reshape-max against tacjax's): where the
milliseconds of a step go.

One worker process per configuration ("default", "tuned": tcmalloc + Eigen convolutions, see
``tacjax.runtime``; on a GPU only the first), pinned to ``--threads`` cores; inside a worker the
variants run round-robin (warm-up, then ``--reps`` rounds, ``block_until_ready``), medians of wall
time and of process CPU time (robust to other processes on a shared machine). Ratios are of
medians from one process.

    python scripts/bench_baseline.py                     # both configs, B = 128, K = 4
    python scripts/bench_baseline.py --configs tuned --pieces --reps 9
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("plain", "functional", "baseline", "tac_tp", "tac")


def round_robin(fns: dict, reps: int, warmup: int) -> dict:
    """Median wall and process-CPU milliseconds of each ``fn()`` (synchronised), timed round-robin."""
    import jax

    for fn in fns.values():
        for _ in range(warmup):
            jax.block_until_ready(fn())
    wall, cpu = {k: [] for k in fns}, {k: [] for k in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            c0, t0 = time.process_time(), time.perf_counter()
            jax.block_until_ready(fn())
            wall[name].append(1e3 * (time.perf_counter() - t0))
            cpu[name].append(1e3 * (time.process_time() - c0))
    return {k: {"wall_ms": statistics.median(wall[k]), "cpu_ms": statistics.median(cpu[k]),
                "wall_min_ms": min(wall[k])} for k in fns}


def _network(args):
    """The training steps of the variants asked for (`--variants`) and the spike check."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from peers import jaxcommon as jc
    from peers import lib_jax, lib_tacjax, reference

    import tacjax as tj

    data = reference.mnist_data(args.batch, args.steps, args.size, args.channels)
    params = {k: jnp.asarray(data[k]) for k in ("w1", "w2", "w3")}
    x = jnp.asarray(data["x"])
    p = lib_tacjax.PARAMS

    def layers(lif):  # every layer's spikes (and the readout membrane) of the plain-JAX network
        t, b = x.shape[:2]
        h, out = x, []
        for w in (params["w1"], params["w2"]):
            cur = lib_jax.conv(h.reshape(t * b, *h.shape[2:]), w)
            s = lif(cur.reshape(t, b, *cur.shape[1:]))
            out.append(s)
            h = jc.max_pool2(s)
        return out

    def functional(params, x):
        t, b = x.shape[:2]
        h = x
        for w in (params["w1"], params["w2"]):
            cur = lib_jax.conv(h.reshape(t * b, *h.shape[2:]), w)
            h = jc.max_pool2(tj.lif_scan(cur.reshape(t, b, *cur.shape[1:]), p)[0])
        return tj.lif_scan(h.reshape(t, b, -1) @ params["w3"], p, return_membrane=True)[1]

    spec = dict(steps=args.steps, size=args.size, channels=list(args.channels), k=args.k)
    def build(v):  # each build compiles its step (memory analysis): only the variants asked for
        if v == "plain":
            return lib_jax.build_mnist(data, spec)
        if v == "functional":
            return jc.train_bench(functional, params, x, jnp.asarray(data["y"]))
        return lib_tacjax.build_mnist(data, dict(spec, variant=v))

    benches = {v: build(v) for v in args.variants}
    # spike check on the initial weights (before any step changes them)
    plain = jax.jit(lambda: layers(lambda c: lib_jax.lif(c)[0]))()
    func = jax.jit(lambda: layers(lambda c: tj.lif_scan(c, p)[0]))()
    stats = lib_tacjax.mnist_model(data, spec, p)(x, return_stats=True).stats
    check = {}
    for i, s in enumerate(plain):
        pooled = jc.max_pool2(s)
        check[f"conv{i + 1}"] = {"positions": int(s.size), "spikes": int(s.sum()),
                                 "functional_mismatches": int(jnp.sum(func[i] != s)),
                                 "baseline_mismatches": int(jnp.sum(stats[f"conv{i + 1}"] != pooled))}
    ok = all(c["functional_mismatches"] == 0 and c["baseline_mismatches"] == 0 for c in check.values())
    return benches, {"layers": check, "identical": ok}, np


def _pieces(args) -> dict:
    """Each piece of the baseline step at the network's shapes, forward and forward+backward."""
    import jax
    import jax.numpy as jnp
    from peers import jaxcommon as jc
    from peers import lib_jax, lib_tacjax, reference

    import tacjax as tj
    from tacjax.pooling import max_pool

    data = reference.mnist_data(args.batch, args.steps, args.size, args.channels)
    p = lib_tacjax.PARAMS
    conv = lib_jax.conv
    t, b = args.steps, args.batch
    key = jax.random.key(0)
    fns = {}

    def add(name, f, *xs):
        f = jax.jit(f)
        fns[name] = lambda: f(*xs)

    def vjp(f):
        return lambda a, g: jax.vjp(f, a)[1](g)

    h = jnp.asarray(data["x"])
    for i, w in enumerate((jnp.asarray(data["w1"]), jnp.asarray(data["w2"]))):
        n = f"L{i + 1}"
        xin = h.reshape(t * b, *h.shape[2:])
        cur = jax.jit(lib_jax.conv)(xin, w)
        ct = jax.random.normal(key, cur.shape)
        add(f"{n} conv fwd", lib_jax.conv, xin, w)
        if i > 0:  # the first layer's input needs no gradient
            add(f"{n} conv bwd-data", lambda a, w, g: jax.vjp(lambda a: conv(a, w), a)[1](g), xin, w, ct)
        add(f"{n} conv bwd-weights", lambda w, a, g: jax.vjp(lambda w: conv(a, w), w)[1](g), w, xin, ct)
        cur = cur.reshape(t, b, *cur.shape[1:])
        ct = ct.reshape(cur.shape)
        lifs = (("lax.scan", lambda c: lib_jax.lif(c)[0]), ("lif_scan", lambda c: tj.lif_scan(c, p)[0]))
        for lname, lif in lifs:
            add(f"{n} LIF fwd ({lname})", lif, cur)
            add(f"{n} LIF fwd+bwd ({lname})", vjp(lif), cur, ct)
        s = jax.jit(lambda c: tj.lif_scan(c, p)[0])(cur)
        ctp = jax.random.normal(key, jc.max_pool2(s).shape)
        for pname, pool in (("reshape-max", jc.max_pool2), ("tacjax", lambda a: max_pool(a, 2))):
            add(f"{n} pool fwd ({pname})", pool, s)
            add(f"{n} pool fwd+bwd ({pname})", vjp(pool), s, ctp)
        h = jc.max_pool2(s)
    return round_robin(fns, args.reps, args.warmup)


def _worker(args) -> dict:
    if args.pin:
        from tacjax.runtime import pin_threads

        pin_threads(args.threads)
    sys.path.insert(0, str(ROOT / "scripts"))
    from tacjax.runtime import describe

    benches, check, _ = _network(args)
    print(f"  spike check: {'identical' if check['identical'] else 'MISMATCH'} {check['layers']}",
          file=sys.stderr, flush=True)
    if not check["identical"]:
        raise SystemExit("bench_baseline: the variants' spikes differ; not timing them")
    res = {"runtime": describe(), "check": check,
           "step": round_robin({k: b.step for k, b in benches.items()}, args.reps, args.warmup),
           "memory": {k: b.memory for k, b in benches.items()}}
    if args.pieces:
        res["pieces"] = _pieces(args)
    return res


def _report(all_res: dict, args) -> str:
    lines = []
    for cfg, res in all_res.items():
        rt, step = res["runtime"], res["step"]
        base = step.get("baseline", next(iter(step.values())))
        lines += [f"\n## config: {cfg} (tcmalloc={rt['tcmalloc']}, eigen_conv={rt['eigen_conv']}, "
                  f"backend {rt['backend']}, jax {rt['jax']}), B={args.batch}, T={args.steps}, K={args.k}, "
                  f"{args.threads} thread(s)\n",
                  "| variant | wall ms | CPU ms | plain JAX / variant (wall, CPU) "
                  "| baseline / variant (wall, CPU) |",
                  "|---|---|---|---|---|"]
        plain = step.get("plain")
        for name, m in step.items():
            vs_plain = (f"{plain['wall_ms'] / m['wall_ms']:.2f}x, {plain['cpu_ms'] / m['cpu_ms']:.2f}x"
                        if plain else "-")
            lines.append(f"| {name} | {m['wall_ms']:.1f} | {m['cpu_ms']:.1f} | {vs_plain} | "
                         f"{base['wall_ms'] / m['wall_ms']:.2f}x, {base['cpu_ms'] / m['cpu_ms']:.2f}x |")
        if "pieces" in res:
            lines += ["", "| piece | wall ms | CPU ms |", "|---|---|---|"]
            lines += [f"| {k} | {m['wall_ms']:.1f} | {m['cpu_ms']:.1f} |" for k, m in res["pieces"].items()]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", default=["default", "tuned"], choices=["default", "tuned"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=25, help="T")
    ap.add_argument("--k", type=int, default=4, help="K of TAC and TAC-TP")
    ap.add_argument("--size", type=int, default=28, help="image side (small for smoke tests)")
    ap.add_argument("--channels", type=int, nargs=2, default=[32, 64])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-pin", dest="pin", action="store_false", help="let XLA use every core")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--pieces", action="store_true", help="also time each piece of the baseline step")
    ap.add_argument("--out", default="results/bench_baseline.json")
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if min(args.batch, args.steps, args.k, args.threads, args.reps, args.warmup) < 1 or args.k > args.steps:
        ap.error("--batch, --steps, --k, --threads, --reps, --warmup must be >= 1 and --k <= --steps")
    if args.worker_out:
        Path(args.worker_out).write_text(json.dumps(_worker(args)))
        return

    from tacjax.runtime import tuned_environ

    base = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "XLA_FLAGS")}
    base["PYTHONPATH"] = os.pathsep.join(q for q in (str(ROOT), os.environ.get("PYTHONPATH")) if q)
    envs = {"default": base, "tuned": tuned_environ(base)}
    argv = [a for a in (argv if argv is not None else sys.argv[1:])]
    all_res = {}
    for cfg in args.configs:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "res.json"
            print(f"running config '{cfg}' ...", file=sys.stderr, flush=True)
            cmd = [sys.executable, __file__, *argv, "--worker-out", str(out)]
            subprocess.run(cmd, env=envs[cfg], check=True)
            all_res[cfg] = json.loads(out.read_text())
        if all_res[cfg]["runtime"]["backend"] != "cpu":
            print("not a CPU backend: the CPU configurations do not apply; ran one", file=sys.stderr)
            break
    print(_report(all_res, args))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"args": vars(args), "results": all_res}, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
