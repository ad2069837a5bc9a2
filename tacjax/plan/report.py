"""A plan for people: a Markdown table, a one-line summary, and a plot of each layer's statistic against K;
for trial plans (``trials``) a table of every trial and a plot of accuracy against measured speed-up."""

from __future__ import annotations

import io
import os

import numpy as np

from tacjax.common.files import atomic_write_bytes
from tacjax.plan.planner import Plan
from tacjax.plan.predict import envelope
from tacjax.plan.trials import TrialPlan

__all__ = ["plan_summary", "plan_table", "plot_profile", "plot_trials", "trials_table"]


def _write_png(fig, path) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return atomic_write_bytes(os.fspath(path), buf.getvalue())


def plan_summary(plan: Plan) -> str:
    """One line: budget, predicted speed-up, drop and conv calls of ``plan``."""
    if not isinstance(plan, Plan):
        raise TypeError(f"plan_summary: `plan` must be a tacjax.plan.Plan; got {type(plan).__name__}.")
    b = plan.budget
    target = f"speed-up >= {b.value:g}" if b.kind == "speedup" else f"predicted drop <= {b.value:g} pts"
    return (f"budget {target}; statistic {plan.statistic!r}: predicted speed-up "
            f"{plan.predicted_speedup:.2f}x (dense work), predicted drop {plan.predicted_drop:.2f} pts (loss "
            f"{plan.predicted_loss:.4f}), conv calls {plan.conv_calls} / {plan.baseline_conv_calls} per "
            f"sample; {plan.searched} plans searched")


def plan_table(plan: Plan) -> str:
    """Markdown: one row per conv layer (mode, K, steps in -> out, conv calls, statistic at K, loss).

    "statistic at K" is the layer's statistic at its own K (``plan.profile``), "loss" what the
    planner charged it (``predict.layer_losses``, which also counts upstream erasure and collapse).
    The summary line and the cost model's totals follow the table.
    """
    if not isinstance(plan, Plan):
        raise TypeError(f"plan_table: `plan` must be a tacjax.plan.Plan; got {type(plan).__name__}.")
    scores = plan.profile.scores[plan.statistic]
    lines = [f"| layer | mode | K | steps in -> out | conv calls | {plan.statistic} at K | predicted loss |",
             "|---|---|---|---|---|---|---|"]
    for i, lc in enumerate(plan.layers):
        at_k = "-" if lc.mode == "baseline" else f"{scores[i, min(lc.k, plan.profile.num_steps) - 1]:.4f}"
        lines.append(f"| {lc.name} | {lc.mode} | {lc.k} | {lc.steps_in} -> {lc.steps_out} | "
                     f"{lc.conv_calls} | {at_k} | {lc.loss:.4f} |")
    c = plan.cost
    lines += ["", plan_summary(plan) + ".",
              f"Cost (tacjax.cost, per sample): dense work {c['work']:.3g} vs {c['baseline_work']:.3g} "
              f"MAC-equivalents; naive energy {c['naive_pj'] / 1e6:.3g} vs "
              f"{c['baseline_naive_pj'] / 1e6:.3g} uJ; SATA {c['sata']:.3g} vs {c['baseline_sata']:.3g} "
              "(plan vs baseline, at the calibration rates)."]
    return "\n".join(lines)


def plot_profile(plan: Plan, path: str | os.PathLike) -> str:
    """Plot each scored layer's statistic against K (raw and its envelope), marking the chosen K.

    Args:
        plan: a ``Plan`` (its profile, statistic and choices are drawn).
        path: the PNG to write (atomically; its folder must exist).

    Returns:
        ``path`` as a string.
    """
    if not isinstance(plan, Plan):
        raise TypeError(f"plot_profile: `plan` must be a tacjax.plan.Plan; got {type(plan).__name__}.")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    prof = plan.profile
    raw = prof.scores[plan.statistic]
    env = envelope(raw)
    ks = np.arange(1, prof.num_steps + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, name in enumerate(prof.layers):
        (line,) = ax.plot(ks, env[i], "-", label=f"{name} input")
        ax.plot(ks, raw[i], ":", color=line.get_color(), alpha=0.6)
        if i < len(plan.layers) and plan.layers[i].mode != "baseline":
            k = min(plan.layers[i].k, prof.num_steps)
            ax.plot([k], [env[i, k - 1]], "o", color=line.get_color(), ms=8, mfc="none",
                    label=f"{name}: {plan.layers[i].mode} K={plan.layers[i].k}")
    ax.set(xlabel="K (frames per chunk)", ylabel=f"{plan.statistic} (solid: envelope, dotted: raw)",
           title=f"order statistic per layer (T={prof.num_steps}, B={prof.batch})")
    ax.legend(fontsize=7)
    return _write_png(fig, path)


def trials_table(result: TrialPlan) -> str:
    """Markdown: one row per trial (baseline first), with each rung's validation accuracy and the
    measured speed-up of the last rung it ran; the chosen plan in bold; a summary line after it."""
    if not isinstance(result, TrialPlan):
        raise TypeError(f"trials_table: `result` must be a tacjax.plan.TrialPlan; got "
                        f"{type(result).__name__}.")
    rungs = [f"rung {i} ({e} ep x {n})" for i, (_, e, n) in enumerate(result.rungs)]
    head = "| plan | predicted speed-up | measured speed-up (last rung) | "
    lines = [head + " | ".join(rungs) + " | note |",
             "|---|---|---|" + "---|" * len(rungs) + "---|"]
    for t in (result.baseline, *result.trials):
        name = f"**{t.name}**" if t.name == result.name else t.name
        pred = "-" if t.predicted_speedup is None else f"{t.predicted_speedup:.2f}x"
        accs = [f"{100 * a:.2f}%" for a in t.accuracies] + ["-"] * (len(rungs) - len(t.accuracies))
        note = "reference" if t is result.baseline else "" if t.feasible else "below the speed-up target"
        lines.append(f"| {name} | {pred} | {t.speedups[-1]:.2f}x | " + " | ".join(accs) + f" | {note} |")
    b = result.budget
    target = (f"measured speed-up >= {b.value:g}, most accurate" if b.kind == "speedup" else
              f"validation accuracy >= the baseline's - {b.value:g} pts, fastest")
    missed = "" if result.met else " (NO candidate reached the target: the fastest is returned)"
    lines += ["", f"Budget: {target}. Chosen: `{result.name}`, {100 * result.accuracy:.2f}% on the "
              f"validation data at {result.speedup:.2f}x{missed}; {len(result.trials)} candidates, "
              f"{result.wall_s:.0f} s."]
    return "\n".join(lines)


def plot_trials(result: TrialPlan, path: str | os.PathLike) -> str:
    """Plot validation accuracy against measured speed-up of every trial, one marker per rung (grey
    crosses: dropped for a speed-up target), the chosen plan circled and the baseline's accuracy per
    rung as a dotted line; write the PNG to ``path`` (atomically) and return it as a string."""
    if not isinstance(result, TrialPlan):
        raise TypeError(f"plot_trials: `result` must be a tacjax.plan.TrialPlan; got "
                        f"{type(result).__name__}.")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    marks = "os^Dv"
    for r in range(len(result.rungs)):
        pts = [(t.speedups[r], 100 * t.accuracies[r]) for t in result.trials if len(t.accuracies) > r
               and t.feasible]
        if pts:
            ax.plot(*zip(*pts, strict=True), marks[r % len(marks)], alpha=0.7, label=f"rung {r}")
        if len(result.baseline.accuracies) > r:  # fewer rungs ran when no candidate reached a speed target
            ax.axhline(100 * result.baseline.accuracies[r], ls=":", color=f"C{r}", lw=1)
    slow = [(t.speedups[0], 100 * t.accuracies[0]) for t in result.trials if not t.feasible]
    if slow:
        ax.plot(*zip(*slow, strict=True), "x", color="grey", label="below the speed-up target")
    chosen = [t for t in result.trials if t.name == result.name]
    for t in chosen:
        ax.plot([t.speedups[-1]], [100 * t.accuracies[-1]], "o", ms=14, mfc="none", color="k",
                label=f"chosen {t.name}")
        ax.annotate(t.name, (t.speedups[-1], 100 * t.accuracies[-1]), fontsize=7, xytext=(6, -10),
                    textcoords="offset points")
    if result.budget.kind == "speedup":
        ax.axvline(result.budget.value, ls="--", color="grey", lw=1, label="speed-up target")
    ax.set(xlabel="measured training speed-up over the baseline", ylabel="validation accuracy (%)",
           title="trial plans (dotted: the baseline in each rung)")
    ax.legend(fontsize=7)
    return _write_png(fig, path)
