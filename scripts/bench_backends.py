"""TAC layer benchmark in JAX and MLX, in one process: milliseconds per backend, mode and K.

Workloads (NHWC, time-major, binary input spikes at rate 0.2):
  (a) T=16, batch 32, 32x32x2 input, conv 2->32 3x3 'SAME' + LIF   (the paper's benchmark layer)
  (b) T=16, batch 128, 14x14x32 input, conv 32->64 3x3 'SAME' + LIF (a second conv layer)
Modes: "baseline" (T folded into the batch: one conv over T*B frames, then the LIF over T),
"tac" and "tac_tp" for K in {1, 2, 4, 8, 16}. Forward only by default; ``--backward`` also
times forward+backward (gradient of a spike-weighted sum w.r.t. the kernel).

Timing: ``--warmup`` untimed calls, then ``--reps`` timed calls; the median is reported. JAX
functions are ``jax.jit``-ed and timed with ``block_until_ready``; MLX functions are timed
with ``mx.eval`` (eager, or ``mx.compile``-d with ``--mlx-compile``).

MLX on Linux (``mlx[cpu]``) links a reference BLAS by default, which makes its convolutions
slow; preloading OpenBLAS replaces it. The script reports which BLAS is mapped into the
process (read from /proc/self/maps). Compare both in two runs, e.g.::

    python scripts/bench_backends.py --json out_ref.json
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 \
        python scripts/bench_backends.py --json out_openblas.json

``--batch-a``/``--batch-b`` shrink the workloads, ``--workloads a`` runs one of them,
``--backends jax`` skips MLX.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

WORKLOADS = {  # name: (H, W, C_in, C_out)
    "a": (32, 32, 2, 32),
    "b": (14, 14, 32, 64),
}


def blas_in_use() -> dict:
    """Which BLAS libraries are mapped into this process (call after MLX ran a matmul)."""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if ".so" in line})
    except OSError:
        return {"openblas_loaded": None, "blas_libs": []}
    blas = [p for p in libs if "blas" in os.path.basename(p).lower()]
    # NumPy's bundled libscipy_openblas64_ uses prefixed symbols and does not serve MLX; only a
    # plain libopenblas.so (preloaded, or linked) replaces MLX's bundled reference libblas.
    return {"openblas_loaded": any(os.path.basename(p).startswith("libopenblas") for p in blas),
            "blas_libs": blas, "ld_preload": os.environ.get("LD_PRELOAD", "")}


def _median_ms(fn, warmup: int, reps: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def jax_runner(mode: str, k: int, x: np.ndarray, w: np.ndarray, backward: bool):
    """A no-argument callable that runs the layer once in JAX and blocks until done."""
    import jax
    import jax.numpy as jnp

    import tacjax

    xj, wj = jnp.asarray(x), jnp.asarray(w)
    params = tacjax.LIFParams()

    def layer(x, w):
        def op(z):
            return jax.lax.conv_general_dilated(z, w, (1, 1), "SAME",
                                                dimension_numbers=("NHWC", "HWIO", "NHWC"))
        if mode == "baseline":
            t, b = x.shape[:2]
            cur = op(x.reshape(t * b, *x.shape[2:]))
            return tacjax.lif_scan(cur.reshape(t, b, *cur.shape[1:]), params)[0]
        return getattr(tacjax, mode)(x, op, k, params)[0]

    if backward:
        f = jax.jit(jax.grad(lambda w, x: jnp.sum(layer(x, w) * 0.01)))
        return lambda: jax.block_until_ready(f(wj, xj))
    f = jax.jit(layer)
    return lambda: jax.block_until_ready(f(xj, wj))


def mlx_runner(mode: str, k: int, x: np.ndarray, w: np.ndarray, backward: bool, compile_: bool):
    """A no-argument callable that runs the layer once in MLX and evaluates the result."""
    import mlx.core as mx

    import tacjax.mlx as tm
    from tacjax.mlx.convert import hwio_to_ohwi

    xm, wm = mx.array(x), hwio_to_ohwi(w)
    params = tm.LIFParams()
    pad = w.shape[0] // 2

    def layer(x, w):
        def op(z):
            return mx.conv2d(z, w, padding=pad)
        if mode == "baseline":
            t, b = x.shape[:2]
            cur = op(x.reshape(t * b, *x.shape[2:]))
            return tm.lif_scan(cur.reshape(t, b, *cur.shape[1:]), params)[0]
        return getattr(tm, mode)(x, op, k, params)[0]

    f = mx.grad(lambda w, x: mx.sum(layer(x, w) * 0.01)) if backward else layer
    if compile_:
        f = mx.compile(f)
    if backward:
        return lambda: mx.eval(f(wm, xm))
    return lambda: mx.eval(f(xm, wm))


def run(args) -> dict:
    rng = np.random.default_rng(0)
    rows = []
    for wl in args.workloads:
        h, wd, ci, co = WORKLOADS[wl]
        batch = args.batch_a if wl == "a" else args.batch_b
        x = (rng.random((args.T, batch, h, wd, ci)) < 0.2).astype(np.float32)
        bound = 1.0 / np.sqrt(9 * ci)
        w = rng.uniform(-bound, bound, (3, 3, ci, co)).astype(np.float32) * 4.0
        configs = [("baseline", 1)] + [(m, k) for m in ("tac", "tac_tp") for k in args.ks if k <= args.T]
        for passes in (["forward", "forward+backward"] if args.backward else ["forward"]):
            for backend in args.backends:
                for mode, k in configs:
                    bwd = passes != "forward"
                    if backend == "jax":
                        fn = jax_runner(mode, k, x, w, bwd)
                    else:
                        fn = mlx_runner(mode, k, x, w, bwd, args.mlx_compile)
                    ms = _median_ms(fn, args.warmup, args.reps)
                    rows.append(dict(workload=wl, batch=batch, passes=passes, backend=backend,
                                     mode=mode, k=None if mode == "baseline" else k, ms=ms))
                    print(f"  {wl} b={batch} {passes:16s} {backend:4s} {mode:8s} "
                          f"K={'-' if mode == 'baseline' else k:>2}  {ms:9.2f} ms", file=sys.stderr)
    return {"rows": rows}


def table(rows, ks) -> str:
    """Markdown table: one line per (workload, passes, backend, mode), K across."""
    head = "| workload | batch | passes | backend | mode | " + " | ".join(f"K={k}" for k in ks) + " |"
    lines = [head, "|" + "---|" * (5 + len(ks))]
    keys = []
    for r in rows:
        key = (r["workload"], r["batch"], r["passes"], r["backend"], r["mode"])
        if key not in keys:
            keys.append(key)
    for key in keys:
        cells = []
        for k in ks:
            hit = [r["ms"] for r in rows
                   if (r["workload"], r["batch"], r["passes"], r["backend"], r["mode"]) == key
                   and (r["k"] == k or (r["mode"] == "baseline" and k == ks[0]))]
            cells.append(f"{hit[0]:.1f}" if hit else "")
        lines.append("| " + " | ".join(str(v) for v in key) + " | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workloads", nargs="+", choices=sorted(WORKLOADS), default=["a", "b"])
    p.add_argument("--backends", nargs="+", choices=["jax", "mlx"], default=["jax", "mlx"])
    p.add_argument("--ks", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    p.add_argument("--T", type=int, default=16)
    p.add_argument("--batch-a", type=int, default=32)
    p.add_argument("--batch-b", type=int, default=128)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--backward", action="store_true", help="also time forward+backward")
    p.add_argument("--mlx-compile", action="store_true", help="wrap the MLX layer in mx.compile")
    p.add_argument("--json", help="write the results (and the environment) to this file")
    args = p.parse_args(argv)

    env = {"argv": sys.argv[1:], "cpu_count": os.cpu_count()}
    if "jax" in args.backends:
        import tacjax.runtime

        env["jax"] = tacjax.runtime.describe()
    if "mlx" in args.backends:
        import mlx.core as mx

        mx.eval(mx.ones((8, 8)) @ mx.ones((8, 8)))  # load the BLAS before looking for it
        env["mlx"] = {"version": mx.__version__, "device": str(mx.default_device()),
                      "compiled": args.mlx_compile, **blas_in_use()}
        from tacjax.runtime import find_openblas

        env["mlx"]["openblas_installed"] = find_openblas()
    result = {"env": env, **run(args)}
    blas = env.get("mlx", {})
    note = ("OpenBLAS" if blas.get("openblas_loaded") else "default (bundled reference BLAS)") \
        if blas else "n/a"
    print(f"\nMLX BLAS: {note}; JAX config: {env.get('jax', {}).get('config', 'n/a')}; "
          f"times are medians of {args.reps} runs in ms\n")
    print(table(result["rows"], args.ks))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
