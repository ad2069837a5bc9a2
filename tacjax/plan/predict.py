"""What a per-layer plan is predicted to lose (from the order profile) and to cost (from ``tacjax.cost``).

**Order loss.** ``S_i(A)`` is the statistic of layer ``i``'s input at chunk length ``A`` (in input
frames), made non-negative and non-decreasing in A (``envelope``: the order within chunks of A
includes the order within any shorter chunk); row ``N`` is the readout's input. Walking through the
conv layers with ``c`` (input frames per step reaching the layer: > 1 after a collapse) and ``u``
(the chunk length whose order an upstream aggregation already erased):

* the layer's input has lost the order within ``A_in = max(u, c)`` frames; a "tac"/"tac_tp" layer
  with K sums its input over ``A = max(u, c K)`` frames ("baseline": ``A = A_in``);
* aggregation loss ``S_i(A) - S_i(A_in)``: the order at its input that its own sum erases;
* a "tac" layer also emits one step per chunk, so the timing of its output (the next layer's
  input) within A frames is gone: collapse loss ``S_{i+1}(A) - S_{i+1}(A_in)``;
* "tac" passes ``c <- c K`` on, "tac_tp" passes ``u <- A`` (the time axis stays).

So the grid's "tac K" (collapse the first layer) loses ``S_1(K) + S_2(K)`` and "tac_tp K" (every
layer aggregates K) loses ``S_1(K)``. Chunks are assumed nested (true when each K divides the
steps it sees); ``A`` is capped at T. ``plan_study.py`` measures how well this ranks the study's runs.

**Cost.** Dense work per sample, from ``tacjax.cost.counts`` at input rate 1 (a dense convolution
costs the same whatever the spikes): ``work = MACs + accumulates + neuron_cost * neuron_updates``,
summed over the conv layers and the readout; the predicted speed-up is baseline work / plan work.
``neuron_cost`` is the price of one LIF update in multiply-accumulates. The default, 500, comes
from a one-off timing of jitted training steps (forward and backward, LIF in ``lax.scan``) of the
study's Fashion-MNIST network on our busy 2-core CPU, where conv1's LIF dominated;
``scripts/plan_study.py`` refits it from a study's epoch times where the rows vary MACs and LIF
updates independently (39 and 96 on the synthetic rows of our two runs, whose timings were very
noisy). A rough constant: it only ranks plans by predicted speed, and it ignores that on a CPU a
short, fully unrolled time loop costs less per step than a long ``lax.scan``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tacjax.cost import counts, mnist_specs

__all__ = ["NEURON_COST", "envelope", "layer_losses", "plan_specs", "plan_work", "predicted_speedups"]

#: Default MAC-equivalents of one LIF neuron update (see the module doc).
NEURON_COST = 500.0


def envelope(scores: np.ndarray) -> np.ndarray:
    """``[N, T]`` scores -> non-negative, non-decreasing in K (running max over K, clipped at 0)."""
    return np.maximum.accumulate(np.maximum(np.asarray(scores, np.float64), 0.0), axis=-1)


def layer_losses(env: np.ndarray, modes: Sequence[str], ks: Sequence[int]) -> list[float]:
    """Predicted order loss of each conv layer of a plan (rules in the module doc).

    Args:
        env: ``envelope`` of a profile's scores, ``[N + 1, T]`` (``env[i, a - 1]`` = ``S_i(a)``; the
            last row is the readout's input).
        modes, ks: the plan, one entry per conv layer (K ignored for "baseline").
    """
    n, t = env.shape[0] - 1, env.shape[1]
    if len(modes) != n or len(ks) != n:
        raise ValueError(f"layer_losses: `modes` and `ks` need one entry per conv layer ({n}); got "
                         f"{modes!r}, {ks!r}.")
    c, u, out = 1, 1, []
    for i in range(n):
        k = 1 if modes[i] == "baseline" else int(ks[i])
        a_in, a = min(t, max(u, c)), min(t, max(u, c * k))
        loss = env[i, a - 1] - env[i, a_in - 1]
        if modes[i] == "tac" and k > 1:
            loss += env[i + 1, a - 1] - env[i + 1, a_in - 1]
            c *= k
        elif modes[i] == "tac_tp":
            u = a
        out.append(float(loss))
    return out


def plan_specs(model, modes: Sequence[str], ks: Sequence[int], rates: dict[str, float] | None = None, *,
               num_steps: int):
    """``tacjax.cost`` layer specs of ``model``'s architecture under a plan (``mnist_specs``), for an
    input of ``num_steps`` frames (the networks take T from their input).

    ``rates`` are the input spike rates (None: 1.0 everywhere, the dense count).
    """
    convs = model.convs()
    pool = convs[0].pool if convs and convs[0].pool else 1
    rates = rates if rates is not None else {**{f"conv{i + 1}": 1.0 for i in range(len(convs))}, "fc": 1.0}
    return mnist_specs(num_steps, list(modes), [int(k) for k in ks], rates, in_size=model.in_size,
                       channels=[c.out_features for c in convs], num_classes=model.num_classes, pool=pool,
                       in_channels=model.in_channels)


def plan_work(specs, neuron_cost: float = NEURON_COST) -> float:
    """Dense work of a network's specs: ``sum(MACs + accumulates + neuron_cost * neuron_updates)``."""
    total = 0.0
    for s in specs:
        c = counts(s)
        total += c.macs + c.accumulates + neuron_cost * c.neuron_updates
    return float(total)


def predicted_speedups(model, plans, *, num_steps: int, neuron_cost: float = NEURON_COST) -> list[float]:
    """Baseline dense work / each plan's (``plan_work``) for ``plans``, an iterable of ``(modes, ks)``."""
    n = model.num_layers
    base = plan_work(plan_specs(model, ("baseline",) * n, (1,) * n, num_steps=num_steps), neuron_cost)
    return [base / plan_work(plan_specs(model, m, k, num_steps=num_steps), neuron_cost) for m, k in plans]


def steps_through(num_steps: int, modes: Sequence[str], ks: Sequence[int]) -> list[int]:
    """Steps reaching each conv layer, then the readout: ``T_{i+1} = ceil(T_i / K_i)`` after "tac"."""
    out = [int(num_steps)]
    for m, k in zip(modes, ks, strict=True):
        out.append(math.ceil(out[-1] / k) if m == "tac" else out[-1])
    return out
