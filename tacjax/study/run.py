"""The study's one loop: for every data set and configuration, train a fresh network, time it, record a row.

Order of work in ``run_study``: check every option (``check_options``), create and probe the output
folder, load every data set and build every configuration (``prepare``), and only then train. After
each configuration, ``results.md`` and ``results.json`` are rewritten atomically with every row so
far; a run stopped by an error also records which configuration failed, and re-raises.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence

import numpy as np

from tacjax.study.autoplan import auto_plans
from tacjax.study.configs import Config
from tacjax.study.datasets import DataUnavailable, Prepared, prepare
from tacjax.study.options import OptionError, StudyOptions, check_options, overrides, prepare_out
from tacjax.study.protocols import PROTOCOLS, selected_datasets
from tacjax.study.report import add_speedups, markdown, plots, write_results
from tacjax.study.trialplan import LABEL as TRIALS_LABEL
from tacjax.study.trialplan import trial_plan_config
from tacjax.train import fit

__all__ = ["run_config", "run_study"]


def run_config(config: Config, data: Prepared, opts: StudyOptions) -> tuple[dict, object]:
    """Train and evaluate one configuration; return its result row and the trained model.

    The row holds ``config`` (the label), ``test_accuracy``, ``test_loss``, ``train_accuracy`` (last
    epoch), ``train_s_per_epoch`` (mean, compilation excluded), ``infer_ms_per_sample`` (last
    evaluation pass over the test set), ``compile_s``, ``conv_calls`` (per sample) and
    ``conv_calls_per_layer``, ``rates`` (per layer), ``wall_s``, ``history`` (``fit``'s), ``mode``,
    ``k``, ``num_steps``, ``modes`` and ``ks``. Per-run metrics go to
    ``<data.out_dir>/runs/<label>.json|.csv``.
    """
    p = data.protocol
    model = data.build(config)
    t0 = time.perf_counter()
    hist = fit(model, data.train, data.test, encoder=data.encoder(config.num_steps), epochs=p["epochs"],
               batch_size=p["batch"], learning_rate=p["lr"], seed=opts.seed, loss=opts.loss,
               metrics_path=os.path.join(data.out_dir, "runs", config.label), progress=opts.progress,
               desc=config.label)
    last = hist[-1]
    calls = model.conv_calls(config.num_steps)
    row = {
        "config": config.label, "test_accuracy": last["test_accuracy"], "test_loss": last["test_loss"],
        "train_accuracy": last["train_accuracy"],
        "train_s_per_epoch": float(np.mean([h["train_time_s"] for h in hist])),
        "infer_ms_per_sample": 1e3 * last["eval_time_s"] / len(data.test[1]),
        "compile_s": hist[0]["compile_s"], "conv_calls": calls["total"], "conv_calls_per_layer": calls,
        "rates": last["rates"], "wall_s": time.perf_counter() - t0, "history": hist,
        "mode": config.mode, "k": config.k, "num_steps": config.num_steps,
        "modes": list(config.modes), "ks": list(config.ks),
    }
    print(f"  {config.label:<14} acc {row['test_accuracy']:.4f}  train {row['train_s_per_epoch']:.2f} "
          f"s/epoch  infer {row['infer_ms_per_sample']:.3f} ms/sample  conv calls {calls['total']}  "
          f"(wall {row['wall_s']:.0f} s)", flush=True)
    return row, model


def _prepare_all(opts: StudyOptions, names: Sequence[str]) -> dict[str, Prepared | None]:
    """Every selected data set, loaded; None for one skipped (only when it was not asked for by name)."""
    out = {}
    for name in names:
        try:
            data = prepare(name, opts)
        except DataUnavailable as e:
            if opts.dataset == name:
                raise OptionError(f"--dataset ({name}) asked for {name}, which was not found: {e}") from e
            print(f"[{name}] not found, skipped ({e})", flush=True)
            out[name] = None
            continue
        note = ""
        if opts.data_dir is not None and name != "synthetic" and "(data_dir)" not in data.source:
            note = " -- NOT from --data-dir, which does not hold it"
        n_train, n_test = len(data.train[1]), len(data.test[1])
        print(f"[{name}] {n_train} train / {n_test} test samples from {data.source}{note}", flush=True)
        out[name] = data
    return out


def _add_configs(data: Prepared, extra: Sequence[Config]) -> None:
    """Append ``extra`` to ``data.configs`` after building each once (its checks run before any training)."""
    for c in extra:
        if not isinstance(c, Config):
            raise OptionError(f"run_study: `extra_configs` must return Configs; got {type(c).__name__}.")
        try:
            data.build(c)
        except (ValueError, TypeError) as e:
            raise OptionError(f"run_study: extra configuration {c.label!r} cannot be built for {data.name}: "
                              f"{e}") from e
    labels = [c.label for c in [*data.configs, *extra]]
    if len(set(labels)) != len(labels):
        raise OptionError(f"run_study: configuration labels repeat in {data.name}: {labels}.")
    data.configs += list(extra)


def _guarded(results: dict, dataset: str, label: str, save: Callable[[], None], fn: Callable):
    """``fn()``; on any exception record where the study stopped, save the results, and re-raise."""
    try:
        return fn()
    except BaseException as e:
        results["stopped"] = {"dataset": dataset, "config": label, "error": f"{type(e).__name__}: {e}"}
        save()
        raise


def _record(results: dict, dataset: str, data: Prepared, config: Config, opts: StudyOptions,
            save: Callable[[], None]):
    """Train ``config`` (``run_config``), append its row with the speed-ups, save; return the model."""
    row, model = _guarded(results, dataset, config.label, save, lambda: run_config(config, data, opts))
    rows = results["datasets"][dataset]["runs"]
    rows.append(row)
    add_speedups(rows)
    results["configs_done"] += 1
    save()
    return model


def _announce(opts: StudyOptions, info: dict, changed: list[str]) -> None:
    print(f"runtime: {json.dumps(info)}", flush=True)
    print(f"protocol: {PROTOCOLS[opts.protocol]['name']}", flush=True)
    if changed:
        print("protocol overridden on the command line (see results.md)", flush=True)
    if info["config"] != "tuned":
        print("note: not the tuned CPU configuration; run `python -m tacjax.runtime --exec "
              "scripts/reproduce.py` for tcmalloc + Eigen convolutions", flush=True)


def _new_results(opts: StudyOptions, info: dict, changed: list[str], prepared: dict, argv) -> dict:
    """The results before the first row: protocol text, runtime, and an empty table per data set."""
    text = f"; loss: {opts.loss} cross-entropy; TAC-TP share: {opts.tp_share}; seed {opts.seed}"
    text += "; plus the automatic per-layer plan (--plan auto)" if opts.plan in ("auto", "all") else ""
    text += "; plus the trial plan (--plan trials)" if opts.plan in ("trials", "all") else ""
    text += f"; OVERRIDDEN by {', '.join(changed)}" if changed else ""
    return {"protocol": PROTOCOLS[opts.protocol]["name"] + text, "protocol_key": opts.protocol,
            "runtime": info, "argv": None if argv is None else list(argv), "seed": opts.seed,
            "complete": False, "configs_done": 0,
            "configs_total": sum(len(d.configs) for d in prepared.values() if d),
            "datasets": {n: None if d is None else {"protocol": d.protocol, "runs": []}
                         for n, d in prepared.items()}}


def run_study(options: StudyOptions, *, argv: Sequence[str] | None = None,
              extra_configs: Callable[[Prepared], Sequence[Config]] | None = None) -> dict:
    """Run the collapse-or-preserve study and write its outputs into ``options.out``.

    Args:
        options: what to run (``StudyOptions``; the flags of ``scripts/reproduce.py``). With
            ``plan="auto"`` (or ``"all"``) each data set also trains its automatic plan
            (``autoplan.auto_plans``), computed before any training, and ``datasets[name]["plans"]``
            holds its summaries; with ``plan="trials"`` (or ``"all"``) each T's trial plan
            (``trialplan.trial_plan_config``) is chosen after that T's grid and trained last, and
            ``datasets[name]["trials"]`` holds its summaries.
        argv: the command line, recorded in ``results.json`` (None: not recorded).
        extra_configs: ``Prepared -> configurations`` run after each data set's grid (e.g. a
            per-layer plan); each is built once before any training (so a bad one stops the
            study early), and their labels must not repeat the grid's.

    Returns:
        The results: ``protocol`` (text), ``protocol_key``, ``runtime``, ``argv``, ``seed``,
        ``datasets`` (name -> ``{"protocol": section, "runs": [row, ...]}`` or None if skipped),
        ``wall_s``, ``complete``, ``configs_done``, ``configs_total`` and ``plots`` (paths).
        Written as ``results.md``/``results.json`` after every configuration, with per-run
        metrics under ``<out>/<data set>/runs/`` and PNG plots at the end.

    Raises:
        OptionError: a bad option, an unwritable ``out``, a data set asked for by name but not
            found, or an override that does not fit the data; all before any training.
        Whatever training raises, after recording the failed configuration in the results.
    """
    import tacjax.runtime as rt

    opts = check_options(options)
    out = prepare_out(opts.out)
    t0 = time.perf_counter()
    info = rt.describe()
    changed = overrides(options)
    _announce(opts, info, changed)
    prepared = _prepare_all(opts, selected_datasets(opts.dataset, opts.protocol))
    plans = {}
    for data in prepared.values():
        if data is not None and opts.plan in ("auto", "all"):
            configs, plans[data.name] = auto_plans(data, opts)
            _add_configs(data, configs)
        if data is not None and extra_configs is not None:
            _add_configs(data, extra_configs(data))
    results = _new_results(opts, info, changed, prepared, argv)
    for name, summaries in plans.items():
        results["datasets"][name]["plans"] = summaries
    raster = None

    def save():
        results["wall_s"] = time.perf_counter() - t0
        write_results(results, out)

    save()
    for name, data in prepared.items():
        if data is None:
            continue
        print(f"== {name}", flush=True)
        res = results["datasets"][name]
        for config in data.configs:
            model = _record(results, name, data, config, opts, save)
            if raster is None and data.raster_input is not None and config.mode == "baseline":
                raster = (name, (model, data.raster_input(config.num_steps)))
        if opts.plan in ("trials", "all"):  # after the grid: the target is its measured median speed-up
            for base in [c for c in data.configs if c.mode == "baseline"]:
                label = base.label[: -len("baseline")] + TRIALS_LABEL
                planned, summary = _guarded(results, name, label, save, lambda b=base, d=data, r=res["runs"]:
                                            trial_plan_config(d, b, r, opts))
                res.setdefault("trials", []).append(summary)
                if planned is not None:
                    results["configs_total"] += 1
                    _record(results, name, data, planned, opts, save)
    results["complete"] = True
    results["plots"] = plots(results, out, raster)
    save()
    print(markdown(results))
    print(f"wrote {out}/results.md, results.json and {len(results['plots'])} plots "
          f"(JAX {info['jax']}, total {math.ceil(results['wall_s'])} s)")
    return results
