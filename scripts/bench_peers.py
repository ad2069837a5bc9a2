"""Benchmark: tacjax against plain JAX, snnTorch, SpikingJelly and spyx, forward+backward per step.

Workloads (LIF beta 0.9, threshold 1, subtract reset in the same step):
  on     the Open Neuromorphic workload: a dense layer of N inputs and N outputs, LIF, B = 16, T = 500;
         loss = sum of the output spikes, gradient with respect to the weights (``--n``, several allowed).
  mnist  one training step of the MNIST conv SNN (T = 25, B = 128): conv 1->32 3x3 SAME, LIF, 2x2
         max-pool of the spikes, conv 32->64, LIF, pool, dense 3136->10, LIF readout; cross-entropy on
         the time-mean of the readout membrane; one Adam step (``--mnist-batch``, several allowed).
tacjax runs as baseline, TAC (K) and TAC-TP (K); snnTorch, SpikingJelly and spyx run when installed
(``pip install 'tacjax[peers]'``) and are skipped with the reason otherwise. Every library starts from the
same inputs and weights (``scripts/peers/reference.py``).

Each library and workload runs in its own worker process, all with the same environment: ``--threads``
threads (each process pinned to that many cores, ``tacjax.runtime.pin_threads``, which is what limits
XLA; ``OMP_NUM_THREADS`` and ``torch.set_num_threads`` for PyTorch), tcmalloc preloaded when installed,
and on the CPU the tuned XLA flag. The first worker of each library also checks its spikes against a
NumPy loop of the rule the library documents. Timing: warm-up, then
``--repeats`` timed steps, each synchronised (``block_until_ready``, ``torch.cuda.synchronize``);
``--rounds`` R repeats the whole sequence of processes R times and pools their steps, so that a drift
in machine load hits every library alike; medians with min/max and quartiles; peak RSS per process
and XLA's ``memory_analysis()`` for JAX.

    python scripts/bench_peers.py                               # N = 1024, MNIST B = 128, 1 thread
    python scripts/bench_peers.py --rounds 3                    # interleave 3 processes per row
    python scripts/bench_peers.py --n 4096 16384 --mnist-batch 128 512 --no-pin   # GPU sizes
Output: a Markdown table on stdout and ``peers.md``, ``peers.json``, ``peers.png`` in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALL_LIBS = ("tacjax", "jax", "snntorch", "spikingjelly", "spyx")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--libs", nargs="+", default=list(ALL_LIBS), choices=ALL_LIBS)
    ap.add_argument("--variants", nargs="+", default=["baseline", "tac", "tac_tp"],
                    choices=["baseline", "tac", "tac_tp"], help="tacjax variants")
    ap.add_argument("--workloads", nargs="+", default=["on", "mnist"], choices=["on", "mnist"])
    ap.add_argument("--n", type=int, nargs="+", default=[1024], help="Open Neuromorphic layer widths N")
    ap.add_argument("--on-batch", type=int, default=16)
    ap.add_argument("--on-steps", type=int, default=500)
    ap.add_argument("--mnist-batch", type=int, nargs="+", default=[128])
    ap.add_argument("--mnist-steps", type=int, default=25, help="T of the MNIST step")
    ap.add_argument("--k", type=int, default=5, help="K of tacjax's TAC and TAC-TP variants")
    ap.add_argument("--mnist-size", type=int, default=28, help="image side (small for smoke tests)")
    ap.add_argument("--mnist-channels", type=int, nargs=2, default=[32, 64])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="do not pin each worker to --threads cores (then XLA uses every core)")
    ap.add_argument("--no-tcmalloc", action="store_true", help="do not preload tcmalloc")
    ap.add_argument("--no-tuned-flag", action="store_true", help="leave out the tuned XLA CPU flag")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5, help="timed steps per worker process")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run every worker this many times, interleaved, and pool their timed steps")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per worker process")
    ap.add_argument("--python", default=sys.executable, help="interpreter of the worker processes")
    ap.add_argument("--out", default="results/peers")
    ap.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if min(args.k, args.threads, args.repeats, args.warmup, args.rounds) < 1:
        ap.error("--k, --threads, --repeats, --warmup and --rounds must be >= 1")
    if args.pin and args.threads > len(os.sched_getaffinity(0)):
        ap.error(f"--threads {args.threads} exceeds the {len(os.sched_getaffinity(0))} CPUs available; "
                 "lower it or pass --no-pin")
    if "mnist" in args.workloads and args.k > args.mnist_steps:
        ap.error(f"--k {args.k} exceeds --mnist-steps {args.mnist_steps}")
    return args


def worker_environ(args, backend: str | None) -> dict:
    """The one environment of every worker (see the module docstring)."""
    from tacjax.runtime import thread_environ, tuned_environ

    base = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "XLA_FLAGS")}
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = thread_environ(args.threads, base)
    return tuned_environ(env, tcmalloc=not args.no_tcmalloc,
                         eigen_conv=backend == "cpu" and not args.no_tuned_flag)


def run_one(spec: dict, args, env: dict) -> dict:
    """One worker process (pinned from its start); its record, or a failure record with its stderr's tail."""
    from tacjax.runtime import pin_threads

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rec.json"
        cmd = [args.python, str(Path(__file__).resolve()), "--worker", json.dumps(spec), str(out)]
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout,
                                  preexec_fn=(lambda: pin_threads(args.threads)) if args.pin else None)
        except subprocess.TimeoutExpired:
            return {**spec, "status": "failed", "reason": f"timed out after {args.timeout:.0f} s"}
        if proc.returncode != 0 or not out.exists():
            tail = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
            return {**spec, "status": "failed", "reason": tail[0][-300:], "stderr": proc.stderr[-4000:]}
        return json.loads(out.read_text())


def plan(args) -> dict[str, list[dict]]:
    """Workload name -> worker specs (tacjax's variants from ``--variants``, one run for the others)."""
    common = dict(threads=args.threads, k=args.k, warmup=args.warmup, repeats=args.repeats)
    shapes = {}
    if "on" in args.workloads:
        for n in args.n:
            shapes[f"Linear+LIF N={n}, B={args.on_batch}, T={args.on_steps}"] = dict(
                task="on", n=n, batch=args.on_batch, steps=args.on_steps)
    if "mnist" in args.workloads:
        for b in args.mnist_batch:
            shapes[f"MNIST conv SNN train step, B={b}, T={args.mnist_steps}"] = dict(
                task="mnist", batch=b, steps=args.mnist_steps, size=args.mnist_size,
                channels=list(args.mnist_channels))
    return {name: [dict(common, lib=lib, variant=v, **shape) for lib in args.libs
                   for v in (args.variants if lib == "tacjax" else ["default"])]
            for name, shape in shapes.items()}


def run_all(args, env: dict, save) -> tuple[dict, dict]:
    """Run every worker, ``--rounds`` times in the same order; the first worker of each library also
    checks its spike semantics. ``save(checks, workloads)`` is called after every worker, so that a run
    stopped early leaves what it measured.

    Returns ``(checks, workloads)``: library -> its checking record (with ``semantics``, or the reason it
    was skipped), and workload name -> one record per run, merged over the rounds.
    """
    specs = plan(args)
    checks, records = {}, {name: [[] for _ in group] for name, group in specs.items()}
    for _ in range(args.rounds):
        for name, group in specs.items():
            for spec, recs in zip(group, records[name], strict=True):
                lib = spec["lib"]
                if checks.get(lib, {}).get("status") == "unavailable":
                    continue
                need = "semantics" not in checks.get(lib, {})
                rec = run_one(dict(spec, check=need), args, env)
                if need and (lib not in checks or "semantics" in rec):
                    checks[lib] = rec
                    sem = rec.get("semantics")
                    note = (f"rule {sem['rule']}: {'pass' if sem['pass'] else 'FAIL'}" if sem
                            else f"skipped: {rec.get('reason')}")
                    print(f"  {lib}: {note}", file=sys.stderr, flush=True)
                if rec.get("status") != "unavailable":
                    recs.append(rec)
                    ms = f"{rec['ms']['median']:.1f} ms" if rec.get("status") == "ok" else rec.get("reason")
                    print(f"  {name} | {rec.get('label', lib)} {rec.get('variant')}: {ms}", file=sys.stderr,
                          flush=True)
                save(checks, merged(records))
    return checks, merged(records)


def merged(records: dict) -> dict:
    """Workload name -> one record per run that has any, merged over the rounds."""
    from peers.harness import merge_rounds

    return {name: [merge_rounds(r) for r in recs if r] for name, recs in records.items()}


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        sys.path.insert(0, str(ROOT / "scripts"))
        from peers.harness import run_worker

        Path(args.worker[1]).write_text(json.dumps(run_worker(json.loads(args.worker[0]))))
        return

    from peers import report

    from tacjax.runtime import probe

    backend = probe(worker_environ(args, None), args.python)["backend"]
    env = worker_environ(args, backend)
    print(f"backend {backend}, {args.threads} thread(s), XLA_FLAGS={env.get('XLA_FLAGS', '')!r}, "
          f"LD_PRELOAD={env.get('LD_PRELOAD', '')!r}", file=sys.stderr)
    config = {k: v for k, v in vars(args).items() if k != "worker"}
    config.update(backend=backend, xla_flags=env.get("XLA_FLAGS", ""), ld_preload=env.get("LD_PRELOAD", ""))

    def result(checks, workloads, complete):
        runtime = next((r["runtime"] for r in checks.values() if "jax" in r.get("runtime", {})), {})
        return {"config": {**config, "runtime": runtime}, "complete": complete, "checks": checks,
                "workloads": workloads}

    checks, workloads = run_all(args, env, lambda c, w: report.write(result(c, w, False), Path(args.out),
                                                                      plot=False))
    final = result(checks, workloads, True)
    paths = report.write(final, Path(args.out))
    print(report.markdown(final))
    print("wrote " + ", ".join(map(str, paths)), file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
