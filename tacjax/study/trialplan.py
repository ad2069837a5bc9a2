"""``--plan trials``: a per-layer plan chosen by short trainings (``tacjax.plan.trial_plan``), after the grid.

For every T of a data set's grid, once the grid's rows of that T are trained: the target is the
grid's median *measured* training speed-up (the baseline counts as a point at 1.0), so the plan is
asked to be at least as fast as a typical grid point and as accurate as it can be
(``Budget("speedup", median)``). The candidates are ``SHORTLIST`` plans of ``tacjax.plan.shortlist``
with predicted speed-up ``>= FLOOR * median`` (the work model under-rates TAC-TP on a CPU; >= 1
when no plan is predicted that fast, which the run prints and the summary's floor shows), drawn
from the order profile of the freshly initialised baseline on the calibration batch that
``--plan auto`` uses. They train with the study's protocol, seed and ``build`` in rungs ``RUNGS``
of it, and are judged on up to ``VALIDATION`` samples held out from both the training and the test
subsets (``Prepared.validation``), never on the test set. The chosen plan is one more ``Config``
(label ``<prefix>plan_trials``, mode ``"plan"``), trained like every row; its summary (the trials'
table, the plot, the time spent) goes into ``results.json`` and ``results.md``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from tacjax.study.configs import Config
from tacjax.study.datasets import Prepared
from tacjax.study.options import StudyOptions

__all__ = ["FLOOR", "KEEP", "LABEL", "RUNGS", "SHORTLIST", "VALIDATION", "trial_plan_config"]

#: Suffix of the plan's label (after the grid's prefix, e.g. ``"T16_"``).
LABEL = "plan_trials"
#: Candidate plans trained in the first rung.
SHORTLIST = 12
#: The shortlist's predicted speed-up floor, as a fraction of the measured target.
FLOOR = 0.8
#: Rungs, as fractions of the protocol's training, and the fraction of candidates each passes on.
RUNGS = (1 / 3, 1.0)
KEEP = 1 / 3
#: Held-out validation samples, at most (and at most twice the test subset; fewer when the data set
#: has fewer to spare).
VALIDATION = 1024


def _target(rows: list[dict], num_steps: int) -> float:
    speeds = [r["train_speedup"] for r in rows if r["num_steps"] == num_steps and r["mode"] != "plan"
              and r.get("train_speedup") is not None]
    return float(np.median(speeds)) if speeds else 1.0


def trial_plan_config(data: Prepared, base: Config, rows: list[dict], opts: StudyOptions
                      ) -> tuple[Config | None, dict]:
    """The trial plan's ``Config`` for the T of ``base`` (a baseline) and its summary.

    Returns ``(None, summary)`` with ``summary["skipped"]`` saying why when the data set has no
    held-out data (``data.validation`` is None).
    """
    import jax
    import jax.numpy as jnp

    from tacjax.plan import (
        Budget,
        order_profile,
        plan_name,
        plot_trials,
        predicted_speedups,
        shortlist,
        trial_plan,
        trials_table,
    )
    from tacjax.study.autoplan import CALIBRATION

    prefix = base.label[: -len("baseline")]
    label = prefix + LABEL
    if data.validation is None:
        print(f"  [{data.name}] --plan trials skipped for T={base.num_steps}: no held-out data", flush=True)
        return None, {"label": label, "num_steps": base.num_steps, "skipped": "no held-out validation data"}
    t0 = time.perf_counter()
    p, t = data.protocol, base.num_steps
    val = data.validation(min(VALIDATION, 2 * len(data.test[1])))
    target = _target(rows, t)
    model = data.build(base)
    n = min(CALIBRATION, len(data.train[1]))
    x = data.encoder(t)(jax.random.key(opts.seed), jnp.asarray(data.train[0][:n]))
    profile = order_profile(model, x)
    floor = max(1.0, FLOOR * target)
    try:
        cands = shortlist(model, profile, size=SHORTLIST, min_speedup=floor, seed=opts.seed)
    except ValueError as e:  # no plan is predicted that fast: shortlist from every plan, say so
        print(f"  [{data.name}] {e} Shortlisting from every plan.", flush=True)
        floor = 1.0
        cands = shortlist(model, profile, size=SHORTLIST, min_speedup=floor, seed=opts.seed)
    predicted = {plan_name(*c): s for c, s in zip(cands, predicted_speedups(model, cands, num_steps=t),
                                                   strict=True)}

    def build(modes, ks):
        return data.build(Config(label, "plan", None, t, modes, ks))

    result = trial_plan(build, cands, data.train, val, Budget("speedup", target), num_steps=t,
                        encoder=data.encoder(t), epochs=p["epochs"], batch_size=p["batch"],
                        learning_rate=p["lr"], seed=opts.seed, loss=opts.loss, rungs=RUNGS, keep=KEEP,
                        predicted=predicted, progress=opts.progress)
    plot = plot_trials(result, os.path.join(os.fspath(opts.out), f"{data.name}_{prefix}plan_trials.png"))
    config = Config(label, "plan", None, t, result.modes, result.ks)
    summary = {
        "label": label, "num_steps": t, "modes": list(result.modes), "ks": list(result.ks),
        "name": result.name,
        "target_speedup": target, "shortlist_floor": floor, "met": result.met,
        "validation": f"{len(val[1])} samples held out from the training and test subsets",
        "val_accuracy": result.accuracy, "val_speedup": result.speedup,
        "rungs": [list(r) for r in result.rungs], "table": trials_table(result), "plot": plot,
        "trials": [tr._asdict() for tr in (result.baseline, *result.trials)],
        "plan_s": time.perf_counter() - t0,
    }
    print(f"  [{data.name}] trial plan for T={t}: {result.name} ({100 * result.accuracy:.2f}% validation, "
          f"{result.speedup:.2f}x measured, target {target:.2f}x; {summary['plan_s']:.0f} s)", flush=True)
    return config, summary
