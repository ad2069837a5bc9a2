"""Choose collapse (TAC) or preserve (TAC-TP), and K, per conv layer, from a calibration batch and a budget.

    import tacjax.plan as tp
    p = tp.plan(MNISTNet(rngs=nnx.Rngs(0)), x, tp.Budget("max_drop", 1.0))  # x: [T, B, 28, 28, 1]
    net = MNISTNet(modes=p.modes, ks=p.ks, rngs=nnx.Rngs(0))
    print(tp.plan_table(p)); tp.plot_profile(p, "profile.png")

Modules: ``stats`` (the order statistics of one spike train), ``profile`` (every layer of the
baseline network at every K), ``predict`` (a plan's predicted order loss and cost), ``planner``
(the budgeted search), ``trials`` (short trainings of a shortlist, kept by held-out accuracy),
``names`` (``"b-tp16-tac2"``), ``report`` (tables and plots).

Known limit (measured by ``scripts/plan_sweep.py``, README *Planning*): the statistics say whether a
layer's input *has* order within a chunk, not whether the beta-weighted chunk sum still carries it to
a trained layer. TAC-TP with a large K in the last conv layer keeps the order as a recency-weighted
sum and raised accuracy on the synthetic events by up to 8.5 points, which the planner charges as a
loss; over 15 per-layer plans there its predicted loss does not rank the measured drops (Spearman
-0.10). Treat a plan as a fast, order-aware default; ``trial_plan`` is the label-aware step that
finds the better plans, at the price of short trainings (minutes)::

    cands = tp.shortlist(net, tp.order_profile(net, x), size=12, min_speedup=1.5)
    r = tp.trial_plan(build, cands, train, val, tp.Budget("speedup", 2.0), num_steps=16,
                      encoder=events_encoder(), epochs=5, batch_size=64)   # build(modes, ks) -> net
    print(tp.trials_table(r)); tp.plot_trials(r, "trials.png")
"""

from tacjax.plan.names import parse_plan_name, plan_name
from tacjax.plan.planner import (
    BUDGET_KINDS,
    DEFAULT_STATISTIC,
    DROP_PER_UNIT,
    Budget,
    LayerChoice,
    Plan,
    choose_plan,
    plan,
)
from tacjax.plan.predict import NEURON_COST, envelope, layer_losses, plan_specs, plan_work, predicted_speedups
from tacjax.plan.profile import OrderProfile, order_profile
from tacjax.plan.report import plan_summary, plan_table, plot_profile, plot_trials, trials_table
from tacjax.plan.stats import OFFSETS, STATISTICS, OrderScores, frame_gram, order_scores
from tacjax.plan.trials import Trial, TrialPlan, rung_protocol, shortlist, trial_plan

__all__ = [
    "BUDGET_KINDS",
    "DEFAULT_STATISTIC",
    "DROP_PER_UNIT",
    "NEURON_COST",
    "OFFSETS",
    "STATISTICS",
    "Budget",
    "LayerChoice",
    "OrderProfile",
    "OrderScores",
    "Plan",
    "Trial",
    "TrialPlan",
    "choose_plan",
    "envelope",
    "frame_gram",
    "layer_losses",
    "order_profile",
    "order_scores",
    "parse_plan_name",
    "plan",
    "plan_name",
    "plan_specs",
    "plan_summary",
    "plan_table",
    "plan_work",
    "plot_profile",
    "plot_trials",
    "predicted_speedups",
    "rung_protocol",
    "shortlist",
    "trial_plan",
    "trials_table",
]
