"""The planner: budgets respected, valid plans for any T, order data keeps its first layer, clear errors."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import tacjax.plan as tp
from tacjax.data import synthetic_events
from tacjax.models import ConvSNN
from tacjax.plan.planner import _enumerate

# T = 5: no K > 1 divides it
ARGS = dict(num_steps=5, in_size=12, in_channels=2, channels=(4, 4), num_classes=4)


def _model(**kw):
    return ConvSNN(**{**ARGS, **kw}, rngs=nnx.Rngs(0))


@pytest.fixture(scope="module")
def batches():
    events, _ = synthetic_events(32, num_steps=5, size=12, time_major=True)
    rates = jax.random.bernoulli(jax.random.key(0), 0.2, (5, 32, 12, 12, 2)).astype(jnp.float32)
    return {"events": jnp.asarray(events), "rates": rates}


@pytest.fixture(scope="module")
def profiles(batches):
    return {name: tp.order_profile(_model(), x) for name, x in batches.items()}


BUDGETS = [tp.Budget("speedup", 1.0), tp.Budget("speedup", 2.0), tp.Budget("speedup", 4.5),
           tp.Budget("max_drop", 0.0), tp.Budget("max_drop", 1.0), tp.Budget("max_drop", 50.0)]


@pytest.mark.parametrize("budget", BUDGETS, ids=[f"{b.kind}={b.value}" for b in BUDGETS])
def test_the_budget_is_met_and_the_plan_builds(profiles, budget):
    for name, prof in profiles.items():
        p = tp.choose_plan(_model(), prof, budget)
        if budget.kind == "speedup":
            assert p.predicted_speedup >= budget.value - 1e-9, (name, p)
        else:
            assert p.predicted_drop <= budget.value + 1e-9, (name, p)
        net = _model(modes=p.modes, ks=p.ks)  # valid for ConvSNN, K need not divide T
        calls = net.conv_calls()
        assert calls["total"] == p.conv_calls
        assert [lc.conv_calls for lc in p.layers] == [calls["conv1"], calls["conv2"]]
        steps = [lc.steps_in for lc in p.layers] + [p.layers[-1].steps_out]
        assert steps[-1] == net.out_steps and steps[0] == 5


def _all_scored(prof, statistic="asymmetry"):
    model, env = _model(), tp.envelope(prof.scores[statistic])
    base = tp.plan_work(tp.plan_specs(model, ("baseline",) * 2, (1, 1)), tp.NEURON_COST)
    plans = _enumerate(5, 2, None)
    work = {(m, k): tp.plan_work(tp.plan_specs(model, m, k), tp.NEURON_COST) for m, k in plans}
    return [(sum(tp.layer_losses(env, m, k)), base / w, m, k) for (m, k), w in work.items()]


def test_the_choice_is_the_optimum_of_every_plan(profiles):
    scored = _all_scored(profiles["events"])
    # conv2 has 1 + 2 (t - 1) choices at t steps: after conv1 baseline (t = 5), tac K = 2..5
    # (t = 3, 2, 2, 1) and tac_tp K = 2..5 (t = 5)
    assert len(scored) == 9 + (5 + 3 + 3 + 1) + 4 * 9
    p = tp.choose_plan(_model(), profiles["events"], tp.Budget("max_drop", 3.0))
    ok = [s for s in scored if tp.DROP_PER_UNIT * s[0] <= 3.0]
    assert p.predicted_speedup == pytest.approx(max(s[1] for s in ok))
    q = tp.choose_plan(_model(), profiles["events"], tp.Budget("speedup", 2.0))
    assert q.predicted_loss == pytest.approx(min(s[0] for s in scored if s[1] >= 2.0))
    for m, k in _enumerate(5, 2, None):
        _model(modes=m, ks=k)  # every plan searched is a valid network


def test_order_keeps_the_first_layer_rate_coding_collapses(profiles):
    events = tp.choose_plan(_model(), profiles["events"], tp.Budget("max_drop", 1.0))
    rates = tp.choose_plan(_model(), profiles["rates"], tp.Budget("max_drop", 1.0))
    assert not (events.modes[0] == "tac" and events.ks[0] >= 4), events
    assert rates.modes[0] == "tac" and rates.predicted_speedup > events.predicted_speedup, rates
    assert profiles["events"].scores["asymmetry"][0, -1] > 10 * profiles["rates"].scores["asymmetry"][0, -1]


def test_constructor_arguments_give_the_same_plan(batches):
    budget = tp.Budget("speedup", 1.5)
    a = tp.plan(ARGS, batches["events"], budget)
    b = tp.plan(_model(), batches["events"], budget)
    assert (a.modes, a.ks) == (b.modes, b.ks) and a.predicted_loss == pytest.approx(b.predicted_loss)
    c = tp.plan(ARGS, batches["events"], budget, candidate_ks=(2,))
    assert set(c.ks) <= {1, 2}


def test_report_table_and_plot(profiles, tmp_path):
    p = tp.choose_plan(_model(), profiles["events"], tp.Budget("speedup", 1.5))
    table = tp.plan_table(p)
    for lc in p.layers:
        row = f"| {lc.name} | {lc.mode} | {lc.k} | {lc.steps_in} -> {lc.steps_out} | {lc.conv_calls} |"
        assert row in table
    assert f"predicted speed-up {p.predicted_speedup:.2f}x" in table and "SATA" in table
    path = tp.plot_profile(p, tmp_path / "profile.png")
    assert (tmp_path / "profile.png").stat().st_size > 1000 and path.endswith("profile.png")


BATCH = r"calibration batch `x` "
Bud, VE, TE = tp.Budget, ValueError, TypeError
BAD = [
    (dict(budget=Bud("speedup", 0.5)), VE, r"`budget.value` for 'speedup' must be a speed-up >= 1"),
    (dict(budget=Bud("speedup", math.inf)), VE, r"`budget.value` .* \(finite\); got inf"),
    (dict(budget=Bud("max_drop", -1.0)), VE, r"`budget.value` for 'max_drop' must be a drop .* -1.0"),
    (dict(budget=Bud("max_drop", float("nan"))), VE, r"`budget.value` .* got nan"),
    (dict(budget=Bud("energy", 2.0)), VE, r"`budget.kind` must be one of \('speedup', 'max_drop'\)"),
    (dict(budget=2.0), TE, r"`budget` must be a tacjax.plan.Budget\(kind, value\); got 2.0"),
    (dict(budget=Bud("speedup", 1e6)), VE, r"`budget.value` 1000000.0 exceeds the largest predicted"),
    (dict(statistic="entropy"), VE, r"`statistic` must be one of \('order', 'asymmetry'"),
    (dict(candidate_ks=(1, 2)), VE, r"`candidate_ks` must be ints >= 2"),
    (dict(x=jnp.zeros((5, 4, 12, 12))), VE, BATCH + r"must be \[T, B, H, W, C\] \(rank 5\); "
                                                    r"got shape \(5, 4, 12, 12\)"),
    (dict(x=jnp.zeros((4, 4, 12, 12, 2))), VE, BATCH + r"must be \[T, B, H, W, C\] = \[5, B >= 2, 12, 12, "
                                                       r"2\] for this model; got shape \(4, 4, 12, 12, 2\)"),
    (dict(x=jnp.zeros((5, 1, 12, 12, 2))), VE, BATCH + r".* B >= 2.* got shape \(5, 1, 12"),
    (dict(x=jnp.zeros((5, 4, 12, 12, 2), jnp.int32)), TE, BATCH + r"must be floating"),
    (dict(x=jnp.full((5, 4, 12, 12, 2), jnp.nan)), VE, BATCH + r"holds non-finite values"),
    (dict(model={**ARGS, "modes": "tac"}), VE, r"`model` arguments must not set \['modes'\]"),
    (dict(model=ConvSNN(**ARGS, modes="tac", ks=2, rngs=nnx.Rngs(0))), VE,
     r"`model` must be the baseline network .* got modes \('tac', 'tac'\)"),
    (dict(model="MNISTNet"), TE, r"`model` must be a ConvSNN or a mapping"),
]  # fmt: skip


@pytest.mark.parametrize("kw,exc,msg", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_input_raises_naming_the_argument(batches, kw, exc, msg):
    args = dict(model=ARGS, x=np.asarray(batches["events"]), budget=tp.Budget("speedup", 1.5))
    args.update(kw)
    with pytest.raises(exc, match="tacjax.plan: " + msg):
        tp.plan(args.pop("model"), args.pop("x"), args.pop("budget"), **args)


def test_a_profile_of_another_network_is_refused(profiles):
    with pytest.raises(ValueError, match=r"`profile` must be order_profile of this model"):
        tp.choose_plan(_model(channels=(4, 4, 4)), profiles["events"], tp.Budget("speedup", 1.0))
