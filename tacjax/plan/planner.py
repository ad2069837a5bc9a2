"""The budgeted search: every per-layer (mode, K) plan of a network, scored by order loss and cost.

``plan(model, x, budget)`` profiles the baseline network on the calibration batch ``x``
(``order_profile``), then ``choose_plan`` searches every plan in which each conv layer is
"baseline", or "tac" / "tac_tp" with a K from ``candidate_ks`` that fits the steps reaching it
(``T_{i+1} = ceil(T_i / K_i)`` after a "tac" layer, so every plan is a valid ``modes``/``ks`` for
``ConvSNN``). Each plan gets a predicted order loss (``predict.layer_losses`` on one statistic)
and a predicted speed-up (baseline ``predict.plan_work`` / the plan's); the budget picks one:

* ``Budget("speedup", s)``, ``s >= 1``: the least predicted loss among plans with predicted
  speed-up ``>= s`` (ties: the faster plan);
* ``Budget("max_drop", d)``, ``d >= 0`` accuracy points: the fastest plan whose predicted drop
  ``drop_per_unit * loss`` is ``<= d`` (ties: the smaller loss).

The predicted drop is the statistic's estimate, turned into points by one constant
(``drop_per_unit``, default ``DROP_PER_UNIT``, fitted on a design run of the study by
``scripts/plan_study.py``): use it to rank plans, not as a promise. Nothing here is jittable (a
host-side search over Python tuples); with ``N`` conv layers and ``T`` steps it scores at most
``(2 T - 1)^N`` plans (about 12 000 for the study's 3-layer network at T = 16, a second or two).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import NamedTuple

from tacjax.aggregate import conv_calls
from tacjax.cost import naive_energy, sata_energy
from tacjax.plan.predict import (
    NEURON_COST,
    envelope,
    layer_losses,
    plan_specs,
    plan_work,
    predicted_speedups,
    steps_through,
)
from tacjax.plan.profile import OrderProfile, baseline_model, order_profile
from tacjax.plan.stats import STATISTICS

__all__ = ["BUDGET_KINDS", "DEFAULT_STATISTIC", "DROP_PER_UNIT", "Budget", "LayerChoice", "Plan",
           "choose_plan", "plan"]

BUDGET_KINDS = ("speedup", "max_drop")
#: The statistic the planner uses unless told otherwise (the best rank correlation in the study).
DEFAULT_STATISTIC = "asymmetry"
#: Accuracy points per unit of predicted loss of ``DEFAULT_STATISTIC``: the least-squares slope through
#: the origin over the 29 configurations of ``scripts/plan_design_run.py`` (reduced protocol, seed 0),
#: as ``scripts/plan_study.py`` reports it (75.8).
DROP_PER_UNIT = 76.0
_FN = "tacjax.plan"


@dataclasses.dataclass(frozen=True)
class Budget:
    """What the plan must meet.

    Attributes:
        kind: "speedup" (predicted speed-up over the baseline, ``value >= 1``) or "max_drop"
            (predicted accuracy drop in points, ``value >= 0``).
        value: the target; a finite number.
    """

    kind: str
    value: float


class LayerChoice(NamedTuple):
    """One conv layer of a plan: its mode and K, the steps in and out, conv calls and predicted loss."""

    name: str
    mode: str
    k: int
    steps_in: int
    steps_out: int
    conv_calls: int
    loss: float


@dataclasses.dataclass(frozen=True)
class Plan:
    """The chosen plan and its predictions.

    Attributes:
        modes, ks: per conv layer, ready for ``ConvSNN(modes=..., ks=...)`` (K = 1 where "baseline").
        layers: one ``LayerChoice`` per conv layer.
        budget, statistic, drop_per_unit: what the search was asked.
        predicted_loss: sum of the layers' losses (statistic units); ``predicted_drop`` in points.
        predicted_speedup: baseline dense work / plan dense work (``predict.plan_work``).
        conv_calls, baseline_conv_calls: per-sample conv calls (``tacjax.conv_calls``).
        cost: ``work`` and ``baseline_work`` (MAC-equivalents per sample), ``naive_pj`` /
            ``baseline_naive_pj`` (``tacjax.cost.naive_energy``) and ``sata`` / ``baseline_sata``
            (``sata_energy``, SATA units), the energies at the profile's measured spike rates.
        profile: the ``OrderProfile`` the plan was chosen from.
        searched: number of plans scored.
    """

    modes: tuple[str, ...]
    ks: tuple[int, ...]
    layers: tuple[LayerChoice, ...]
    budget: Budget
    statistic: str
    drop_per_unit: float
    predicted_loss: float
    predicted_drop: float
    predicted_speedup: float
    conv_calls: int
    baseline_conv_calls: int
    cost: dict
    profile: OrderProfile
    searched: int


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_budget(budget) -> Budget:
    if not isinstance(budget, Budget):
        raise TypeError(f"{_FN}: `budget` must be a tacjax.plan.Budget(kind, value); got {budget!r}.")
    if budget.kind not in BUDGET_KINDS:
        raise ValueError(f"{_FN}: `budget.kind` must be one of {BUDGET_KINDS}; got {budget.kind!r}.")
    lo = 1.0 if budget.kind == "speedup" else 0.0
    if not _number(budget.value) or budget.value < lo:
        what = "a speed-up >= 1" if budget.kind == "speedup" else "a drop in accuracy points >= 0"
        raise ValueError(f"{_FN}: `budget.value` for {budget.kind!r} must be {what} (finite); got "
                         f"{budget.value!r}.")
    return budget


def _check_options(statistic, drop_per_unit, neuron_cost, candidate_ks) -> tuple[int, ...] | None:
    if statistic not in STATISTICS:
        raise ValueError(f"{_FN}: `statistic` must be one of {STATISTICS}; got {statistic!r}.")
    for name, v in (("drop_per_unit", drop_per_unit), ("neuron_cost", neuron_cost)):
        if not _number(v) or v < 0:
            raise ValueError(f"{_FN}: `{name}` must be a finite number >= 0; got {v!r}.")
    if candidate_ks is None:
        return None
    ks = tuple(candidate_ks)
    if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 2 for k in ks):
        raise ValueError(f"{_FN}: `candidate_ks` must be ints >= 2 (K = 1 is the baseline); got "
                         f"{candidate_ks!r}.")
    return tuple(sorted(set(ks)))


def _check_profile(model, profile, fn: str) -> None:
    want = (*(f"conv{i + 1}" for i in range(model.num_layers)), "fc")
    if not isinstance(profile, OrderProfile) or profile.layers != want:
        raise ValueError(f"{fn}: `profile` must be order_profile of this model (layers {want}); got "
                         f"{type(profile).__name__}.")


def _options(steps: int, candidate_ks: tuple[int, ...] | None) -> list[tuple[str, int]]:
    ks = [k for k in (candidate_ks or range(2, steps + 1)) if k <= steps]
    return [("baseline", 1)] + [(m, k) for m in ("tac", "tac_tp") for k in ks]


def _enumerate(num_steps: int, n_layers: int, candidate_ks) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
    """Every valid (modes, ks) of ``n_layers`` conv layers at input T = ``num_steps``."""
    plans = [((), (), num_steps)]
    for _ in range(n_layers):
        plans = [(ms + (m,), ks + (k,), math.ceil(t / k) if m == "tac" else t)
                 for ms, ks, t in plans for m, k in _options(t, candidate_ks)]
    return [(ms, ks) for ms, ks, _ in plans]


def _energies(model, modes, ks, rates, num_steps: int) -> dict:
    specs = plan_specs(model, modes, ks, rates, num_steps=num_steps)
    return {"naive_pj": naive_energy(specs)["total"], "sata": sata_energy(specs)["total"]}


def choose_plan(model, profile: OrderProfile, budget: Budget, *, statistic: str = DEFAULT_STATISTIC,
                drop_per_unit: float = DROP_PER_UNIT, neuron_cost: float = NEURON_COST,
                candidate_ks: Sequence[int] | None = None) -> Plan:
    """Search every plan of ``model`` and return the one ``budget`` picks (rules in the module doc).

    Args:
        model: the baseline ``ConvSNN`` (or its constructor arguments) the profile was taken on.
        profile: ``order_profile(model, x)``.
        budget: ``Budget("speedup", s >= 1)`` or ``Budget("max_drop", points >= 0)``.
        statistic: which of ``STATISTICS`` scores the order loss.
        drop_per_unit: accuracy points per unit of loss (>= 0).
        neuron_cost: MAC-equivalents of one LIF update in the work model (>= 0).
        candidate_ks: the K values to try (ints >= 2; None: every K from 2 to the steps a layer sees).

    Raises:
        TypeError: ``budget`` is not a ``Budget``.
        ValueError: an unknown budget kind or statistic, a value out of range, a profile of another
            network, or a speed-up target above every plan's predicted speed-up (the message gives
            the largest).
    """
    budget = _check_budget(budget)
    cands = _check_options(statistic, drop_per_unit, neuron_cost, candidate_ks)
    model = baseline_model(model)
    _check_profile(model, profile, _FN)
    t = profile.num_steps  # T of the calibration batch: the plan is for that T
    env = envelope(profile.scores[statistic])
    plans = _enumerate(t, model.num_layers, cands)
    speedups = predicted_speedups(model, plans, num_steps=t, neuron_cost=neuron_cost)
    scored = [(sum(layer_losses(env, modes, ks)), speedup, modes, ks)
              for (modes, ks), speedup in zip(plans, speedups, strict=True)]
    if budget.kind == "speedup":
        ok = [s for s in scored if s[1] >= budget.value * (1 - 1e-9)]
        if not ok:
            best = max(s[1] for s in scored)
            raise ValueError(f"{_FN}: `budget.value` {budget.value} exceeds the largest predicted speed-up "
                             f"of any plan, {best:.3g}.")
        loss, speedup, modes, ks = min(ok, key=lambda s: (s[0], -s[1]))
    else:
        ok = [s for s in scored if drop_per_unit * s[0] <= budget.value + 1e-12]
        loss, speedup, modes, ks = max(ok, key=lambda s: (s[1], -s[0]))
    return _describe(model, profile, budget, statistic, drop_per_unit, neuron_cost, env, modes, ks, loss,
                     speedup, len(scored))


def _describe(model, profile, budget, statistic, drop_per_unit, neuron_cost, env, modes, ks, loss, speedup,
              searched) -> Plan:
    t = profile.num_steps
    steps = steps_through(t, modes, ks)
    losses = layer_losses(env, modes, ks)
    layers = tuple(LayerChoice(f"conv{i + 1}", m, k, steps[i], steps[i + 1], conv_calls(steps[i], k, m), lo)
                   for i, (m, k, lo) in enumerate(zip(modes, ks, losses, strict=True)))
    base = ("baseline",) * model.num_layers, (1,) * model.num_layers
    cost = {"work": plan_work(plan_specs(model, modes, ks, num_steps=t), neuron_cost),
            "baseline_work": plan_work(plan_specs(model, *base, num_steps=t), neuron_cost)}
    for key, v in _energies(model, modes, ks, profile.rates, t).items():
        cost[key] = v
    for key, v in _energies(model, *base, profile.rates, t).items():
        cost[f"baseline_{key}"] = v
    return Plan(tuple(modes), tuple(int(k) for k in ks), layers, budget, statistic, float(drop_per_unit),
                float(loss), float(drop_per_unit * loss), float(speedup), sum(lc.conv_calls for lc in layers),
                model.num_layers * t, cost, profile, searched)


def plan(model, x, budget: Budget, *, statistic: str = DEFAULT_STATISTIC,
         drop_per_unit: float = DROP_PER_UNIT, neuron_cost: float = NEURON_COST,
         candidate_ks: Sequence[int] | None = None, key=None, seed: int = 0) -> Plan:
    """Choose each conv layer's mode and K for ``model`` from the calibration batch ``x`` and a budget.

    Args:
        model: a baseline ``ConvSNN`` (e.g. ``MNISTNet()``), or a mapping of ``ConvSNN`` arguments
            (``in_size``, ``in_channels``, ``channels``, ``num_classes``, ...), built
            with ``nnx.Rngs(seed)``.
        x: calibration batch ``[T, B, H, W, C]``, floating, B >= 2 (e.g. one encoded training batch).
        budget: ``Budget("speedup", s)`` or ``Budget("max_drop", points)``.
        statistic, drop_per_unit, neuron_cost, candidate_ks: see ``choose_plan``.
        key: PRNG key of the statistics' permutation null (default ``jax.random.key(0)``).
        seed: init seed when ``model`` is a mapping.

    Returns:
        ``Plan``: ``plan.modes``/``plan.ks`` build the network (``ConvSNN(..., modes=plan.modes,
        ks=plan.ks)``); ``tacjax.plan.plan_table(plan)`` and ``plot_profile(plan, path)`` report it.

    Raises:
        TypeError / ValueError: see ``choose_plan`` and ``order_profile`` (a calibration batch of
        the wrong rank, shape or dtype names ``x``).
    """
    _check_budget(budget)
    _check_options(statistic, drop_per_unit, neuron_cost, candidate_ks)
    model = baseline_model(model, seed=seed)
    profile = order_profile(model, x, key=key)
    return choose_plan(model, profile, budget, statistic=statistic, drop_per_unit=drop_per_unit,
                       neuron_cost=neuron_cost, candidate_ks=candidate_ks)
