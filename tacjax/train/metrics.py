"""Per-epoch metrics files, written atomically and repaired from the checkpoint's history on resume."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import warnings

from tacjax.common.files import atomic_write_text
from tacjax.train._checks import check_file_prefix

__all__ = ["repair_metrics", "write_metrics"]

_SUFFIXES = (".json", ".csv")


def _check_history(history, fn: str) -> None:
    if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
        raise TypeError(f"{fn}: `history` must be a list of dicts (one per epoch); "
                        f"got {type(history).__name__}.")


def write_metrics(history: list[dict], path_prefix: str | os.PathLike) -> tuple[str, str]:
    """Write ``history`` (one flat dict per epoch) to ``<prefix>.json`` and ``<prefix>.csv``.

    Each file is written atomically (temporary file, then rename), so a killed process leaves the
    old file or the new one, never a truncated one. The CSV holds the non-dict columns, sorted.

    Returns:
        The two paths ``(json, csv)``.
    """
    _check_history(history, "write_metrics")
    prefix = check_file_prefix(path_prefix, "write_metrics", "path_prefix", _SUFFIXES)
    atomic_write_text(prefix + ".json", json.dumps(history, indent=1))
    keys = sorted({k for row in history for k in row if not isinstance(row[k], dict)})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(history)
    atomic_write_text(prefix + ".csv", buf.getvalue())
    return prefix + ".json", prefix + ".csv"


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def repair_metrics(history: list[dict], path_prefix: str | os.PathLike) -> bool:
    """Make the metrics files equal ``history`` (the checkpoint's, which is the truth).

    Reads ``<prefix>.json``; if it is missing, truncated, unreadable or differs from ``history``,
    both files are rewritten (``write_metrics``) with a ``UserWarning`` naming the file. The CSV is
    rewritten in any case (it is derived from the same rows).

    Returns:
        True if the JSON file had to be repaired.
    """
    _check_history(history, "repair_metrics")
    prefix = check_file_prefix(path_prefix, "repair_metrics", "path_prefix", _SUFFIXES)
    try:
        with open(prefix + ".json") as f:
            problem = None if _same(json.load(f), history) else "differs from the checkpoint's history"
    except FileNotFoundError:
        problem = "is missing" if history else None
    except (OSError, ValueError) as e:
        problem = f"is unreadable ({type(e).__name__}: {e})"
    if problem:
        warnings.warn(f"metrics file {prefix}.json {problem}; rewritten from the checkpoint "
                      f"({len(history)} epochs).", UserWarning, stacklevel=2)
    write_metrics(history, prefix)
    return problem is not None
