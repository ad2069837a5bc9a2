"""``--plan auto``: a per-layer plan chosen by ``tacjax.plan`` from the data, trained beside the grid.

For every T of a data set's grid, before any training: the baseline network of that T, freshly
initialised with the study's seed (the same weights the baseline row starts from), scores one
calibration batch, the first ``CALIBRATION`` training samples encoded as in training (key
``jax.random.key(seed)``); ``tacjax.plan.choose_plan`` then picks the fastest plan whose
predicted accuracy drop is at most ``BUDGET.value`` points. A fresh network rather than the trained
baseline keeps the promise of the planner (seconds, no training) and lets the plan run in the same
study as the grid; the statistics read the data's order through random 3x3 filters, which is what
the order tests need. The plan is one more ``Config`` (label ``<prefix>plan_auto``, mode ``"plan"``);
its summary (choices, predictions, the order profile, the dense-work terms of every configuration
of that T) goes into ``results.json`` and its table, placement and profile plot into the report.
"""

from __future__ import annotations

import os
import time

import numpy as np

from tacjax.study.configs import Config
from tacjax.study.datasets import Prepared
from tacjax.study.options import StudyOptions

__all__ = ["BUDGET", "CALIBRATION", "LABEL", "auto_plans"]

#: Calibration batch size (fewer when the training set is smaller).
CALIBRATION = 128
#: Suffix of the plan's label (after the grid's prefix, e.g. ``"T16_"``).
LABEL = "plan_auto"


def _budget():
    from tacjax.plan import Budget

    return Budget("max_drop", 1.0)


#: The budget of ``--plan auto``: a predicted drop of at most 1 accuracy point.
BUDGET = _budget()


def _work_terms(model, configs) -> dict:
    from tacjax.cost import counts
    from tacjax.plan import plan_specs

    out = {}
    for c in configs:
        cs = [counts(s) for s in plan_specs(model, c.modes, c.ks)]
        out[c.label] = {"macs": float(sum(x.macs + x.accumulates for x in cs)),
                        "neuron_updates": float(sum(x.neuron_updates for x in cs))}
    return out


def _one(data: Prepared, base: Config, opts: StudyOptions) -> tuple[Config, dict]:
    import jax
    import jax.numpy as jnp

    from tacjax.plan import choose_plan, order_profile, plan_table, plot_profile

    t0 = time.perf_counter()
    prefix = base.label[: -len("baseline")]
    model = data.build(base)
    n = min(CALIBRATION, len(data.train[1]))
    x = data.encoder(base.num_steps)(jax.random.key(opts.seed), jnp.asarray(data.train[0][:n]))
    profile = order_profile(model, x)
    p = choose_plan(model, profile, BUDGET)
    config = Config(prefix + LABEL, "plan", None, base.num_steps, p.modes, p.ks)
    plot = plot_profile(p, os.path.join(os.fspath(opts.out), f"{data.name}_{prefix}plan_profile.png"))
    same_t = [c for c in data.configs if c.num_steps == base.num_steps]
    summary = {
        "label": config.label, "num_steps": base.num_steps, "modes": list(p.modes), "ks": list(p.ks),
        "budget": {"kind": p.budget.kind, "value": p.budget.value}, "statistic": p.statistic,
        "drop_per_unit": p.drop_per_unit, "predicted_loss": p.predicted_loss,
        "predicted_drop": p.predicted_drop, "predicted_speedup": p.predicted_speedup,
        "conv_calls": p.conv_calls, "baseline_conv_calls": p.baseline_conv_calls, "cost": p.cost,
        "table": plan_table(p), "plot": plot, "plan_s": time.perf_counter() - t0,
        "calibration": f"first {n} training samples, baseline network freshly initialised (seed {opts.seed})",
        "profile": {"layers": list(profile.layers), "num_steps": profile.num_steps, "batch": profile.batch,
                    "rates": profile.rates,
                    "scores": {s: np.asarray(v).tolist() for s, v in profile.scores.items()}},
        "work_terms": _work_terms(model, [*same_t, config]),
    }
    print(f"  [{data.name}] plan for T={base.num_steps}: modes {p.modes} ks {p.ks}, predicted "
          f"{p.predicted_speedup:.2f}x and {p.predicted_drop:.2f} pts ({summary['plan_s']:.1f} s)",
          flush=True)
    return config, summary


def auto_plans(data: Prepared, opts: StudyOptions) -> tuple[list[Config], list[dict]]:
    """One planned ``Config`` and its summary per baseline (per T) of ``data.configs``."""
    out = [_one(data, c, opts) for c in data.configs if c.mode == "baseline"]
    return [c for c, _ in out], [s for _, s in out]
