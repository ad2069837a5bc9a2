"""The collapse-or-preserve study: baseline vs TAC (grid of K) vs TAC-TP, trained and timed in one run.

For every data set and configuration it trains a fresh network (same init seed), then records
test accuracy, training time per epoch (compilation excluded), inference time per sample
(a full pass over the test set, compilation excluded), conv calls per sample and per-layer
spike rates. Writes ``results.md``, ``results.json``, per-run metrics (JSON/CSV) and plots
(accuracy vs K, speed-up vs K, one sample's spike raster) into ``--out``.

Configurations (per data set): ``baseline`` (every conv layer one call per frame);
``tac_K{K}`` (the first conv collapses K frames, so the whole network runs ``T/K`` steps:
``modes=("tac", "tac", ...)``, ``ks=(K, 1, ...)``); ``tac_tp_K{K}`` (every conv layer
aggregates K frames and preserves T steps: ``modes="tac_tp"``, ``ks=K``; by default each of a
chunk's K LIF steps gets the chunk current / K, see ``--tp-share``).

Protocols (``--smoke`` < default < ``--full``) are listed in ``PROTOCOLS`` and written into
the outputs. The default needs no download: synthetic events, plus Fashion-MNIST when it
is found (``--data-dir``, ``TACJAX_DATA`` or the system location). Run it under the tuned
CPU settings: ``python -m tacjax.runtime --exec scripts/reproduce.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

PROTOCOLS = {
    "smoke": {
        "name": "smoke (tiny; for the test suite only)",
        "synthetic": dict(train=48, test=16, size=12, num_steps=4, num_classes=4, channels=(2, 4, 4),
                          epochs=1, batch=8, ks=(2, 4), tp_ks=(2,), lr=2e-3),
        "image": dict(train=32, test=16, grids=((4, (2, 4)),), channels=(2, 4), epochs=1, batch=8,
                      tp_ks=(), lr=2e-3),
    },
    "default": {
        "name": ("reduced: synthetic events 16x16, 4 classes, T=16, 1536 train / 512 test, 5 epochs, "
                 "DVSGestureNet channels (8, 16, 32); Fashion-MNIST/MNIST 2048 train / 1000 test samples "
                 "(first of each split), T=16, K in {2, 4, 8, 16}, 1 epoch, batch 64"),
        "synthetic": dict(train=1536, test=512, size=16, num_steps=16, num_classes=4, channels=(8, 16, 32),
                          epochs=5, batch=64, ks=(2, 4, 16), tp_ks=(2, 4, 16), lr=3e-3),
        "image": dict(train=2048, test=1000, grids=((16, (2, 4, 8, 16)),), channels=(32, 64), epochs=1,
                      batch=64, tp_ks=(), lr=2e-3),
    },
    "full": {
        "name": ("full: MNIST/Fashion-MNIST all 60000 train / 10000 test, T=25 with K in {5, 25} and T=16 "
                 "with K in {2, 4, 8, 16}, 10 epochs, batch 128; synthetic events 32x32, 8 classes, T=16, "
                 "8192 train / 2048 test, 10 epochs, full DVSGestureNet; DVS128 Gesture T=16, K=2, "
                 "10 epochs"),
        "synthetic": dict(train=8192, test=2048, size=32, num_steps=16, num_classes=8, channels=(32, 64, 128),
                          epochs=10, batch=64, ks=(2, 4, 8, 16), tp_ks=(2, 4, 8, 16), lr=1e-3),
        "image": dict(train=None, test=None, grids=((25, (5, 25)), (16, (2, 4, 8, 16))), channels=(32, 64),
                      epochs=10, batch=128, tp_ks=(2,), lr=1e-3),
        "dvs_gesture": dict(num_steps=16, size=32, epochs=10, batch=32, ks=(2,), tp_ks=(2,), lr=1e-3),
    },
}
DATASETS = ("synthetic", "mnist", "fashion_mnist", "dvs_gesture")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="default", choices=("default", "all", *DATASETS),
                   help="default: synthetic + Fashion-MNIST when found; all: every data set found")
    p.add_argument("--data-dir", default=None, help="folder holding the IDX files (or mnist/, "
                   "fashion-mnist/ subfolders) and DVS128 Gesture")
    p.add_argument("--out", default="results", help="output folder")
    p.add_argument("--epochs", type=int, default=None, help="override the protocol's epochs")
    p.add_argument("--train-samples", type=int, default=None, help="override the image train subset")
    p.add_argument("--test-samples", type=int, default=None, help="override the image test subset")
    p.add_argument("--grids", default=None,
                   help="override the image T/K grid, e.g. '25:5,25;16:2,4,8,16' (T:K list; ';' between T)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--loss", default="membrane", choices=("membrane", "count"),
                   help="readout loss: cross-entropy on the mean membrane (default; a silent readout "
                   "still gets gradient) or on spike counts (the paper's)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--full", action="store_true", help="the full protocol (hours on a CPU)")
    g.add_argument("--smoke", action="store_true", help="tiny settings (tests)")
    p.add_argument("--tp-share", default="mean", choices=("mean", "repeat"),
                   help="TAC-TP: each of a chunk's K LIF steps gets current/K (mean, default) or the whole "
                   "chunk current (repeat, the reference code; saturated the neurons in our runs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def parse_grids(text: str) -> tuple:
    """``'25:5,25;16:2,4'`` -> ``((25, (5, 25)), (16, (2, 4)))``."""
    grids = []
    for part in text.split(";"):
        t, _, ks = part.partition(":")
        try:
            grids.append((int(t), tuple(int(k) for k in ks.split(",") if k.strip())))
        except ValueError:
            raise SystemExit(f"--grids: cannot parse {part!r}; expected T:K1,K2,... e.g. 16:2,4") from None
    return tuple(grids)


def _configs(ks, tp_ks, n_layers):
    out = [("baseline", 1, "baseline", 1)]
    out += [(f"tac_K{k}", k, ("tac",) * n_layers, (k,) + (1,) * (n_layers - 1)) for k in ks]
    out += [(f"tac_tp_K{k}", k, "tac_tp", k) for k in tp_ks]
    return out


def _load_images(name: str, data_dir: str | None, n_train, n_test):
    """Return ((x_train, y_train), (x_test, y_test)) uint8 images and None, or None and the reason.

    No download: ``data_dir`` (and its ``mnist/`` or ``fashion-mnist/`` sub-folder), ``TACJAX_DATA``,
    the system location and the download cache are searched (``tacjax.data``'s loaders).
    """
    from tacjax import data

    loader = data.load_mnist if name == "mnist" else data.load_fashion_mnist
    try:
        tr = loader("train", data_dir, download=False)
        te = loader("test", data_dir, download=False)
    except FileNotFoundError as e:
        return None, " | ".join(line.strip() for line in str(e).splitlines() if line.strip())[:600]
    tr = (tr[0][:n_train], tr[1][:n_train]) if n_train else tr
    te = (te[0][:n_test], te[1][:n_test]) if n_test else te
    return (tr, te), None


def run_config(label, model, train, test, encoder, proto, args, out_dir):
    """Train one configuration and return its result row."""
    from tacjax.train import fit

    t0 = time.perf_counter()
    hist = fit(model, train, test, encoder=encoder, epochs=proto["epochs"], batch_size=proto["batch"],
               learning_rate=proto["lr"], seed=args.seed, loss=args.loss,
               metrics_path=os.path.join(out_dir, "runs", label),
               progress=not args.no_progress, desc=label)
    last = hist[-1]
    calls = model.conv_calls()
    row = {
        "config": label, "test_accuracy": last["test_accuracy"], "test_loss": last["test_loss"],
        "train_accuracy": last["train_accuracy"],
        "train_s_per_epoch": float(np.mean([h["train_time_s"] for h in hist])),
        "infer_ms_per_sample": 1e3 * last["eval_time_s"] / len(test[1]),
        "compile_s": hist[0]["compile_s"], "conv_calls": calls["total"], "conv_calls_per_layer": calls,
        "rates": last["rates"], "wall_s": time.perf_counter() - t0, "history": hist,
    }
    print(f"  {label:<14} acc {row['test_accuracy']:.4f}  train {row['train_s_per_epoch']:.2f} s/epoch  "
          f"infer {row['infer_ms_per_sample']:.3f} ms/sample  conv calls {calls['total']}  "
          f"(wall {row['wall_s']:.0f} s)", flush=True)
    return row


def _add_speedups(rows):
    base = {r["num_steps"]: r for r in rows if r["mode"] == "baseline"}
    for r in rows:
        b = base.get(r["num_steps"])
        r["train_speedup"] = b["train_s_per_epoch"] / r["train_s_per_epoch"] if b else None
        r["infer_speedup"] = b["infer_ms_per_sample"] / r["infer_ms_per_sample"] if b else None
        r["acc_delta_pts"] = 100 * (r["test_accuracy"] - b["test_accuracy"]) if b else None


def study_synthetic(proto, args, out_dir):
    from flax import nnx

    from tacjax.data import synthetic_events
    from tacjax.models import DVSGestureNet
    from tacjax.train import events_encoder

    p = proto["synthetic"]
    epochs = args.epochs or p["epochs"]
    p = dict(p, epochs=epochs)
    kw = dict(num_steps=p["num_steps"], size=p["size"], num_classes=p["num_classes"])
    train = synthetic_events(p["train"], seed=args.seed, **kw)
    test = synthetic_events(p["test"], seed=args.seed + 1000, **kw)
    rows, models = [], {}
    for label, k, modes, ks in _configs(p["ks"], p["tp_ks"], len(p["channels"])):
        model = DVSGestureNet(num_steps=p["num_steps"], in_size=p["size"], channels=p["channels"],
                              num_classes=p["num_classes"], modes=modes, ks=ks, share=args.tp_share,
                              rngs=nnx.Rngs(args.seed))
        row = run_config(label, model, train, test, events_encoder(), p, args, out_dir)
        row.update(mode=label.rsplit("_K", 1)[0], k=k, num_steps=p["num_steps"])
        rows.append(row)
        models[label] = model
    _add_speedups(rows)
    sample = test[0][:1].transpose(1, 0, 2, 3, 4)
    return {"protocol": p, "runs": rows}, (models["baseline"], sample)


def study_images(name, proto, args, out_dir):
    from flax import nnx

    from tacjax.models import MNISTNet
    from tacjax.train import rate_encoder

    p = dict(proto["image"])
    p["epochs"] = args.epochs or p["epochs"]
    if args.grids:
        p["grids"] = parse_grids(args.grids)
    n_train = args.train_samples if args.train_samples is not None else p["train"]
    n_test = args.test_samples if args.test_samples is not None else p["test"]
    loaded, why = _load_images(name, args.data_dir, n_train, n_test)
    if loaded is None:
        print(f"[{name}] not found, skipped ({why})", flush=True)
        return None, None
    (xtr, ytr), (xte, yte) = loaded
    p.update(train=len(ytr), test=len(yte))
    print(f"[{name}] {len(ytr)} train / {len(yte)} test samples", flush=True)
    rows, sample = [], None
    for t, ks in p["grids"]:
        for label, k, modes, kk in _configs(ks, [q for q in p["tp_ks"] if q <= t], 2):
            tag = f"T{t}_{label}"
            model = MNISTNet(num_steps=t, channels=p["channels"], modes=modes, ks=kk, share=args.tp_share,
                             rngs=nnx.Rngs(args.seed))
            row = run_config(tag, model, (xtr, ytr), (xte, yte), rate_encoder(t), p, args,
                             os.path.join(out_dir, name))
            row.update(mode=label.rsplit("_K", 1)[0], k=k, num_steps=t)
            rows.append(row)
            if sample is None:
                import jax

                from tacjax import rate
                x0 = xte[:1].astype(np.float32)[..., None] / 255.0
                sample = (model, np.asarray(rate(jax.random.key(0), x0, t)))
    _add_speedups(rows)
    return {"protocol": p, "runs": rows}, sample


def study_dvs(proto, args, out_dir):
    from flax import nnx

    from tacjax.data import load_dvs_gesture
    from tacjax.models import DVSGestureNet
    from tacjax.train import events_encoder

    p = dict(proto.get("dvs_gesture") or PROTOCOLS["full"]["dvs_gesture"])
    p["epochs"] = args.epochs or p["epochs"]
    if args.data_dir is None:
        print("[dvs_gesture] needs --data-dir; skipped", flush=True)
        return None, None
    try:
        train = load_dvs_gesture(args.data_dir, "train", num_steps=p["num_steps"], size=p["size"])
        test = load_dvs_gesture(args.data_dir, "test", num_steps=p["num_steps"], size=p["size"])
    except Exception as e:
        print(f"[dvs_gesture] not found, skipped ({type(e).__name__}: {str(e)[:200]})", flush=True)
        return None, None
    rows = []
    for label, k, modes, ks in _configs(p["ks"], p["tp_ks"], 3):
        model = DVSGestureNet(num_steps=p["num_steps"], in_size=p["size"], modes=modes, ks=ks,
                              share=args.tp_share, rngs=nnx.Rngs(args.seed))
        row = run_config(label, model, train, test, events_encoder(), p, args, os.path.join(out_dir, "dvs"))
        row.update(mode=label.rsplit("_K", 1)[0], k=k, num_steps=p["num_steps"])
        rows.append(row)
    _add_speedups(rows)
    return {"protocol": p, "runs": rows}, None


def _layer_order(rates: dict) -> list[str]:
    """input, conv1, conv2, ..., fc."""
    convs = sorted((k for k in rates if k.startswith("conv")), key=lambda k: int(k[4:]))
    return ["input", *convs, "fc"]


def _fmt(v, spec):
    return "-" if v is None else format(v, spec)


def markdown(results: dict) -> str:
    lines = [f"# TAC study results\n\nProtocol: {results['protocol']}\n",
             f"Runtime: config `{results['runtime']['config']}`, JAX {results['runtime']['jax']}, "
             f"{results['runtime']['cpu_count']} CPUs, devices {results['runtime']['devices']}; "
             f"total wall time {results['wall_s']:.0f} s.\n",
             "Speed-ups are against the baseline with the same T, measured in the same process "
             "(train: mean epoch time without compilation; inference: one pass over the test set). "
             "Spike rates: mean spikes per neuron per step, in the order input / conv1 / ... / fc "
             "(conv layers after pooling).\n"]
    for name, res in results["datasets"].items():
        if res is None:
            continue
        lines.append(f"## {name}\n")
        lines.append("| config | T | K | conv calls | test acc | Δ acc (pts) | train s/epoch "
                     "| train speed-up | infer ms/sample | infer speed-up | spike rates |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in res["runs"]:
            rates = " / ".join(f"{r['rates'][k]:.3f}" for k in _layer_order(r["rates"]))
            lines.append(f"| {r['config']} | {r['num_steps']} | {r['k']} | {r['conv_calls']} | "
                         f"{100 * r['test_accuracy']:.2f}% | {_fmt(r['acc_delta_pts'], '+.2f')} | "
                         f"{r['train_s_per_epoch']:.2f} | {_fmt(r['train_speedup'], '.2f')}x | "
                         f"{r['infer_ms_per_sample']:.3f} | {_fmt(r['infer_speedup'], '.2f')}x | {rates} |")
        lines.append("")
    return "\n".join(lines)


def plots(results: dict, out_dir: str, raster) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for name, res in results["datasets"].items():
        if res is None:
            continue
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        for t in sorted({r["num_steps"] for r in res["runs"]}):
            runs = [r for r in res["runs"] if r["num_steps"] == t]
            base = next((r for r in runs if r["mode"] == "baseline"), None)
            for mode, mk in (("tac", "o-"), ("tac_tp", "s--")):
                rr = sorted((r for r in runs if r["mode"] == mode), key=lambda r: r["k"])
                if rr:
                    ks = [r["k"] for r in rr]
                    a1.plot(ks, [100 * r["test_accuracy"] for r in rr], mk, label=f"{mode} T={t}")
                    a2.plot(ks, [r["train_speedup"] for r in rr], mk, label=f"{mode} train T={t}")
                    a2.plot(ks, [r["infer_speedup"] for r in rr], mk, alpha=0.5, label=f"{mode} infer T={t}")
            if base:
                a1.axhline(100 * base["test_accuracy"], color="gray", ls=":", label=f"baseline T={t}")
        a1.set(xscale="log", xlabel="K", ylabel="test accuracy (%)", title=f"{name}: accuracy vs K")
        a2.set(xscale="log", yscale="log", xlabel="K", ylabel="speed-up over baseline",
               title=f"{name}: speed-up vs K")
        a2.axhline(1.0, color="gray", ls=":")
        all_k = sorted({r["k"] for r in res["runs"] if r["mode"] != "baseline"})
        for a in (a1, a2):
            if all_k:
                a.set_xticks(all_k, [str(k) for k in all_k])
                a.minorticks_off()
            a.legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(out_dir, f"{name}_acc_speedup_vs_k.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    if raster is not None:
        name, (model, x) = raster
        _, stats = model(x, return_stats=True)
        fig, axes = plt.subplots(1, len(stats), figsize=(3 * len(stats), 3.5))
        for ax, (layer, s) in zip(axes, stats.items(), strict=True):
            s = np.asarray(s)[:, 0].reshape(s.shape[0], -1)
            active = np.argsort(-s.sum(0))[:64]
            tt, nn = np.nonzero(s[:, np.sort(active)])
            ax.scatter(tt, nn, s=4, marker="|", color="k")
            ax.set(title=f"{layer} (rate {s.mean():.3f})", xlabel="t", ylabel="neuron (64 most active)")
        fig.suptitle(f"spike raster, one {name} test sample, baseline network")
        fig.tight_layout()
        path = os.path.join(out_dir, "spike_raster.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def main(argv=None) -> dict:
    args = parse_args(argv)
    import jax

    import tacjax.runtime as rt

    info = rt.describe()
    proto_key = "smoke" if args.smoke else "full" if args.full else "default"
    proto = PROTOCOLS[proto_key]
    print(f"runtime: {json.dumps(info)}", flush=True)
    print(f"protocol: {proto['name']}", flush=True)
    if any(v is not None for v in (args.epochs, args.train_samples, args.test_samples, args.grids)):
        print("protocol overridden on the command line (see results.md)", flush=True)
    if info["config"] != "tuned":
        print("note: not the tuned CPU configuration; run `python -m tacjax.runtime --exec "
              "scripts/reproduce.py` for tcmalloc + Eigen convolutions", flush=True)
    if args.dataset == "default":
        names = ("synthetic", "fashion_mnist") if not args.full else ("synthetic", "mnist", "fashion_mnist")
    elif args.dataset == "all":
        names = DATASETS
    else:
        names = (args.dataset,)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    flags = (("--epochs", args.epochs), ("--train-samples", args.train_samples),
             ("--test-samples", args.test_samples), ("--grids", args.grids))
    overrides = [f"{flag} {val}" for flag, val in flags if val is not None]
    results = {"protocol": proto["name"] + f"; loss: {args.loss} cross-entropy; "
               f"TAC-TP share: {args.tp_share}; seed {args.seed}"
               + (f"; OVERRIDDEN by {', '.join(overrides)}" if overrides else ""),
               "protocol_key": proto_key, "runtime": info, "argv": sys.argv[1:],
               "seed": args.seed, "datasets": {}}
    raster = None
    for name in names:
        print(f"== {name}", flush=True)
        if name == "synthetic":
            res, sample = study_synthetic(proto, args, os.path.join(args.out, "synthetic"))
        elif name == "dvs_gesture":
            res, sample = study_dvs(proto, args, args.out)
        else:
            res, sample = study_images(name, proto, args, args.out)
        results["datasets"][name] = res
        if raster is None and sample is not None:
            raster = (name, sample)
    results["wall_s"] = time.perf_counter() - t0
    md = markdown(results)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=float)
    results["plots"] = plots(results, args.out, raster)
    print(md)
    print(f"wrote {args.out}/results.md, results.json and {len(results['plots'])} plots "
          f"(JAX {jax.__version__}, total {math.ceil(results['wall_s'])} s)")
    return results


if __name__ == "__main__":
    main()
