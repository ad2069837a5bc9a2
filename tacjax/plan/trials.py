"""Trial plans: short trainings of a shortlist of per-layer plans, kept by held-out accuracy.

The order statistics (``planner``) say whether a layer's input *has* order within a chunk, not whether
a trained layer still reads it from the beta-weighted chunk sum (README *Planning*), so they cannot
rank plans by accuracy. This is the label-aware step: ``shortlist`` draws candidate plans from the
planner's search space, ``trial_plan`` trains them and keeps the best by successive halving
(Jamieson and Talwalkar 2016) on accuracy measured on held-out data:

1. rung 0: the baseline and every candidate train from scratch (the same ``build``, so the same init
   seed) for the fraction ``rungs[0]`` of the full budget (``epochs`` passes over ``train``; see
   ``rung_protocol``); the baseline's epoch time over the candidate's, in that run, is the
   candidate's measured training speed-up. With ``Budget("speedup", s)`` candidates measured below
   ``s`` drop out here; when none is left, the search stops and returns the fastest, flagged.
2. rung r > 0: the best ``ceil(n * keep)`` of the n left (validation accuracy; ties: the faster)
   and the baseline train again from scratch for ``rungs[r]``.
3. the choice, among the candidates of the last rung: ``Budget("speedup", s)``: the most accurate
   (ties: the faster); ``Budget("max_drop", d)``: the fastest whose accuracy is at least the
   baseline's (same rung) minus ``d`` points, else the baseline itself.

Speed-ups here are measured, not predicted (the work model of ``predict`` under-rates TAC-TP's on a
CPU). A plan costs minutes, not seconds: with 12 candidates, ``rungs=(1/3, 1)`` and ``keep=1/3`` it
trains 13 networks for a third of the budget and 5 for the whole, most of them faster than the
baseline. The validation data must be held out from both training and test data.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from tacjax.plan.names import parse_plan_name, plan_name
from tacjax.plan.planner import (
    DEFAULT_STATISTIC,
    Budget,
    _check_budget,
    _check_options,
    _check_profile,
    _enumerate,
    _number,
)
from tacjax.plan.predict import NEURON_COST, envelope, layer_losses, predicted_speedups
from tacjax.plan.profile import OrderProfile, baseline_model

__all__ = ["Trial", "TrialPlan", "rung_protocol", "shortlist", "trial_plan"]

_FN = "tacjax.plan.trial_plan"
Candidate = tuple[tuple[str, ...], tuple[int, ...]]


class Trial(NamedTuple):
    """One plan's trials.

    Attributes:
        name: ``plan_name(modes, ks)`` ("b-b-b" for the baseline).
        modes, ks: the plan.
        predicted_speedup: dense-work speed-up of ``predict.plan_work`` (None where not computed).
        speedups: measured training speed-up over the baseline in each rung it ran (1.0 for the baseline).
        accuracies: validation accuracy (fraction) after each rung it ran.
        feasible: False where ``Budget("speedup", s)`` dropped it at rung 0 (measured below ``s``).
    """

    name: str
    modes: tuple[str, ...]
    ks: tuple[int, ...]
    predicted_speedup: float | None
    speedups: tuple[float, ...]
    accuracies: tuple[float, ...]
    feasible: bool


@dataclasses.dataclass(frozen=True)
class TrialPlan:
    """The plan ``trial_plan`` chose, and every trial.

    Attributes:
        modes, ks, name: the chosen plan (the baseline's when ``max_drop`` found no candidate within it).
        accuracy, speedup: its validation accuracy and measured speed-up in the last rung it ran.
        met: whether the choice meets the budget (False only for a ``speedup`` budget that no
            candidate reached: then the fastest candidate is returned).
        budget: what was asked.
        baseline: the baseline's ``Trial``; ``trials``: the candidates' ``Trial`` in the order given.
        rungs: per rung ``(fraction, epochs, samples)``.
        wall_s: seconds spent.
    """

    modes: tuple[str, ...]
    ks: tuple[int, ...]
    name: str
    accuracy: float
    speedup: float
    met: bool
    budget: Budget
    baseline: Trial
    trials: tuple[Trial, ...]
    rungs: tuple[tuple[float, int, int], ...]
    wall_s: float


def rung_protocol(fraction: float, epochs: int, num_train: int, batch_size: int) -> tuple[int, int]:
    """``(epochs_r, samples_r)`` of a rung that spends ``fraction`` of ``epochs`` passes over ``num_train``.

    ``epochs_r = max(1, round(fraction * epochs))`` and ``samples_r`` the first
    ``round(fraction * epochs * num_train / epochs_r)`` training samples (at least one batch, at most
    all): a 5-epoch budget at 1/3 is 2 epochs over 2/3 of the data, a 1-epoch budget at 1/3 one epoch
    over the first third.
    """
    e = max(1, round(fraction * epochs))
    n = min(num_train, max(batch_size, round(fraction * epochs * num_train / e)))
    return e, n


def shortlist(model, profile: OrderProfile, *, size: int = 12, min_speedup: float = 1.0,
              candidate_ks: Sequence[int] | None = None, statistic: str = DEFAULT_STATISTIC,
              neuron_cost: float = NEURON_COST, seed: int = 0) -> tuple[Candidate, ...]:
    """Up to ``size`` candidate plans with predicted speed-up ``>= min_speedup``, for ``trial_plan``.

    The plans are those of the planner's search (``choose_plan``) other than the baseline, with K
    from ``candidate_ks`` (default: the powers of two up to T). Half (rounded up) are the plans of
    least predicted order loss (``statistic``; ties: the faster); the rest are drawn at random
    (``numpy.random.default_rng(seed)``) from the others, so plans the statistic over-charges, such as
    TAC-TP with a large K downstream, get their trial too.

    Args:
        model: the baseline ``ConvSNN`` (or its constructor arguments) ``profile`` was taken on.
        profile: ``order_profile(model, x)``.
        size: how many plans (int >= 1).
        min_speedup: the least predicted dense-work speed-up (>= 1; the work model under-rates
            TAC-TP on a CPU, so a floor below the measured target keeps such plans in).
        candidate_ks, statistic, neuron_cost: see ``choose_plan``.
        seed: the draw's seed (int >= 0).

    Returns:
        ``((modes, ks), ...)`` sorted by predicted speed-up, fastest first.

    Raises:
        ValueError: a bad argument, a profile of another network, or no plan reaching ``min_speedup``
            (the message gives the largest predicted speed-up).
    """
    fn = "tacjax.plan.shortlist"
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"{fn}: `size` must be an int >= 1; got {size!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"{fn}: `seed` must be an int >= 0; got {seed!r}.")
    if not _number(min_speedup) or min_speedup < 1:
        raise ValueError(f"{fn}: `min_speedup` must be a finite number >= 1; got {min_speedup!r}.")
    cands = _check_options(statistic, 0.0, neuron_cost, candidate_ks)
    model = baseline_model(model)
    _check_profile(model, profile, fn)
    t = profile.num_steps
    cands = cands or tuple(2 ** i for i in range(1, t.bit_length()) if 2 ** i <= t)
    env = envelope(profile.scores[statistic])
    plans = [p for p in _enumerate(t, model.num_layers, cands) if any(m != "baseline" for m in p[0])]
    speeds = predicted_speedups(model, plans, num_steps=t, neuron_cost=neuron_cost)
    scored = [(float(sum(layer_losses(env, modes, ks))), -speed, modes, ks)
              for (modes, ks), speed in zip(plans, speeds, strict=True)]
    fast = sorted(s for s in scored if -s[1] >= min_speedup * (1 - 1e-9))
    if not fast:
        raise ValueError(f"{fn}: `min_speedup` {min_speedup} exceeds the largest predicted speed-up of any "
                         f"plan, {max(-s[1] for s in scored):.3g}.")
    head = fast[: math.ceil(size / 2)]
    rest = fast[len(head):]
    pick = np.random.default_rng(seed).choice(len(rest), size=min(size - len(head), len(rest)), replace=False)
    chosen = head + [rest[i] for i in sorted(pick)]
    return tuple((modes, ks) for _, _, modes, ks in sorted(chosen, key=lambda s: (s[1], s[0])))


def _candidates(candidates, num_steps: int, build) -> list[Candidate]:
    if isinstance(candidates, str) or not isinstance(candidates, Sequence) or not candidates:
        raise ValueError(f"{_FN}: `candidates` must be a non-empty sequence of plans ((modes, ks) pairs or "
                         f"names such as 'b-tp16-tac2'); got {candidates!r}.")
    out = []
    for i, c in enumerate(candidates):
        modes, ks = parse_plan_name(c) if isinstance(c, str) else (tuple(c[0]), tuple(int(k) for k in c[1]))
        if all(m == "baseline" for m in modes):
            raise ValueError(f"{_FN}: candidates[{i}] is the baseline, which always runs as the reference.")
        if (modes, ks) in out:
            raise ValueError(f"{_FN}: candidates[{i}] {plan_name(modes, ks)!r} repeats an earlier one.")
        if out and len(modes) != len(out[0][0]):
            raise ValueError(f"{_FN}: candidates[{i}] has {len(modes)} layers, candidates[0] "
                             f"{len(out[0][0])}.")
        try:
            build(modes, ks).out_steps(num_steps)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{_FN}: candidates[{i}] {plan_name(modes, ks)!r} does not fit T = {num_steps}: "
                             f"{e}") from e
        out.append((modes, ks))
    return out


def _check_numbers(epochs, batch_size, num_steps, rungs, keep, learning_rate, train, val) -> tuple:
    for name, v, lo in (("epochs", epochs, 1), ("batch_size", batch_size, 1), ("num_steps", num_steps, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{_FN}: `{name}` must be an int >= {lo}; got {v!r}.")
    rungs = tuple(rungs) if isinstance(rungs, Sequence) else ()
    ok = rungs and all(isinstance(f, int | float) and not isinstance(f, bool) and 0 < f <= 1 for f in rungs)
    if not ok or list(rungs) != sorted(rungs):
        raise ValueError(f"{_FN}: `rungs` must be a non-empty increasing sequence of fractions in (0, 1]; "
                         f"got {rungs!r}.")
    if isinstance(keep, bool) or not isinstance(keep, int | float) or not 0 < keep <= 1:
        raise ValueError(f"{_FN}: `keep` must be a fraction in (0, 1]; got {keep!r}.")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, int | float) or not learning_rate > 0:
        raise ValueError(f"{_FN}: `learning_rate` must be a number > 0; got {learning_rate!r}.")
    for name, d in (("train", train), ("val", val)):
        if not (isinstance(d, tuple) and len(d) == 2 and len(d[0]) == len(d[1]) and len(d[1]) >= 1):
            raise ValueError(f"{_FN}: `{name}` must be an (inputs [N, ...], labels [N]) pair with N >= 1; "
                             f"got {type(d).__name__}.")
    if len(train[1]) < batch_size:
        raise ValueError(f"{_FN}: `train` has {len(train[1])} samples, fewer than one batch of {batch_size}.")
    return tuple(float(f) for f in rungs)


def _choose(budget: Budget, base: Trial, last: list[Trial]) -> tuple[Trial, bool]:
    if budget.kind == "speedup":
        if not last[0].feasible:  # nothing reached the target: the fastest of rung 0, flagged
            return last[0], False
        return max(last, key=lambda t: (t.accuracies[-1], t.speedups[-1])), True
    floor = base.accuracies[-1] - budget.value / 100.0 - 1e-12
    ok = [t for t in last if t.accuracies[-1] >= floor]
    return (max(ok, key=lambda t: (t.speedups[-1], t.accuracies[-1])) if ok else base), True


def trial_plan(build: Callable[[tuple[str, ...], tuple[int, ...]], object], candidates, train: tuple,
               val: tuple, budget: Budget, *, num_steps: int, encoder, epochs: int, batch_size: int,
               learning_rate: float = 1e-3, seed: int = 0, loss: str = "membrane",
               rungs: Sequence[float] = (1 / 3, 1.0), keep: float = 1 / 3,
               predicted: dict | None = None, progress: bool = True) -> TrialPlan:
    """Train ``candidates`` briefly beside the baseline and choose one by ``budget`` (see the module doc).

    Args:
        build: ``(modes, ks) -> model``, a fresh network (fixed init seed) for ``tacjax.train.fit``,
            e.g. ``lambda m, k: DVSGestureNet(..., modes=m, ks=k, rngs=nnx.Rngs(0))``.
        candidates: plans, each a ``(modes, ks)`` pair or a name (``"b-tp16-tac2"``), e.g. from
            ``shortlist``; not the baseline, no repeats, all with the same number of conv layers.
        train: ``(inputs [N, ...], labels [N])`` for ``fit`` (through ``encoder``).
        val: a pair of the same layout, held out from both ``train`` and the test data.
        budget: ``Budget("speedup", s)`` (measured speed-up) or ``Budget("max_drop", points)``
            (validation accuracy against the baseline's).
        num_steps: T that ``encoder`` produces (every candidate's K must fit it).
        encoder, epochs, batch_size, learning_rate, seed, loss: the full training budget, as for
            ``tacjax.train.fit``; rungs train for fractions of it.
        rungs: increasing fractions in (0, 1] of the full budget, one per rung.
        keep: the fraction of candidates a rung passes on (rounded up, at least one).
        predicted: optional ``name -> predicted speed-up`` recorded in the trials.
        progress: a progress bar over the trainings.

    Returns:
        ``TrialPlan``: ``modes``/``ks`` build the chosen network; ``trials_table(result)`` and
        ``plot_trials(result, path)`` report every trial.

    Raises:
        TypeError / ValueError: a bad argument (the message names it), before any training.
    """
    from tacjax.train import fit

    t0 = time.perf_counter()
    budget = _check_budget(budget)
    fracs = _check_numbers(epochs, batch_size, num_steps, rungs, keep, learning_rate, train, val)
    if not callable(build):
        raise TypeError(f"{_FN}: `build` must be a callable (modes, ks) -> model; got "
                        f"{type(build).__name__}.")
    cands = _candidates(candidates, num_steps, build)
    n_layers = len(cands[0][0])
    base_plan = (("baseline",) * n_layers, (1,) * n_layers)
    predicted = dict(predicted or {})
    protos = [(f, *rung_protocol(f, epochs, len(train[1]), batch_size)) for f in fracs]
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(cands) + 1, desc="trial plans", unit="run", leave=False)

    def run(modes, ks, e, n) -> tuple[float, float]:
        name = plan_name(modes, ks)
        if bar is not None:
            bar.set_postfix_str(name)
        hist = fit(build(modes, ks), (train[0][:n], train[1][:n]), val, encoder=encoder, epochs=e,
                   batch_size=batch_size, learning_rate=learning_rate, seed=seed, loss=loss, progress=False,
                   desc=name)
        if bar is not None:
            bar.update()
        return float(hist[-1]["test_accuracy"]), float(np.mean([h["train_time_s"] for h in hist]))

    records = {c: ([], []) for c in [base_plan, *cands]}  # plan -> (speed-ups, accuracies) per rung
    slow = set()  # dropped at rung 0 for a speed-up target
    alive = list(cands)
    try:
        for r, (_, e, n) in enumerate(protos):
            if r > 0:
                alive = sorted(alive, key=lambda c: (-records[c][1][-1], -records[c][0][-1]))
                alive = alive[: max(1, math.ceil(len(alive) * keep))]
                if bar is not None:
                    bar.total += len(alive) + 1
            base_acc, base_s = run(*base_plan, e, n)
            records[base_plan][0].append(1.0)
            records[base_plan][1].append(base_acc)
            for c in alive:
                acc, secs = run(*c, e, n)
                records[c][0].append(base_s / secs)
                records[c][1].append(acc)
            if r == 0 and budget.kind == "speedup":
                slow = {c for c in alive if records[c][0][0] < budget.value}
                alive = [c for c in alive if c not in slow]
                if not alive:  # nothing reached the target: no more rungs, the fastest is returned
                    alive = [max(cands, key=lambda c: records[c][0][0])]
                    break
    finally:
        if bar is not None:
            bar.close()

    def trial(c) -> Trial:
        sp, acc = records[c]
        name = plan_name(*c)
        return Trial(name, c[0], c[1], predicted.get(name), tuple(sp), tuple(acc), c not in slow)

    base = trial(base_plan)
    trials = tuple(trial(c) for c in cands)
    chosen, met = _choose(budget, base, [trial(c) for c in alive])
    return TrialPlan(chosen.modes, chosen.ks, chosen.name, chosen.accuracies[-1], chosen.speedups[-1], met,
                     budget, base, trials, tuple(protos), time.perf_counter() - t0)
