"""A plan for people: a Markdown table, a one-line summary, and a plot of each layer's statistic against K."""

from __future__ import annotations

import io
import os

import numpy as np

from tacjax.common.files import atomic_write_bytes
from tacjax.plan.planner import Plan
from tacjax.plan.predict import envelope

__all__ = ["plan_summary", "plan_table", "plot_profile"]


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
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return atomic_write_bytes(os.fspath(path), buf.getvalue())
