"""The collapse-or-preserve study: baseline vs TAC (a grid of K) vs TAC-TP, trained and timed in one run.

For every data set and configuration the study trains a fresh network (same init seed), then records
test accuracy, training time per epoch (compilation excluded), inference time per sample (a full pass
over the test set, compilation excluded), conv calls per sample and per-layer spike rates, and writes
``results.md``, ``results.json`` (both after every configuration), per-run metrics (JSON/CSV) and plots
(accuracy vs K, speed-up vs K, one sample's spike raster). ``scripts/reproduce.py`` is its command line;
from a notebook::

    from tacjax.study import StudyOptions, run_study
    results = run_study(StudyOptions(protocol="smoke", dataset="synthetic", out="/tmp/study"))
    results["datasets"]["synthetic"]["runs"][0]["test_accuracy"]

Modules: ``protocols`` (the protocols and data sets as data), ``options`` (the options, one per flag,
and their checks), ``configs`` (a (kind, K) grid point -> per-layer modes and K), ``datasets`` (each
data set loaded with its configurations, model builder, encoder and held-out data), ``run`` (the one
loop), ``autoplan`` (``--plan auto``: the planner's choice, before training), ``trialplan``
(``--plan trials``: the trial plan, after the grid), ``report`` (speed-ups, Markdown, JSON, plots).
Nothing here is jittable: it drives ``tacjax.train.fit``.

To add a configuration kind, build ``Config`` objects with their own per-layer ``modes`` and ``ks``
and pass ``run_study(..., extra_configs=lambda data: [...])``; they are trained, timed, written and
compared with the baseline of the same T like the grid's.
"""

from tacjax.study.configs import KINDS, Config, grid, make_config
from tacjax.study.datasets import DataUnavailable, Prepared, prepare
from tacjax.study.options import FLAGS, OptionError, StudyOptions, check_options, parse_grids, prepare_out
from tacjax.study.protocols import DATASETS, IMAGE_DATASETS, PROTOCOLS, selected_datasets
from tacjax.study.report import add_speedups, layer_order, markdown, plots, write_results
from tacjax.study.run import run_config, run_study

__all__ = [
    "DATASETS",
    "FLAGS",
    "IMAGE_DATASETS",
    "KINDS",
    "PROTOCOLS",
    "Config",
    "DataUnavailable",
    "OptionError",
    "Prepared",
    "StudyOptions",
    "add_speedups",
    "check_options",
    "grid",
    "layer_order",
    "make_config",
    "markdown",
    "parse_grids",
    "plots",
    "prepare",
    "prepare_out",
    "run_config",
    "run_study",
    "selected_datasets",
    "write_results",
]
