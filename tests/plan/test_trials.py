"""Trial plans: the shortlist, successive halving and the budget's choice (against a stand-in for
training with known accuracies and epoch times), one real run through ``fit``, reports, clear errors."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import tacjax.plan as tp
import tacjax.train
from tacjax.data import synthetic_events
from tacjax.models import ConvSNN
from tacjax.plan.planner import _enumerate
from tacjax.train import events_encoder

ARGS = dict(in_size=12, in_channels=2, channels=(4, 4), num_classes=4)
T = 4


def _build(modes, ks):
    return ConvSNN(**ARGS, modes=modes, ks=ks, rngs=nnx.Rngs(0))


@pytest.fixture(scope="module")
def profile():
    x, _ = synthetic_events(16, num_steps=T, size=12, time_major=True)
    return tp.order_profile(_build("baseline", 1), jnp.asarray(x))


def _data(n, seed=0):
    return synthetic_events(n, num_steps=T, size=12, num_classes=4, seed=seed)


NAMES = [("b-tp16-tac2", ("baseline", "tac_tp", "tac"), (1, 16, 2)), ("tac4", ("tac",), (4,)),
         ("b-b", ("baseline", "baseline"), (1, 1))]


@pytest.mark.parametrize("name, modes, ks", NAMES)
def test_plan_names_round_trip(name, modes, ks):
    assert tp.plan_name(modes, ks) == name and tp.parse_plan_name(name) == (modes, ks)


@pytest.mark.parametrize("text", ["b-x2", "tac0-b", "tp-b", "", "B"])
def test_a_bad_plan_name_names_the_token(text):
    with pytest.raises(ValueError, match="has token"):
        tp.parse_plan_name(text)


@pytest.mark.parametrize("frac, epochs, n, want", [(1 / 3, 5, 1536, (2, 1280)), (1 / 3, 1, 2048, (1, 683)),
                                                  (1.0, 5, 1536, (5, 1536)), (0.01, 1, 100, (1, 32))])
def test_rung_protocol_spends_the_fraction(frac, epochs, n, want):
    assert tp.rung_protocol(frac, epochs, n, 32) == want


def test_shortlist_takes_the_least_loss_half_and_a_seeded_draw(profile):
    model = _build("baseline", 1)
    got = tp.shortlist(model, profile, size=6, min_speedup=1.1, seed=3)  # of 10 plans predicted >= 1.1x
    assert len(got) == 6 == len(set(got))
    assert tp.shortlist(model, profile, size=6, min_speedup=1.1, seed=3) == got
    env = tp.envelope(profile.scores[tp.DEFAULT_STATISTIC])
    base = tp.plan_work(tp.plan_specs(model, ("baseline",) * 2, (1, 1), num_steps=T))
    pool = []
    for modes, ks in _enumerate(T, 2, (2, 4)):
        speed = base / tp.plan_work(tp.plan_specs(model, modes, ks, num_steps=T))
        if speed >= 1.1:
            pool.append((sum(tp.layer_losses(env, modes, ks)), -speed, (modes, ks)))
    assert all(c in [p[2] for p in pool] for c in got)  # only plans at least as fast as asked
    assert {p[2] for p in sorted(pool)[:3]} <= set(got)  # the least-loss half
    speeds = [base / tp.plan_work(tp.plan_specs(model, m, k, num_steps=T)) for m, k in got]
    assert speeds == sorted(speeds, reverse=True)  # fastest first
    assert len(pool) == 10
    others = {tp.shortlist(model, profile, size=6, min_speedup=1.1, seed=s) for s in range(6)}
    assert len(others) > 1  # the other half is drawn
    every = len(_enumerate(T, 2, (2, 4))) - 1  # all but the baseline
    assert len(tp.shortlist(model, profile, size=500)) == every


@pytest.mark.parametrize("kw, msg", [(dict(size=0), "`size`"), (dict(seed=-1), "`seed`"),
                                     (dict(min_speedup=0.5), "`min_speedup` must be a finite number >= 1"),
                                     (dict(min_speedup=1e3), "exceeds the largest predicted speed-up"),
                                     (dict(candidate_ks=[1]), "candidate_ks")])
def test_shortlist_bad_input(profile, kw, msg):
    with pytest.raises(ValueError, match=msg):
        tp.shortlist(_build("baseline", 1), profile, **kw)


class _Plan:
    def __init__(self, modes, ks):
        self.name = tp.plan_name(modes, ks)

    def out_steps(self, t):
        return t


class FakeFit:
    """Stands in for ``tacjax.train.fit``: accuracy and epoch time from tables, rung by rung."""

    def __init__(self, acc, secs):
        self.acc, self.secs, self.calls = acc, secs, []

    def __call__(self, model, train, val, **kw):
        self.calls.append((model.name, kw["epochs"], len(train[1])))
        rung = sum(1 for c in self.calls if c[0] == "b-b") - 1
        acc = self.acc[model.name]
        acc = acc[min(rung, len(acc) - 1)] if isinstance(acc, tuple) else acc
        return [{"test_accuracy": acc, "train_time_s": self.secs[model.name]}] * kw["epochs"]


PLANS = ["tac2-b", "tac4-b", "tp2-tp2", "b-tp4", "tac2-tp2", "tp4-tac2"]
ACC = {"b-b": 0.80, "tac2-b": 0.70, "tac4-b": (0.60, 0.95), "tp2-tp2": 0.82, "b-tp4": 0.90,
       "tac2-tp2": 0.79, "tp4-tac2": 0.85}
SECS = {"b-b": 2.0, "tac2-b": 1.0, "tac4-b": 0.5, "tp2-tp2": 1.6, "b-tp4": 1.9, "tac2-tp2": 0.9,
        "tp4-tac2": 1.2}


def _trial(monkeypatch, budget, plans=PLANS, acc=ACC, **kw):
    fake = FakeFit(acc, SECS)
    monkeypatch.setattr(tacjax.train, "fit", fake)
    train, val = (np.zeros((96, 1)), np.zeros(96)), (np.zeros((8, 1)), np.zeros(8))
    args = dict(num_steps=T, encoder=None, epochs=3, batch_size=32, progress=False) | kw
    return tp.trial_plan(lambda m, k: _Plan(m, k), plans, train, val, budget, **args), fake


def test_successive_halving_keeps_the_best_and_the_speed_budget_picks_the_most_accurate(monkeypatch):
    res, fake = _trial(monkeypatch, tp.Budget("speedup", 1.5))
    # rung 0: 1 epoch over 96 samples; b-tp4 (1.05x) and tp2-tp2 (1.25x) are below 1.5x
    assert fake.calls[:7] == [("b-b", 1, 96), *[(p, 1, 96) for p in PLANS]]
    by = {t.name: t for t in res.trials}
    assert not by["b-tp4"].feasible and not by["tp2-tp2"].feasible and by["tac4-b"].feasible
    assert by["tac4-b"].speedups == (4.0,) and by["tp4-tac2"].speedups == (2.0 / 1.2,) * 2
    # rung 1 keeps ceil(4 / 3) = 2 of the 4 feasible by accuracy: tp4-tac2 (0.85) and tac2-tp2 (0.79)
    assert fake.calls[7:] == [("b-b", 3, 96), ("tp4-tac2", 3, 96), ("tac2-tp2", 3, 96)]
    assert by["tac4-b"].accuracies == (0.60,)  # dropped in rung 0, so its late 0.95 is never seen
    assert res.name == "tp4-tac2" and res.modes == ("tac_tp", "tac") and res.ks == (4, 2) and res.met
    assert res.accuracy == 0.85 and res.speedup == pytest.approx(2.0 / 1.2)
    assert res.baseline.accuracies == (0.80, 0.80) and res.rungs == ((1 / 3, 1, 96), (1.0, 3, 96))
    assert [t.name for t in res.trials] == PLANS


def test_keep_one_and_the_max_drop_budget_picks_the_fastest_within_it(monkeypatch):
    res, fake = _trial(monkeypatch, tp.Budget("max_drop", 2.0), keep=1.0)
    assert len(fake.calls) == 14  # no candidate dropped
    assert res.name == "tac4-b"  # all ran rung 1, where tac4-b (0.95, 4x) is the fastest within 2 points
    res, _ = _trial(monkeypatch, tp.Budget("max_drop", 0.5), keep=1.0, rungs=(1.0,))
    assert res.name == "tp4-tac2"  # one rung: tac4-b 0.60, tac2-tp2 0.79 < 0.795; tp4-tac2 the fastest left
    res, _ = _trial(monkeypatch, tp.Budget("max_drop", 0.5), plans=["tac2-b"], rungs=(1.0,))
    assert res.name == "b-b" and res.modes == ("baseline", "baseline") and res.met  # none within: baseline


def test_a_speed_target_nobody_reaches_returns_the_fastest_flagged(monkeypatch, tmp_path):
    res, fake = _trial(monkeypatch, tp.Budget("speedup", 10.0))
    assert len(fake.calls) == 7 and res.name == "tac4-b" and not res.met  # no second rung
    assert not any(t.feasible for t in res.trials)
    assert "NO candidate reached the target" in tp.trials_table(res)
    assert res.baseline.accuracies == (0.80,) and tp.plot_trials(res, tmp_path / "t.png")  # one rung drawn


def test_a_real_trial_run_through_fit(tmp_path):
    train, val = _data(64), _data(32, seed=7)
    cands = [(("tac", "baseline"), (2, 1)), "b-tp4"]
    res = tp.trial_plan(_build, cands, train, val, tp.Budget("max_drop", 100.0), num_steps=T,
                        encoder=events_encoder(), epochs=2, batch_size=32, rungs=(0.5, 1.0), keep=1.0,
                        progress=False)
    assert {t.name for t in res.trials} == {"tac2-b", "b-tp4"} and res.rungs == ((0.5, 1, 64), (1.0, 2, 64))
    for t in (res.baseline, *res.trials):
        assert len(t.accuracies) == 2 and all(0 <= a <= 1 and math.isfinite(s) for a, s in
                                              zip(t.accuracies, t.speedups, strict=True))
        assert all(a * 32 == round(a * 32) for a in t.accuracies)  # accuracies on the 32 validation samples
    assert res.name == max(res.trials, key=lambda t: t.speedups[-1]).name  # every plan is within 100 points
    table = tp.trials_table(res)
    assert "| b-b | - | 1.00x |" in table and "rung 1 (2 ep x 64)" in table and f"**{res.name}**" in table
    path = tp.plot_trials(res, tmp_path / "trials.png")
    assert (tmp_path / "trials.png").stat().st_size > 1000 and path.endswith("trials.png")


GOOD = dict(num_steps=T, encoder=None, epochs=2, batch_size=32)


@pytest.mark.parametrize("cands, kw, msg", [
    ([], {}, "`candidates` must be a non-empty"),
    (["b-b"], {}, "is the baseline"),
    (["tac2-b", "tac2-b"], {}, "repeats an earlier one"),
    (["tac2-b", "tac2-b-b"], {}, "has 3 layers"),
    (["tac8-b"], {}, "does not fit T = 4"),
    (["tac2-b"], dict(rungs=(1.0, 0.5)), "`rungs`"),
    (["tac2-b"], dict(rungs=(0.0, 1.0)), "`rungs`"),
    (["tac2-b"], dict(keep=0), "`keep`"),
    (["tac2-b"], dict(epochs=0), "`epochs`"),
    (["tac2-b"], dict(learning_rate=-1.0), "`learning_rate`"),
    (["tac2-b"], dict(batch_size=200), "fewer than one batch"),
])
def test_trial_plan_bad_input_before_any_training(monkeypatch, cands, kw, msg):
    monkeypatch.setattr(tacjax.train, "fit", lambda *a, **k: pytest.fail("trained"))
    train = _data(64)
    with pytest.raises(ValueError, match=msg):
        tp.trial_plan(_build, cands, train, train, tp.Budget("speedup", 1.0), **(GOOD | kw))
    with pytest.raises(ValueError, match="budget"):
        tp.trial_plan(_build, ["tac2-b"], train, train, tp.Budget("speedup", 0.5), **GOOD)
    with pytest.raises(ValueError, match="`val`"):
        tp.trial_plan(_build, ["tac2-b"], train, (train[0],), tp.Budget("speedup", 1.0), **GOOD)
