"""Benchmark: TAC and TAC-TP against per-frame baselines on a conv + LIF layer.

Workloads (time-major NHWC input, 3x3 SAME conv, LIF with beta 0.9, threshold 1, subtract reset):
  (a) T=16, batch 32, 32x32x2 -> conv 2->32 (the pattern of mlx-snn's own TAC benchmark);
  (b) T=16, batch 128, 14x14x32 -> conv 32->64 (the MNIST network's second layer).
Variants: ``loop`` (T separate conv calls), ``folded`` (T folded into the batch: one call, the strong
baseline), ``tac`` and ``tac_tp`` for each K. Forward, and forward+backward (gradient of a
scalar loss on the spikes with respect to the conv weights and the input).

CPU configuration must be set before JAX starts, so the parent process runs one worker subprocess
per configuration ("default": nothing set; "tuned": tcmalloc preloaded + Eigen convolutions, see
``tacjax.runtime``; on a GPU only the first one runs: both are CPU settings); inside a worker all
variants are timed round-robin (warm-up, then medians of ``--reps`` rounds, ``block_until_ready``).
Speed-ups are ratios measured inside one process.

    python scripts/bench_tac.py                 # both configs, full sizes, JSON to results/
    python scripts/bench_tac.py --quick         # smaller batch and fewer repetitions
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

WORKLOADS = {
    "a": dict(num_steps=16, batch=32, hw=32, cin=2, cout=32, label="32x32x2 -> conv 2->32, B=32"),
    "b": dict(num_steps=16, batch=128, hw=14, cin=32, cout=64, label="14x14x32 -> conv 32->64, B=128"),
}
KS = (1, 2, 4, 8, 16)


def _worker(args) -> dict:
    import jax
    import jax.numpy as jnp

    import tacjax as tj
    from tacjax.runtime import describe

    params = tj.LIFParams(beta=0.9, threshold=1.0, reset="subtract")
    results = {"runtime": describe(), "ks": list(args.ks), "workloads": {}}
    for name in args.workloads:
        cfg = dict(WORKLOADS[name])
        if args.batch:
            cfg["batch"] = args.batch
        t, b, hw, cin, cout = cfg["num_steps"], cfg["batch"], cfg["hw"], cfg["cin"], cfg["cout"]
        kx, kw = jax.random.split(jax.random.key(0))
        x = jax.random.bernoulli(kx, 0.2, (t, b, hw, hw, cin)).astype(jnp.float32)
        w = jax.random.normal(kw, (3, 3, cin, cout)) * (2.0 / (9 * cin)) ** 0.5

        def conv(z, w):
            return jax.lax.conv_general_dilated(z, w, (1, 1), "SAME",
                                                dimension_numbers=("NHWC", "HWIO", "NHWC"))

        def loop(x, w):
            cur = jnp.stack([conv(x[i], w) for i in range(x.shape[0])])
            return tj.lif_scan(cur, params)[0]

        def folded(x, w):
            cur = conv(x.reshape(-1, *x.shape[2:]), w)
            cur = cur.reshape(*x.shape[:2], *cur.shape[1:])
            return tj.lif_scan(cur, params)[0]

        variants = {"loop": loop, "folded": folded}
        for k in args.ks:
            variants[f"tac_k{k}"] = lambda x, w, k=k: tj.tac(x, lambda z: conv(z, w), k, params)[0]
            variants[f"tac_tp_k{k}"] = lambda x, w, k=k: tj.tac_tp(x, lambda z: conv(z, w), k, params)[0]

        fns = {}
        for vname, f in variants.items():
            fns[("fwd", vname)] = jax.jit(f)
            fns[("fwd_bwd", vname)] = jax.jit(jax.grad(lambda w, x, f=f: jnp.sum(f(x, w)), argnums=(0, 1)))
        times: dict = {key: [] for key in fns}
        for key, fn in fns.items():  # compile + warm-up
            for _ in range(args.warmup):
                jax.block_until_ready(fn(x, w) if key[0] == "fwd" else fn(w, x))
        for _ in range(args.reps):  # round-robin, so drifts in machine load hit all variants alike
            for key, fn in fns.items():
                t0 = time.perf_counter()
                jax.block_until_ready(fn(x, w) if key[0] == "fwd" else fn(w, x))
                times[key].append(time.perf_counter() - t0)
        med = {f"{p}/{v}": 1e3 * statistics.median(ts) for (p, v), ts in times.items()}
        results["workloads"][name] = {"config": cfg, "median_ms": med}
        print(f"  [{results['runtime']['config']}] workload {name} done", file=sys.stderr, flush=True)
    return results


def _table(res: dict, name: str) -> str:
    med = res["workloads"][name]["median_ms"]
    lines = ["| pass | K | loop ms | folded ms | TAC ms | TAC-TP ms | TAC vs folded | TAC-TP vs folded "
             "| TAC vs loop | TAC-TP vs loop |", "|" + "---|" * 10]
    for p in ("fwd", "fwd_bwd"):
        lo, fo = med[f"{p}/loop"], med[f"{p}/folded"]
        for k in res["ks"]:
            ta, tp = med[f"{p}/tac_k{k}"], med[f"{p}/tac_tp_k{k}"]
            lines.append(f"| {p} | {k} | {lo:.1f} | {fo:.1f} | {ta:.1f} | {tp:.1f} | {fo / ta:.2f}x "
                         f"| {fo / tp:.2f}x | {lo / ta:.2f}x | {lo / tp:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", default=["default", "tuned"], choices=["default", "tuned"])
    ap.add_argument("--workloads", nargs="+", default=["a", "b"], choices=sorted(WORKLOADS))
    ap.add_argument("--ks", type=int, nargs="+", default=list(KS), help="chunk lengths K to time")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=0, help="override the batch size of every workload")
    ap.add_argument("--quick", action="store_true", help="batch 16, 3 repetitions, 1 warm-up")
    ap.add_argument("--out", default="results/bench_tac.json")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.batch, args.reps, args.warmup = args.batch or 16, 3, 1

    if args.worker:
        Path(args.worker_out).write_text(json.dumps(_worker(args)))
        return

    from tacjax.runtime import tuned_environ

    base = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "XLA_FLAGS")}
    envs = {"default": base, "tuned": tuned_environ(base)}
    all_res = {}
    for cfg in args.configs:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = f.name
        cmd = [sys.executable, __file__, "--worker", "--worker-out", out, "--reps", str(args.reps),
               "--warmup", str(args.warmup), "--batch", str(args.batch), "--workloads", *args.workloads,
               "--ks", *map(str, args.ks)]
        print(f"running config '{cfg}' ...", file=sys.stderr, flush=True)
        subprocess.run(cmd, env=envs[cfg], check=True)
        all_res[cfg] = json.loads(Path(out).read_text())
        os.unlink(out)
        backend = all_res[cfg]["runtime"]["backend"]
        if backend != "cpu":  # the tuned settings are CPU-only: a second configuration would repeat this one
            print(f"backend {backend}: CPU configurations do not apply; ran '{cfg}' only", file=sys.stderr)
            break

    for cfg, res in all_res.items():
        rt = res["runtime"]
        print(f"\n## config: {cfg}  (tcmalloc={rt['tcmalloc']}, eigen_conv={rt['eigen_conv']}, "
              f"jax {rt['jax']}, backend {rt['backend']}, {rt['cpu_count']} CPUs)")
        for name in args.workloads:
            cfg_w = res["workloads"][name]["config"]
            print(f"\n### workload ({name}): T={cfg_w['num_steps']}, {cfg_w['label']}"
                  f"{' (batch overridden: ' + str(cfg_w['batch']) + ')' if args.batch else ''}\n")
            print(_table(res, name))
    if {"default", "tuned"} <= set(all_res):
        print("\n## tuned vs default (same variant, ratio of medians from two processes)\n")
        for name in args.workloads:
            d = all_res["default"]["workloads"][name]["median_ms"]
            t = all_res["tuned"]["workloads"][name]["median_ms"]
            print(f"workload {name}: folded fwd {d['fwd/folded'] / t['fwd/folded']:.2f}x, "
                  f"folded fwd+bwd {d['fwd_bwd/folded'] / t['fwd_bwd/folded']:.2f}x faster when tuned")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(all_res, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
