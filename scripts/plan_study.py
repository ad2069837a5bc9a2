"""How well each order statistic ranks the study's measured accuracy drops (from results.json files).

Reads one or more ``results.json`` of ``scripts/reproduce.py --plan auto`` runs. For every data set
with an automatic plan, the plan's summary holds the order profile of the baseline network (every
statistic of ``tacjax.plan.STATISTICS`` at every K) and every row holds its per-layer ``modes`` and
``ks``; so for every trained configuration (the grid and the plan) the script computes each
statistic's predicted loss (``tacjax.plan.layer_losses`` on the ``envelope``) and compares it with the
measured drop, ``-acc_delta_pts`` (baseline accuracy minus the row's, in points). It prints:

* Spearman's rank correlation per statistic over every row of every file (both data sets), and per
  data set;
* the least-squares slope through the origin, drop ~ slope * loss (points per unit of loss: what
  ``tacjax.plan.DROP_PER_UNIT`` holds for the default statistic);
* the work model's ``neuron_cost``: a least-squares fit of the measured training time per epoch,
  ``a * MACs + b * neuron_updates`` per data set, reported as ``b / a`` (only where the rows vary the
  two terms independently, e.g. TAC-TP rows beside TAC rows; timings on a busy machine are noisy).

    python scripts/plan_study.py results-plan/results.json [more/results.json ...] [--out plan_study.md]
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from tacjax.plan import STATISTICS, envelope, layer_losses

__all__ = ["collect", "fit_neuron_cost", "main", "report", "spearman"]


def spearman(a, b) -> float:
    """Spearman's rank correlation of two equal-length sequences (average ranks for ties; NaN if constant)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"spearman: need two 1-D sequences of one length >= 2; got shapes {a.shape}, "
                         f"{b.shape}.")

    def ranks(v):
        order = np.argsort(v, kind="stable")
        r = np.empty(v.size)
        r[order] = np.arange(1, v.size + 1)
        for x in np.unique(v):  # average rank within ties
            r[v == x] = r[v == x].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def collect(paths) -> list[dict]:
    """One record per trained row with a plan profile: data set, config, measured drop, predicted losses."""
    records = []
    for path in paths:
        with open(path) as f:
            results = json.load(f)
        for name, res in results["datasets"].items():
            for summary in (res or {}).get("plans", []):
                scores = summary["profile"]["scores"]
                for r in res["runs"]:
                    same_t = r["num_steps"] == summary["num_steps"]
                    if not same_t or "modes" not in r or r["acc_delta_pts"] is None:
                        continue
                    pred = {s: sum(layer_losses(envelope(np.asarray(scores[s])), r["modes"], r["ks"]))
                            for s in STATISTICS}
                    work = summary["work_terms"].get(r["config"])
                    records.append({"file": path, "dataset": name, "config": r["config"],
                                    "drop": -r["acc_delta_pts"], "pred": pred, "work": work,
                                    "train_s": r["train_s_per_epoch"]})
    return records


def fit_neuron_cost(records: list[dict]) -> float | None:
    """``b / a`` of the least-squares fit ``train_s ~ a * MACs + b * neuron_updates``.

    None when not fittable: fewer than 3 rows, the two terms (nearly) proportional across the rows
    (condition number of the column-scaled design > 100), or a non-positive coefficient.
    """
    rows = [r for r in records if r["work"] is not None]
    if len(rows) < 3:
        return None
    design = np.array([[r["work"]["macs"], r["work"]["neuron_updates"]] for r in rows])
    scale = np.abs(design).max(axis=0)
    if np.any(scale == 0) or np.linalg.cond(design / scale) > 100:
        return None  # e.g. only collapse rows: MACs and LIF updates shrink together, the split is arbitrary
    (a, b), *_ = np.linalg.lstsq(design, np.array([r["train_s"] for r in rows]), rcond=None)
    return float(b / a) if a > 0 and b > 0 else None


def report(records: list[dict]) -> str:
    """The Markdown report of ``collect``'s records."""
    names = sorted({r["dataset"] for r in records})
    per_set = " | ".join(f"Spearman, {n}" for n in names)
    head = f"| statistic | Spearman, all rows | {per_set} | slope (pts/unit) |"
    lines = [f"{len(records)} trained configurations ({', '.join(names)}); drop = baseline accuracy - "
             "configuration accuracy, points.\n", head, "|---" * (3 + len(names)) + "|"]
    drops = np.array([r["drop"] for r in records])
    for s in STATISTICS:
        pred = np.array([r["pred"][s] for r in records])
        per = []
        for n in names:
            sel = [i for i, r in enumerate(records) if r["dataset"] == n]
            per.append(f"{spearman(pred[sel], drops[sel]):.3f}" if len(sel) > 1 else "-")
        slope = float(pred @ drops / (pred @ pred)) if pred @ pred > 0 else float("nan")
        lines.append(f"| {s} | {spearman(pred, drops):.3f} | " + " | ".join(per) + f" | {slope:.1f} |")
    lines.append("")
    for n in names:
        cost = fit_neuron_cost([r for r in records if r["dataset"] == n])
        fitted = "not fittable" if cost is None else f"{cost:.0f} MACs per LIF update"
        lines.append(f"neuron_cost fitted on {n}'s training times: {fitted}")
    lines += ["", "| data set | config | drop (pts) | " + " | ".join(STATISTICS) + " |",
              "|---|---|---|" + "---|" * len(STATISTICS)]
    for r in records:
        lines.append(f"| {r['dataset']} | {r['config']} | {r['drop']:.2f} | "
                     + " | ".join(f"{r['pred'][s]:.4f}" for s in STATISTICS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    """Parse ``argv``, print the report (and write it to ``--out``); return it."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="+", help="results.json of `reproduce.py --plan auto` runs")
    p.add_argument("--out", default=None, help="also write the report to this Markdown file")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    records = collect(args.results)
    if len(records) < 2:
        p.error(f"results ({args.results}): fewer than 2 trained configurations with a plan profile; run "
                "scripts/reproduce.py --plan auto first.")
    text = report(records)
    print(text)
    if args.out:
        from tacjax.common.files import atomic_write_text

        atomic_write_text(args.out, text + "\n")
    return text


if __name__ == "__main__":
    main()
