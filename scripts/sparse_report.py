"""Report writers for scripts/bench_sparse.py: the Markdown crossover tables and the plot."""

from __future__ import annotations

import json
from pathlib import Path

PATTERNS = ("iid", "channels", "timesteps")


def crossover(rows, strategy):
    """Largest swept density d with the strategy faster than dense at d and at every lower density."""
    best = None
    for d in sorted(rows):
        if rows[d]["ratio"][strategy] < 1.0:
            best = d
        else:
            break
    return best


def _pct(d):
    return f"{100 * d:g}%"


def write_markdown(res, path):
    lines = ["# Sparse strategies vs dense convolution", "",
             f"Runtime: `{json.dumps(res['runtime'])}`", "",
             f"T = {res['num_steps']}, batch {res['batch']} (T*B = {res['num_steps'] * res['batch']} frames "
             "per call), forward, median of round-robin repetitions; ratio = time / dense time "
             "(below 1: faster).",
             "", "## Crossover density (largest swept density below which the strategy beats dense)", "",
             "| layer | pattern | " + " | ".join(res["strategies"][1:]) + " |",
             "|---|---|" + "---|" * (len(res["strategies"]) - 1)]
    for layer, pats in res["sweep"].items():
        for pat, rows in pats.items():
            rows = {float(d): v for d, v in rows.items()}
            cells = []
            for s in res["strategies"][1:]:
                c = crossover(rows, s)
                best = min(rows[d]["ratio"][s] for d in rows)
                if c is None:
                    txt = "never"
                elif c == max(rows):
                    txt = "always"
                else:
                    txt = "<= " + _pct(c)
                cells.append(f"{txt} (best {best:.2f}x)")
            lines.append(f"| {layer} | {pat} | " + " | ".join(cells) + " |")
    lines += ["", "## The same against the faster dense form (XLA conv or im2col + matmul)", "",
              "For the dense layer XLA's 1x1 convolution is slower than a plain matmul (the im2col "
              "column), so this table is the fairer one there.", "",
              "| layer | pattern | " + " | ".join(res["strategies"][2:]) + " |",
              "|---|---|" + "---|" * (len(res["strategies"]) - 2)]
    for layer, pats in res["sweep"].items():
        for pat, rows in pats.items():
            rows = {float(d): v for d, v in rows.items()}
            best_dense = {d: min(1.0, v["ratio"]["im2col"]) for d, v in rows.items()}
            rel = {d: {"ratio": {s: v["ratio"][s] / best_dense[d] for s in v["ratio"]}}
                   for d, v in rows.items()}
            cells = []
            for s in res["strategies"][2:]:
                c = crossover(rel, s)
                best = min(rel[d]["ratio"][s] for d in rel)
                txt = "never" if c is None else ("always" if c == max(rel) else "<= " + _pct(c))
                cells.append(f"{txt} (best {best:.2f}x)")
            lines.append(f"| {layer} | {pat} | " + " | ".join(cells) + " |")
    for layer, pats in res["sweep"].items():
        for pat, rows in pats.items():
            lines += ["", f"### {layer}, {pat}: time relative to dense (dense median in ms)", "",
                      "| density | dense ms | " + " | ".join(res["strategies"][1:]) + " |",
                      "|---|---|" + "---|" * (len(res["strategies"]) - 1)]
            for d, v in sorted(rows.items(), key=lambda kv: float(kv[0])):
                lines.append(f"| {_pct(float(d))} | {1e3 * v['median_s']['dense']:.2f} | "
                             + " | ".join(f"{v['ratio'][s]:.2f}" for s in res["strategies"][1:]) + " |")
    real = res.get("real")
    if real:
        tr = real["train"]
        lines += ["", f"## Trained MNISTNet (baseline, T = {res['num_steps']})", "",
                  f"Trained on {tr['samples']} samples in {tr['seconds']:.0f} s; test accuracy on 1000 "
                  f"test images {100 * tr['test_accuracy_1k']:.1f}% (membrane cross-entropy, Adam 2e-3, one "
                  "pass, batch 64).", "",
                  "| layer input | spike density | agg. non-zero K=2 | K=4 | K=8 | K=16 | bit density | "
                  "product density | " + " | ".join(res["strategies"][1:]) + " |",
                  "|---|---|---|---|---|---|---|---|" + "---|" * (len(res["strategies"]) - 1)]
        for name, v in real["layers"].items():
            a = v["agg_nonzero_density"]
            lines.append(f"| {name} | {v['density']:.4f} | {a['2']:.3f} | {a['4']:.3f} | {a['8']:.3f} | "
                         f"{a['16']:.3f} | {v['bit_density']:.4f} | {v['product_density']:.4f} | "
                         + " | ".join(f"{v['timing']['ratio'][s]:.2f}" for s in res["strategies"][1:]) + " |")
        nw = real["network"]
        lines += ["", f"Whole network (Prosperity weighting): bit density {nw['bit_density']:.4f}, product "
                  f"density {nw['product_density']:.4f}. Strategy columns: time relative to dense on the "
                  "recorded spikes. TAC's aggregated inputs are not binary: event, bitpack and product "
                  "do not apply to them; dense, im2col, bcoo, bcsr and tiles do (at the aggregate's higher "
                  "non-zero density)."]
    if res.get("prosperity"):
        lines += ["", "## Prosperity's spike dumps", "", "| file | bit density | product density |",
                  "|---|---|---|"]
        for f, v in res["prosperity"].items():
            lines.append(f"| {f} | {v['bit_density']:.4f} | {v['product_density']:.4f} |")
    if res.get("cost"):
        base = res["cost"]["baseline"]
        lines += ["", "## Energy estimates per sample (MNISTNet, measured rates)", "",
                  "| variant | naive pJ | vs base | SATA units | vs base | SpikeSim pJ (bit-serial) | "
                  "vs base | SpikeSim pJ (multi-level DAC) | vs base |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, v in res["cost"].items():
            cells = []
            for key in ("naive_pJ", "sata", "spikesim_pJ", "spikesim_parallel_dac_pJ"):
                cells += [f"{v[key]:.4g}", f"{v[key] / base[key]:.3f}"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", "SATA split (share of its total): compute (AC/MAC) = the part a synaptic-op count "
                  "sees; LIF; DRAM; global buffer; scratchpad.", "",
                  "| variant | compute | LIF | DRAM | GLB | SPAD |", "|---|---|---|---|---|---|"]
        for name, v in res["cost"].items():
            sp, tot = v["sata_split"], v["sata"]
            lines.append(f"| {name} | " + " | ".join(f"{sp[key] / tot:.3f}" for key in
                                                     ("compute", "lif", "dram", "glb", "spad")) + " |")
        lines += ["", f"Naive ANN reference (4.6 pJ x FLOPs, one pass): {base['ann_naive_pJ']:.4g} pJ; naive "
                  f"ANN/SNN ratio {base['ann_naive_pJ'] / base['naive_pJ']:.2f}."]
    Path(path).write_text("\n".join(lines) + "\n")


def plot(res, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = list(res["sweep"])
    pats = [p for p in PATTERNS if any(p in res["sweep"][lay] for lay in layers)]
    fig, axes = plt.subplots(len(pats), len(layers), figsize=(5 * len(layers), 3.6 * len(pats)),
                             squeeze=False)
    for j, layer in enumerate(layers):
        for i, pat in enumerate(pats):
            ax = axes[i][j]
            if pat not in res["sweep"][layer]:
                ax.text(0.5, 0.5, f"{layer}: one input channel,\nno '{pat}' pattern", ha="center",
                        va="center", transform=ax.transAxes)
                ax.set_axis_off()
                continue
            rows = sorted(((float(d), v) for d, v in res["sweep"][layer][pat].items()))
            ds = [100 * d for d, _ in rows]
            for s in res["strategies"][1:]:
                ax.plot(ds, [v["ratio"][s] for _, v in rows], marker="o", ms=3, label=s)
            ax.axhline(1.0, color="k", lw=1)
            real = res.get("real", {}).get("layers", {}).get(layer)
            if real:
                ax.axvline(100 * real["density"], color="r", ls="--", lw=1, label="trained net")
                ax.axvline(100 * real["agg_nonzero_density"]["4"], color="m", ls=":", lw=1,
                           label="TAC K=4 aggregate (non-binary)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{layer}, {pat} spikes")
            ax.set_xlabel("spike density (%)")
            ax.set_ylabel("time / dense")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


