"""The study's outputs: speed-ups, the Markdown table, ``results.md``/``results.json`` and the plots.

``write_results`` is called after every configuration, so the files on disk always hold every
row measured so far; each file is replaced atomically (``tacjax.common.files``), so a run killed
at any moment leaves the previous complete version, never a truncated one.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np

from tacjax.common.files import atomic_write_bytes, atomic_write_text

__all__ = ["GRID_MODES", "add_speedups", "layer_order", "markdown", "plan_placement", "plots",
           "write_results"]

#: The modes of the grid's rows (a plan's row has mode "plan").
GRID_MODES = ("baseline", "tac", "tac_tp")
#: Row field -> (label, True when larger is better) for ``plan_placement``.
_PLACED = {"test_accuracy": ("accuracy", True), "train_s_per_epoch": ("training time", False),
           "infer_ms_per_sample": ("inference time", False), "conv_calls": ("conv calls", False)}


def add_speedups(rows: list[dict]) -> list[dict]:
    """Set ``train_speedup``, ``infer_speedup`` and ``acc_delta_pts`` of each row in place (and return rows).

    Each row is compared with the baseline row of the same ``num_steps`` (None where there is none):
    ``train_speedup = base train_s_per_epoch / train_s_per_epoch``, ``infer_speedup`` likewise with
    ``infer_ms_per_sample``, ``acc_delta_pts = 100 * (test_accuracy - base test_accuracy)``.
    """
    base = {r["num_steps"]: r for r in rows if r["mode"] == "baseline"}
    for r in rows:
        b = base.get(r["num_steps"])
        r["train_speedup"] = b["train_s_per_epoch"] / r["train_s_per_epoch"] if b else None
        r["infer_speedup"] = b["infer_ms_per_sample"] / r["infer_ms_per_sample"] if b else None
        r["acc_delta_pts"] = 100 * (r["test_accuracy"] - b["test_accuracy"]) if b else None
    return rows


def plan_placement(runs: list[dict], label: str) -> dict | None:
    """Where row ``label`` lands among the grid rows (modes ``GRID_MODES``) of the same T.

    Returns None while that row is missing, else ``{"grid_points": n, "ranks": {field: r}, ...}``:
    ``r = 1 +`` the number of grid points strictly better (higher accuracy; lower training time,
    inference time, conv calls), so 1 is best and ``n + 1`` worst; ``best_accuracy`` and
    ``acc_vs_best_pts`` (plan - best grid point, points); the grid's median and the plan's
    ``train_speedup``/``infer_speedup`` (the baseline counts as a grid point with speed-up 1).
    """
    row = next((r for r in runs if r["config"] == label), None)
    if row is None:
        return None
    grid = [r for r in runs if r["mode"] in GRID_MODES and r["num_steps"] == row["num_steps"]]
    ranks = {}
    for field, (_, larger) in _PLACED.items():
        ranks[field] = 1 + sum((g[field] > row[field]) if larger else (g[field] < row[field]) for g in grid)
    best = max(g["test_accuracy"] for g in grid)
    out = {"grid_points": len(grid), "ranks": ranks, "best_accuracy": best,
           "acc_vs_best_pts": 100 * (row["test_accuracy"] - best)}
    for field in ("train_speedup", "infer_speedup"):
        vals = [g[field] for g in grid if g.get(field) is not None]
        out[f"grid_median_{field}"] = float(np.median(vals)) if vals else None
        out[field] = row.get(field)
    return out


def _plan_lines(runs: list[dict], summary: dict) -> list[str]:
    lines = [f"### Automatic plan `{summary['label']}` (T={summary['num_steps']}, --plan auto)\n",
             f"Calibration: {summary['calibration']}; planned in {summary['plan_s']:.1f} s. "
             f"Profile plot: `{os.path.basename(summary['plot'])}`.\n", summary["table"], ""]
    return lines + _placement_lines(runs, summary)


def _trial_lines(runs: list[dict], summary: dict) -> list[str]:
    head = f"### Trial plan `{summary['label']}` (T={summary['num_steps']}, --plan trials)\n"
    if "skipped" in summary:
        return [head, f"Skipped: {summary['skipped']}.\n"]
    lines = [head, f"Target: the grid's median measured training speed-up, {summary['target_speedup']:.2f}x; "
             f"shortlist: predicted speed-up >= {summary['shortlist_floor']:.2f}x; validation: "
             f"{summary['validation']}; chosen in {summary['plan_s']:.0f} s. Plot: "
             f"`{os.path.basename(summary['plot'])}`.\n", summary["table"], ""]
    return lines + _placement_lines(runs, summary)


def _placement_lines(runs: list[dict], summary: dict) -> list[str]:
    lines = []
    place = plan_placement(runs, summary["label"])
    if place is None:
        return lines + ["Not trained yet.\n"]
    n = place["grid_points"]
    ranks = ", ".join(f"{_PLACED[f][0]} {r} of {n + 1}" for f, r in place["ranks"].items())
    lines.append(f"Placement among the {n} grid points of T={summary['num_steps']} (1 = best): {ranks}.")
    lines.append(f"Accuracy {_fmt(place['acc_vs_best_pts'], '+.2f')} pts against the best grid point "
                 f"({100 * place['best_accuracy']:.2f}%); training speed-up "
                 f"{_fmt(place['train_speedup'], '.2f')}x against the grid's median "
                 f"{_fmt(place['grid_median_train_speedup'], '.2f')}x; inference speed-up "
                 f"{_fmt(place['infer_speedup'], '.2f')}x against "
                 f"{_fmt(place['grid_median_infer_speedup'], '.2f')}x.\n")
    return lines


def layer_order(rates: dict) -> list[str]:
    """Layer names in network order: ``input``, ``conv1``, ``conv2``, ..., ``fc``."""
    convs = sorted((k for k in rates if k.startswith("conv")), key=lambda k: int(k[4:]))
    return ["input", *convs, "fc"]


def _fmt(v, spec):
    return "-" if v is None else format(v, spec)


def _status(results: dict) -> list[str]:
    if results.get("complete"):
        return []
    done, total = results.get("configs_done", 0), results.get("configs_total", "?")
    stopped = results.get("stopped")
    why = (f"stopped by {stopped['error']} in `{stopped['dataset']}/{stopped['config']}`" if stopped
           else "still running, or killed")
    return [f"**Incomplete: {done} of {total} configurations finished ({why}).** The rows below are "
            "every configuration measured so far.\n"]


def markdown(results: dict) -> str:
    """``results.md``: protocol, runtime, then one table per data set (one row per configuration), each
    followed by its automatic plans (``--plan auto``: table, placement among the grid points) and
    trial plans (``--plan trials``: every trial, placement)."""
    lines = [f"# TAC study results\n\nProtocol: {results['protocol']}\n", *_status(results),
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
            rates = " / ".join(f"{r['rates'][k]:.3f}" for k in layer_order(r["rates"]))
            lines.append(f"| {r['config']} | {r['num_steps']} | {_fmt(r['k'], 'd')} | {r['conv_calls']} | "
                         f"{100 * r['test_accuracy']:.2f}% | {_fmt(r['acc_delta_pts'], '+.2f')} | "
                         f"{r['train_s_per_epoch']:.2f} | {_fmt(r['train_speedup'], '.2f')}x | "
                         f"{r['infer_ms_per_sample']:.3f} | {_fmt(r['infer_speedup'], '.2f')}x | {rates} |")
        lines.append("")
        for summary in res.get("plans", []):
            lines += _plan_lines(res["runs"], summary)
        for summary in res.get("trials", []):
            lines += _trial_lines(res["runs"], summary)
    return "\n".join(lines)


def write_results(results: dict, out_dir: str | os.PathLike) -> tuple[str, str]:
    """Replace ``<out_dir>/results.md`` and ``results.json`` atomically; return their paths."""
    md = atomic_write_text(os.path.join(out_dir, "results.md"), markdown(results))
    text = json.dumps(results, indent=1, default=float)
    js = atomic_write_text(os.path.join(out_dir, "results.json"), text)
    return md, js


def _save(fig, path: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return atomic_write_bytes(path, buf.getvalue())


def plots(results: dict, out_dir: str | os.PathLike, raster) -> list[str]:
    """Accuracy and speed-up vs K per data set, and a spike raster; return the PNG paths (written atomically),
    followed by the automatic plans' profile plots (written when the plans were made).

    Args:
        results: as built by ``run_study``.
        out_dir: folder for ``<name>_acc_speedup_vs_k.png`` and ``spike_raster.png``.
        raster: ``(data set name, (model, x [T, 1, ...]))`` for the raster, or None.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for name, res in results["datasets"].items():
        if res is None or not res["runs"]:
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
        all_k = sorted({r["k"] for r in res["runs"] if r["mode"] in ("tac", "tac_tp")})
        for a in (a1, a2):
            if all_k:
                a.set_xticks(all_k, [str(k) for k in all_k])
                a.minorticks_off()
            a.legend(fontsize=7)
        fig.tight_layout()
        written.append(_save(fig, os.path.join(out_dir, f"{name}_acc_speedup_vs_k.png")))
        plt.close(fig)
    if raster is not None:
        from tacjax.models import _stats_jitted

        name, (model, x) = raster
        stats = _stats_jitted(model, x)
        fig, axes = plt.subplots(1, len(stats), figsize=(3 * len(stats), 3.5))
        for ax, (layer, s) in zip(axes, stats.items(), strict=True):
            s = np.asarray(s)[:, 0].reshape(s.shape[0], -1)
            active = np.argsort(-s.sum(0))[:64]
            tt, nn = np.nonzero(s[:, np.sort(active)])
            ax.scatter(tt, nn, s=4, marker="|", color="k")
            ax.set(title=f"{layer} (rate {s.mean():.3f})", xlabel="t", ylabel="neuron (64 most active)")
        fig.suptitle(f"spike raster, one {name} test sample, baseline network")
        fig.tight_layout()
        written.append(_save(fig, os.path.join(out_dir, "spike_raster.png")))
        plt.close(fig)
    for res in results["datasets"].values():
        made = [*(res or {}).get("plans", []), *(res or {}).get("trials", [])]
        written += [s["plot"] for s in made if "plot" in s]  # written when the plan was made
    return written
