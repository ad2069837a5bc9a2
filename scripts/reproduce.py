"""The collapse-or-preserve study: baseline vs TAC (grid of K) vs TAC-TP, trained and timed in one run.

A thin command line over ``tacjax.study`` (``run_study``; see its docstring for what is measured
and written). For every data set and configuration it trains a fresh network (same init seed) and
records test accuracy, training time per epoch, inference time per sample, conv calls per sample
and per-layer spike rates; it writes ``results.md`` and ``results.json`` after every configuration,
per-run metrics (JSON/CSV) and plots (accuracy vs K, speed-up vs K, a spike raster) into ``--out``.

Configurations (per data set): ``baseline`` (every conv layer one call per frame); ``tac_K{K}``
(the first conv collapses K frames, so the whole network runs ``T/K`` steps); ``tac_tp_K{K}``
(every conv layer aggregates K frames and preserves T steps; by default each of a chunk's K LIF
steps gets the chunk current / K, see ``--tp-share``). ``--plan auto`` adds one configuration per T,
``plan_auto``, whose per-layer modes and K ``tacjax.plan`` chooses from a calibration batch before any
training; ``--plan trials`` adds ``plan_trials``, chosen after the grid by short trainings of a
shortlist judged on held-out data (``tacjax.plan.trial_plan``); ``--plan all`` both. Each is
reported with where it lands among the grid points in ``results.md``.

Protocols (``--smoke`` < default < ``--full``) are listed in ``tacjax.study.PROTOCOLS`` and written
into the outputs. The default needs no download: synthetic events, plus Fashion-MNIST when it is
found (``--data-dir``, ``TACJAX_DATA`` or the system location). Every flag is checked before any
work; a bad one stops the script with exit status 2 and a message naming it. Run it under the
tuned CPU settings: ``python -m tacjax.runtime --exec scripts/reproduce.py``.
"""

from __future__ import annotations

import argparse
import sys

from tacjax.study import DATASETS, OptionError, StudyOptions, check_options, run_study


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="default", choices=("default", "all", *DATASETS),
                   help="default: synthetic + Fashion-MNIST when found; all: every data set found; "
                   "a single name: that one, which must be found")
    p.add_argument("--data-dir", default=None, help="existing folder holding the IDX files (or mnist/, "
                   "fashion-mnist/ subfolders) and DVS128 Gesture")
    p.add_argument("--out", default="results", help="output folder (created; must be writable)")
    p.add_argument("--epochs", type=int, default=None, help="override the protocol's epochs (>= 1)")
    p.add_argument("--train-samples", type=int, default=None, help="override the image train subset (>= 1)")
    p.add_argument("--test-samples", type=int, default=None, help="override the image test subset (>= 1)")
    p.add_argument("--grids", default=None,
                   help="override the image T/K grid, e.g. '25:5,25;16:2,4,8,16' (T:K list; ';' between T)")
    p.add_argument("--seed", type=int, default=0, help="init, shuffling and encoding seed (>= 0)")
    p.add_argument("--loss", default="membrane", choices=("membrane", "count"),
                   help="readout loss: cross-entropy on the mean membrane (default; a silent readout "
                   "still gets gradient) or on spike counts (the paper's)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--full", action="store_true", help="the full protocol (hours on a CPU)")
    g.add_argument("--smoke", action="store_true", help="tiny settings (tests)")
    p.add_argument("--tp-share", default="mean", choices=("mean", "repeat"),
                   help="TAC-TP: each of a chunk's K LIF steps gets current/K (mean, default) or the whole "
                   "chunk current (repeat, the reference code; saturated the neurons in our runs)")
    p.add_argument("--plan", default="none", choices=("none", "auto", "trials", "all"),
                   help="auto: also train the per-layer plan tacjax.plan chooses from a calibration batch "
                   "(fastest plan with a predicted drop <= 1 point); trials: after the grid, the plan chosen "
                   "by short trainings of a shortlist at the grid's median speed-up "
                   "(tacjax.plan.trial_plan); "
                   "all: both; each reported with where it lands among the grid")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def options_from_args(args: argparse.Namespace) -> StudyOptions:
    """The parsed command line as ``StudyOptions`` (not yet checked)."""
    return StudyOptions(protocol="smoke" if args.smoke else "full" if args.full else "default",
                        dataset=args.dataset, data_dir=args.data_dir, out=args.out, epochs=args.epochs,
                        train_samples=args.train_samples, test_samples=args.test_samples, grids=args.grids,
                        seed=args.seed, loss=args.loss, tp_share=args.tp_share, progress=not args.no_progress,
                        plan=args.plan)


def main(argv: list[str] | None = None) -> dict:
    """Parse ``argv`` (default ``sys.argv[1:]``), check every flag, run the study; return its results."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    opts = options_from_args(parser.parse_args(argv))
    try:
        check_options(opts)
        return run_study(opts, argv=argv)
    except OptionError as e:  # raised before any training: a usage error, exit status 2
        parser.error(str(e))


if __name__ == "__main__":
    main()
