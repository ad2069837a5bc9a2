"""The sparsity-illusion study: every sparse strategy of ``tacjax.sparse`` timed against dense conv.

Layers of the MNIST network at T = 16 (time folded into the batch, forward only):
conv1 ``[T*B, 28, 28, 1] * [3, 3, 1, 32]``, conv2 ``[T*B, 14, 14, 32] * [3, 3, 32, 64]``,
fc ``[T*B, 3136] @ [3136, 10]`` (the 1x1 case, ``tacjax.sparse.as_fc``).

1. Synthetic sweep: densities 0.5..50 %, patterns "iid" (Bernoulli), "channels" (a fraction 2d of
   channels active at rate 0.5, the rest silent) and "timesteps" (a fraction 2d of timesteps active
   at rate 0.5). Capacity-based strategies get the exact count as capacity (an oracle in their
   favour). "product" is timed on execution only (its host prefix plan is timed separately).
   All strategies of one case run round-robin in one process; medians; ratios to dense.
2. A small MNISTNet (tacjax.models) trained for a few minutes: real per-layer input densities,
   the non-zero density of TAC's aggregated inputs, strategies timed on the recorded spikes, bit
   and product density (Prosperity's definitions) per layer, and of Prosperity's own dumps.
3. Cost models (tacjax.cost) for baseline / TAC / TAC-TP with the measured rates.

Outputs in ``--out`` (default results/sparse/): ``sparse.json``, ``sparse.md``, ``sparse.png``.

    python -m tacjax.runtime --exec scripts/bench_sparse.py          # tuned CPU config
    python scripts/bench_sparse.py --quick
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from sparse_report import PATTERNS, _pct, plot, write_markdown

DENSITIES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
LAYERS = {  # name: (H, W, C, O, kernel); fc has H = W = kernel = 1
    "conv1": (28, 28, 1, 32, 3),
    "conv2": (14, 14, 32, 64, 3),
    "fc": (1, 1, 3136, 10, 1),
}
ORDER = ("dense", "im2col", "event", "bcoo", "bcsr", "bitpack", "tiles", "product")


def make_spikes(rng, t, b, layer, density, pattern):
    """Binary ``[T*B, H, W, C]`` spikes with mean ``density`` and the given structure."""
    h, w, c, _, _ = LAYERS[layer]
    shape = (t, b, h, w, c)
    if pattern == "iid":
        x = rng.random(shape) < density
    else:
        frac = min(1.0, 2 * density)
        rate = density / frac
        axis_len = c if pattern == "channels" else t
        n_on = max(1, round(frac * axis_len))
        on = np.zeros(axis_len, bool)
        on[rng.choice(axis_len, n_on, replace=False)] = True
        rate = density * axis_len / n_on
        mask = on[None, None, None, None, :] if pattern == "channels" else on[:, None, None, None, None]
        x = (rng.random(shape) < min(rate, 1.0)) & mask
    return x.reshape(t * b, h, w, c).astype(np.float32)


def _capacity(name, x, k):
    from tacjax.sparse import patches

    if name == "event":
        return max(int(x.sum()), 1)
    p = np.asarray(patches(x, k, k)).reshape(-1, k * k * x.shape[-1])
    if name in ("bcoo", "bcsr"):
        return max(int((p != 0).sum()), 1)
    from tacjax.sparse.tiles import DEFAULT_TILE

    tm, tk = DEFAULT_TILE
    m, kk = p.shape
    pp = np.pad(p, ((0, -m % tm), (0, -kk % tk)))
    return max(int(pp.reshape(pp.shape[0] // tm, tm, -1, tk).any(axis=(1, 3)).sum()), 1)


def build_fns(x, w, num_steps, strategies):
    """Jitted callables ``f(x, w)`` per strategy (product: plan built here, execution jitted)."""
    import jax

    from tacjax.sparse import (
        STRATEGIES,
        WITH_CAPACITY,
        gemm_weights,
        im2col,
        plan_arrays,
        product_plan,
        run_plan,
    )

    k = w.shape[0]
    fns, extra = {}, {}
    for name in strategies:
        if name == "product":
            t0 = time.perf_counter()
            n, h, wd, c = x.shape
            s = np.asarray(im2col(x.reshape(num_steps, n // num_steps, h, wd, c), k, 1, "SAME"))
            plan = product_plan(s)
            extra["product_plan_s"] = time.perf_counter() - t0
            arrays, kt, m = plan_arrays(plan), plan.prefix.shape[0], plan.shape[0]
            # execution only: weights and plan are arguments, the spikes are already in the plan
            run = jax.jit(lambda ww, a, kt=kt, m=m: run_plan(gemm_weights(ww), a, kt=kt, m=m))
            fns[name] = lambda xx, ww, run=run, a=arrays: run(ww, a)
            continue
        kw = {"capacity": _capacity(name, x, k), "overflow": "dense"} if name in WITH_CAPACITY else {}
        f = STRATEGIES[name]
        fns[name] = jax.jit(lambda xx, ww, f=f, kw=kw: f(xx, ww, stride=1, padding="SAME", **kw))
    return fns, extra


def time_case(x, w, num_steps, strategies, reps):
    """Median seconds per strategy (round-robin after warm-up) and dense ratios."""
    import jax

    xj, wj = jax.device_put(x), jax.device_put(w)
    fns, extra = build_fns(x, w, num_steps, strategies)
    for f in fns.values():  # compile + warm-up
        jax.block_until_ready(f(xj, wj))
        jax.block_until_ready(f(xj, wj))
    times = {n: [] for n in fns}
    for _ in range(reps):
        for n, f in fns.items():
            t0 = time.perf_counter()
            jax.block_until_ready(f(xj, wj))
            times[n].append(time.perf_counter() - t0)
    med = {n: statistics.median(v) for n, v in times.items()}
    return {"median_s": med, "ratio": {n: med[n] / med["dense"] for n in med}, **extra}


def train_mnist(args, t):
    """Train a small baseline MNISTNet for a budget of samples; return (model, test images, acc)."""
    from flax import nnx

    from tacjax.data.mnist import load_mnist
    from tacjax.models import MNISTNet
    from tacjax.train import fit, rate_encoder

    xtr, ytr = load_mnist("train", args.data_dir, download=False)
    xte, yte = load_mnist("test", args.data_dir, download=False)
    n = args.train_samples
    model = MNISTNet(rngs=nnx.Rngs(0))
    t0 = time.perf_counter()
    # membrane loss at 2e-3: the spike-count loss barely learned in this budget (about chance level)
    hist = fit(model, (xtr[:n, ..., None], ytr[:n]), (xte[:1000, ..., None], yte[:1000]),
               encoder=rate_encoder(t), epochs=1, batch_size=64, progress=False, loss="membrane",
               learning_rate=2e-3)
    return model, xte, float(hist[-1]["test_accuracy"]), time.perf_counter() - t0


def real_section(args, t, b, strategies, reps):
    """Densities, aggregated densities, strategy timings and product density on real spikes."""
    import jax
    import jax.numpy as jnp

    from tacjax import aggregate, rate
    from tacjax.sparse import bit_density, im2col, product_density

    model, xte, acc, secs = train_mnist(args, t)
    imgs = jnp.asarray(xte[:b, ..., None], jnp.float32) / 255.0
    x = rate(jax.random.key(1), imgs, t)
    stats = model(x, return_stats=True).stats
    ins = {"conv1": stats["input"], "conv2": stats["conv1"], "fc": stats["conv2"].reshape(t, b, 1, 1, -1)}
    out = {"train": {"samples": args.train_samples, "seconds": secs, "test_accuracy_1k": acc}, "layers": {}}
    r = np.random.default_rng(0)
    mats, ns = [], []
    for name, s in ins.items():
        s = np.asarray(s)
        hwco = LAYERS[name]
        agg = {k: float(jnp.mean(aggregate(jnp.asarray(s), k) != 0)) for k in (2, 4, 8, 16)}
        w = (r.normal(size=(hwco[4], hwco[4], hwco[2], hwco[3])) * 0.1).astype(np.float32)
        timing = time_case(s.reshape(t * b, *s.shape[2:]), w, t, strategies, reps)
        g = np.asarray(im2col(s, hwco[4], 1, "SAME")) != 0
        mats.append(g)
        ns.append(hwco[3])
        out["layers"][name] = {"density": float(s.mean()), "agg_nonzero_density": agg, "timing": timing,
                               "bit_density": bit_density(g, hwco[3]),
                               "product_density": product_density(g, hwco[3])}
    out["network"] = {"bit_density": bit_density(mats, ns), "product_density": product_density(mats, ns)}
    return out


def prosperity_section(folder):
    from tacjax.sparse import bit_density, im2col, product_density

    res = {}
    geo = {"lenet5_mnist_spikes.npz": {"conv2d_1": (5, 0, 16), "fc_0": 120, "fc_1": 84},
           "vgg9_cifar10_spikes.npz": {"conv2d_1": (3, 1, 64), "conv2d_2": (3, 1, 128),
                                       "conv2d_3": (3, 1, 128), "conv2d_4": (3, 1, 256),
                                       "conv2d_5": (3, 1, 256), "fc_0": 1024}}
    for fname, layers in geo.items():
        path = Path(folder) / fname
        if not path.exists():
            continue
        d = np.load(path)
        mats, ns, per = [], [], {}
        for lname, g in layers.items():
            if isinstance(g, tuple):
                s = np.asarray(im2col(d[lname].transpose(0, 2, 3, 1), g[0], 1, g[1])) != 0
                n = g[2]
            else:
                s, n = d[lname], g
            mats.append(s)
            ns.append(n)
            per[lname] = {"bit": bit_density(s, n), "product": product_density(s, n)}
        res[fname] = {"layers": per, "bit_density": bit_density(mats, ns),
                      "product_density": product_density(mats, ns)}
    return res


def cost_section(rates, t):
    from tacjax.cost import (
        SpikeSimConstants,
        mnist_specs,
        naive_energy,
        sata_energy,
        sata_terms,
        spikesim_energy,
    )

    variants = {"baseline": (("baseline", "baseline"), (1, 1))}
    for k in (2, 4, 8):
        variants[f"tac K={k}"] = (("tac", "baseline"), (k, 1))
        variants[f"tac_tp K={k}"] = (("tac_tp", "baseline"), (k, 1))
    out = {}
    for name, (modes, ks) in variants.items():
        specs = mnist_specs(t, modes, ks, rates)
        terms = [sata_terms(sp) for sp in specs]
        split = {key: sum(t_[key] for t_ in terms) for key in terms[0]}
        out[name] = {"naive_pJ": naive_energy(specs)["total"], "sata": sata_energy(specs)["total"],
                     "sata_split": split, "ann_naive_pJ": 4.6 * sum(sp.flops for sp in specs),
                     "spikesim_pJ": spikesim_energy(specs)["total"],
                     "spikesim_parallel_dac_pJ":
                         spikesim_energy(specs, SpikeSimConstants(bit_serial=False))["total"]}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 densities, 2 patterns, few repetitions")
    ap.add_argument("--out", default="results/sparse")
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--data-dir", default=None,
                    help="MNIST IDX folder (else tacjax.data's search: $TACJAX_DATA, cache, download)")
    ap.add_argument("--prosperity-dir", default=None,
                    help="folder with Prosperity's spike dumps (lenet5_mnist_spikes.npz, ...)")
    ap.add_argument("--densities", type=float, nargs="+", default=None, help="override the sweep")
    ap.add_argument("--layers", nargs="+", default=None, choices=sorted(LAYERS), help="override the sweep")
    ap.add_argument("--train-samples", type=int, default=None)
    ap.add_argument("--no-real", action="store_true", help="skip the trained network")
    ap.add_argument("--from-json", default=None, help="only rewrite the Markdown and plot from a sparse.json")
    ap.add_argument("--reuse-sweep", default=None,
                    help="take the synthetic sweep from this sparse.json instead of measuring it again")
    args = ap.parse_args()
    if args.from_json:
        res_json = json.loads(Path(args.from_json).read_text())
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_markdown(res_json, out / "sparse.md")
        plot(res_json, out / "sparse.png")
        print((out / "sparse.md").read_text())
        return
    import jax

    from tacjax.runtime import describe

    rt = describe()
    print("runtime:", json.dumps(rt))
    t, b = args.steps, args.batch
    dens = args.densities or ((0.01, 0.1, 0.5) if args.quick else DENSITIES)
    pats = ("iid", "timesteps") if args.quick else PATTERNS
    reps = args.reps or (3 if args.quick else 7)
    args.train_samples = args.train_samples or (640 if args.quick else 6400)
    strategies = list(ORDER)
    res = {"runtime": rt, "num_steps": t, "batch": b, "reps": reps, "strategies": strategies, "sweep": {}}
    rng = np.random.default_rng(0)
    t_all = time.perf_counter()
    if args.reuse_sweep:
        old = json.loads(Path(args.reuse_sweep).read_text())
        res["sweep"], res["sweep_runtime"] = old["sweep"], old["runtime"]
        print(f"sweep taken from {args.reuse_sweep}")
    layers = {} if args.reuse_sweep else {n: g for n, g in LAYERS.items() if n in (args.layers or LAYERS)}
    for layer, (_, _, c, o, k) in layers.items():
        wts = (rng.normal(size=(k, k, c, o)) * 0.1).astype(np.float32)
        res["sweep"][layer] = {}
        for pat in pats:
            if pat == "channels" and c == 1:
                continue  # one input channel: "channels silent" is the empty input
            rows = {}
            for d in dens:
                x = make_spikes(rng, t, b, layer, d, pat)
                rows[d] = time_case(x, wts, t, strategies, reps)
                rows[d]["measured_density"] = float(x.mean())
                dms = 1e3 * rows[d]["median_s"]["dense"]
                print(f"{layer:5s} {pat:9s} {_pct(d):>5s} dense {dms:7.2f} ms | "
                      + " ".join(f"{s} {rows[d]['ratio'][s]:.2f}" for s in strategies[1:]), flush=True)
            res["sweep"][layer][pat] = rows
        jax.clear_caches()
    print(f"sweep done in {time.perf_counter() - t_all:.0f} s", flush=True)
    if not args.no_real:
        try:
            res["real"] = real_section(args, t, b, strategies, reps)
        except FileNotFoundError as e:
            print(f"no MNIST found, skipping the trained-network part (pass --data-dir):\n{e}")
            args.no_real = True
    if not args.no_real:
        lay = res["real"]["layers"]
        rates = {name: lay[name]["density"] for name in ("conv1", "conv2", "fc")}
        res["cost"] = {}
        for k in (1, 2, 4, 8):
            agg = lay["conv1"]["agg_nonzero_density"][k] if k > 1 else 0.0
            c = cost_section({**rates, "conv1_agg": agg}, t)
            for name, v in c.items():
                if name == "baseline" or name.endswith(f"K={k}"):
                    res["cost"][name] = v
    res["prosperity"] = prosperity_section(args.prosperity_dir) if args.prosperity_dir else {}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res_json = json.loads(json.dumps(res, default=float))
    (out / "sparse.json").write_text(json.dumps(res_json, indent=1))
    write_markdown(res_json, out / "sparse.md")
    plot(res_json, out / "sparse.png")
    print((out / "sparse.md").read_text())
    print(f"wrote {out}/sparse.json, sparse.md, sparse.png in {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()
