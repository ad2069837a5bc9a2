"""Per-layer plan sweep on the synthetic events: accuracy over seeds, step speed, predicted order loss.

The study's grid applies one (mode, K) to every layer. This sweep trains any per-layer plans on the
study's synthetic data (reduced protocol: 16x16, 4 classes, T = 16, 1536 training samples, 5 epochs,
DVSGestureNet channels (8, 16, 32); a larger test set, ``--test``, for less noise) with several
seeds, and reports per plan:

* test accuracy, mean and standard deviation over ``--seeds`` (each seed draws its own training and
  test sets and initialises the network);
* the training step's time (forward, backward, Adam; batch 64) measured round-robin in one process
  (medians of ``--reps``), and its speed-up over the baseline;
* ``tacjax.plan``'s predicted order loss of the plan ("asymmetry", the planner's default, on the
  baseline network at seed 0), and Spearman's rank correlation of that loss with the measured drop.

A plan is written one token per conv layer joined by ``-``: ``b`` (baseline), ``tacK`` (collapse
K frames) or ``tpK`` (TAC-TP with K), e.g. ``b-tp16-tac2``.

    python -m tacjax.runtime --exec scripts/plan_sweep.py --out plan_sweep.md     # about 25 minutes
    python scripts/plan_sweep.py --quick                                           # smoke sizes
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The study's grid, then per-layer plans (baseline first layer, TAC-TP with large K downstream, ...).
DEFAULT_PLANS = (
    "b-b-b", "tac2-b-b", "tac4-b-b", "tac16-b-b", "tp2-tp2-tp2", "tp4-tp4-tp4", "tp16-tp16-tp16",
    "b-b-tp16", "b-tp16-tp16", "b-tp16-tac2", "b-tac2-tp8", "tp2-tp16-tp16", "tac2-b-tp8",
    "tac2-tp8-tp8", "tp2-tac2-tp8",
)
#: ``--quick``'s plans (the smoke protocol has T = 4).
QUICK_PLANS = ("b-b-b", "b-tp4-tac2")
def _build(p, modes, ks, seed):
    from flax import nnx

    from tacjax.models import DVSGestureNet

    return DVSGestureNet(in_size=p["size"], channels=p["channels"], num_classes=p["num_classes"], modes=modes,
                         ks=ks, rngs=nnx.Rngs(seed))


def step_times(p, plans: dict, reps: int) -> dict[str, float]:
    """Median training-step time (ms) of each plan on one batch, timed round-robin."""
    import jax
    import optax

    from tacjax.data import synthetic_events
    from tacjax.train import events_encoder
    from tacjax.train.step import make_train_step, split_model

    x, y = synthetic_events(p["batch"], num_steps=p["num_steps"], size=p["size"],
                            num_classes=p["num_classes"])
    steps = {}
    for name, (modes, ks) in plans.items():
        graphdef, params, rest = split_model(_build(p, modes, ks, 0))
        tx = optax.adam(p["lr"])
        step = make_train_step(graphdef, tx, events_encoder())
        args = (params, rest, tx.init(params), x, y, jax.random.key(0))
        jax.block_until_ready(step(*args))  # compile
        steps[name] = (step, args)
    times = {name: [] for name in plans}
    for _ in range(reps):
        for name, (step, args) in steps.items():
            t0 = time.perf_counter()
            jax.block_until_ready(step(*args))
            times[name].append(time.perf_counter() - t0)
    return {name: 1e3 * statistics.median(v) for name, v in times.items()}


def accuracies(p, plans: dict, seeds, num_test: int) -> dict[str, list[float]]:
    """Test accuracy of each plan after the protocol's training, one value per seed."""
    from tacjax.data import synthetic_events
    from tacjax.train import events_encoder, fit

    kw = dict(num_steps=p["num_steps"], size=p["size"], num_classes=p["num_classes"])
    out = {name: [] for name in plans}
    for seed in seeds:
        train = synthetic_events(p["train"], seed=seed, **kw)
        test = synthetic_events(num_test, seed=seed + 1000, **kw)
        for name, (modes, ks) in plans.items():
            t0 = time.perf_counter()
            hist = fit(_build(p, modes, ks, seed), train, test, encoder=events_encoder(), epochs=p["epochs"],
                       batch_size=p["batch"], learning_rate=p["lr"], seed=seed, progress=False)
            out[name].append(float(hist[-1]["test_accuracy"]))
            print(f"  seed {seed} {name:<16} {100 * out[name][-1]:6.2f}%  ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
    return out


def predicted_losses(p, plans: dict) -> dict[str, float]:
    """``tacjax.plan``'s predicted order loss of each plan (default statistic, seed-0 baseline network)."""
    import jax.numpy as jnp
    import numpy as np

    from tacjax.data import synthetic_events
    from tacjax.plan import DEFAULT_STATISTIC, envelope, layer_losses, order_profile

    n = len(p["channels"])
    x, _ = synthetic_events(min(128, p["train"]), num_steps=p["num_steps"], size=p["size"],
                            num_classes=p["num_classes"], time_major=True)
    prof = order_profile(_build(p, ("baseline",) * n, (1,) * n, 0), jnp.asarray(x))
    env = envelope(np.asarray(prof.scores[DEFAULT_STATISTIC]))
    return {name: float(sum(layer_losses(env, modes, ks))) for name, (modes, ks) in plans.items()}


def report(plans, times, accs, losses, base: str) -> str:
    """The Markdown table (plans in the given order) and the rank correlation line."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from plan_study import spearman

    mean = {k: 100 * statistics.mean(v) for k, v in accs.items()}
    sd = {k: 100 * statistics.stdev(v) if len(v) > 1 else 0.0 for k, v in accs.items()}
    lines = ["| plan | modes | ks | step ms | speed-up | accuracy (mean ± sd) | per seed | drop (pts) | "
             "predicted loss |", "|---|---|---|---|---|---|---|---|---|"]
    for name, (modes, ks) in plans.items():
        seeds = " / ".join(f"{100 * a:.1f}" for a in accs[name])
        lines.append(f"| {name} | {','.join(modes)} | {','.join(map(str, ks))} | {times[name]:.1f} | "
                     f"{times[base] / times[name]:.2f}x | {mean[name]:.2f} ± {sd[name]:.2f} | {seeds} | "
                     f"{mean[base] - mean[name]:+.2f} | {losses[name]:.4f} |")
    names = list(plans)
    if len(names) > 2:
        rho = spearman([losses[n] for n in names], [mean[base] - mean[n] for n in names])
        lines += ["", f"Spearman's rank correlation of the predicted loss with the measured drop over these "
                  f"{len(names)} plans: {rho:.3f}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plans", nargs="+", default=list(DEFAULT_PLANS), help="plans (first: the reference)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="seeds (>= 0)")
    ap.add_argument("--test", type=int, default=2048, help="test samples per seed (>= 1)")
    ap.add_argument("--reps", type=int, default=7, help="timed rounds of the step times")
    ap.add_argument("--quick", action="store_true", help="smoke sizes (tests)")
    ap.add_argument("--out", default=None, help="also write the Markdown report here (and .json beside it)")
    args = ap.parse_args(argv)
    from tacjax.study import PROTOCOLS

    p = dict(PROTOCOLS["smoke" if args.quick else "default"]["synthetic"])
    try:
        names = QUICK_PLANS if args.quick and args.plans == list(DEFAULT_PLANS) else args.plans
        from tacjax.plan import parse_plan_name

        plans = {name: parse_plan_name(name) for name in names}
        for name, (modes, ks) in plans.items():
            if len(modes) != len(p["channels"]):
                raise ValueError(f"plan_sweep: plan {name!r} has {len(modes)} layers; the network has "
                                 f"{len(p['channels'])}.")
            _build(p, modes, ks, 0).out_steps(p["num_steps"])
        if any(s < 0 for s in args.seeds) or args.test < 1 or args.reps < 1:
            raise ValueError(f"plan_sweep: --seeds must be >= 0, --test and --reps >= 1; got {args.seeds}, "
                             f"{args.test}, {args.reps}.")
    except ValueError as e:
        ap.error(str(e))
    import tacjax.runtime as rt

    print(f"runtime: {json.dumps(rt.describe())}", flush=True)
    times = step_times(p, plans, args.reps)
    losses = predicted_losses(p, plans)
    accs = accuracies(p, plans, args.seeds, args.test)
    text = report(plans, times, accs, losses, names[0])
    print(text)
    result = {"plans": {n: {"modes": list(m), "ks": list(k), "step_ms": times[n], "accuracy": accs[n],
                            "predicted_loss": losses[n]} for n, (m, k) in plans.items()},
              "seeds": args.seeds, "test": args.test, "protocol": p, "runtime": rt.describe()}
    if args.out:
        Path(args.out).write_text(text + "\n")
        Path(args.out).with_suffix(".json").write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
