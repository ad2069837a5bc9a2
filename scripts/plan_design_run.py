"""The planner's design run: the study with --plan auto plus hand-picked per-layer plans, for plan_study.py.

The grid alone has few configurations per data set (7 synthetic, 5 Fashion-MNIST) and only two
shapes of plan (collapse the first layer; aggregate every layer). This run trains, beside the grid
and the automatic plan, the per-layer plans in ``PLANS`` (mixes of baseline, collapse and preserve
across layers), so that ``scripts/plan_study.py`` ranks each order statistic against more kinds of
plan. ``tacjax.plan.DROP_PER_UNIT`` is the slope it reports for the "asymmetry" statistic.

    python -m tacjax.runtime --exec scripts/plan_design_run.py --data-dir DIR --out results-plan-design
    python scripts/plan_study.py results-plan-design/results.json

About 10 - 20 minutes on a busy 2-core machine (``--smoke``: seconds, for the tests).
"""

from __future__ import annotations

import argparse
import sys

from tacjax.study import Config, StudyOptions, run_study

__all__ = ["PLANS", "extra_plans", "main"]

#: Hand-picked (modes, ks) per number of conv layers (3: the synthetic net; 2: the image net).
PLANS = {
    3: [(("baseline", "tac", "tac"), (1, 4, 1)), (("baseline", "tac", "tac"), (1, 2, 1)),
        (("tac_tp", "tac", "tac"), (2, 2, 1)), (("tac_tp", "tac", "tac"), (2, 4, 1)),
        (("tac_tp", "tac", "tac"), (4, 4, 1)), (("baseline", "baseline", "tac"), (1, 1, 4)),
        (("tac_tp", "tac_tp", "tac"), (2, 4, 4)), (("baseline", "tac_tp", "tac_tp"), (1, 4, 4)),
        (("tac", "tac_tp", "tac_tp"), (2, 2, 2))],
    2: [(("tac", "tac"), (4, 4)), (("tac", "tac"), (2, 8)), (("tac_tp", "tac"), (4, 4)),
        (("baseline", "tac"), (1, 16)), (("tac", "tac"), (8, 2)), (("tac_tp", "tac_tp"), (4, 4))],
}  # fmt: skip


def extra_plans(data) -> list[Config]:
    """``PLANS`` for ``data``'s network, at every T of its grid whose steps fit every K (labels ``x_...``)."""
    out = []
    for base in (c for c in data.configs if c.mode == "baseline"):
        prefix = base.label[: -len("baseline")]
        for modes, ks in PLANS.get(len(base.modes), []):
            steps, fits = base.num_steps, True
            for m, k in zip(modes, ks, strict=True):
                fits = fits and (m == "baseline" or k <= steps)
                steps = -(-steps // k) if m == "tac" else steps
            if fits:
                label = prefix + "x_" + "_".join(f"{m}{k}" for m, k in zip(modes, ks, strict=True))
                out.append(Config(label, "plan", None, base.num_steps, modes, ks))
    return out


def main(argv: list[str] | None = None) -> dict:
    """Parse ``argv``, run the study with ``plan="auto"`` and ``extra_plans``; return its results."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files")
    p.add_argument("--out", default="results-plan-design", help="output folder")
    p.add_argument("--smoke", action="store_true", help="tiny settings (tests)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = p.parse_args(argv)
    opts = StudyOptions(protocol="smoke" if args.smoke else "default", data_dir=args.data_dir, out=args.out,
                        progress=not args.no_progress, plan="auto")
    return run_study(opts, argv=argv, extra_configs=extra_plans)


if __name__ == "__main__":
    main()
