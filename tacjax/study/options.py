"""The study's options (one per command-line flag of ``scripts/reproduce.py``) and their checks.

``check_options`` validates every option before any work and raises ``OptionError`` (a
ValueError) whose message names the flag, the option, the value received and what is expected.
``prepare_out`` then checks that the output folder can be written.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile

from tacjax.study.protocols import DATASETS, IMAGE_DATASETS, PROTOCOLS, selected_datasets

__all__ = ["FLAGS", "OptionError", "StudyOptions", "check_options", "overrides", "parse_grids", "prepare_out"]

#: option -> the command-line flag that sets it.
FLAGS = {
    "protocol": "--smoke/--full", "dataset": "--dataset", "data_dir": "--data-dir", "out": "--out",
    "epochs": "--epochs", "train_samples": "--train-samples", "test_samples": "--test-samples",
    "grids": "--grids", "seed": "--seed", "loss": "--loss", "tp_share": "--tp-share",
    "progress": "--no-progress", "plan": "--plan",
}  # fmt: skip
LOSSES = ("membrane", "count")
SHARES = ("mean", "repeat")
PLANS = ("none", "auto", "trials", "all")


class OptionError(ValueError):
    """A study option (a command-line flag) that cannot be run; raised before any training."""


@dataclasses.dataclass(frozen=True)
class StudyOptions:
    """What to run: the command-line flags of ``scripts/reproduce.py`` as fields.

    Attributes:
        protocol: ``"smoke"``, ``"default"`` or ``"full"`` (``--smoke`` / ``--full``).
        dataset: ``"default"``, ``"all"`` or one of ``DATASETS`` (see ``selected_datasets``).
        data_dir: folder of the IDX files and DVS128 Gesture; must exist when given.
        out: output folder (created; must be writable).
        epochs: override every data set's epochs (>= 1), or None for the protocol's.
        train_samples, test_samples: override the image subsets (>= 1; None: the protocol's).
        grids: override the image T/K grid: ``"25:5,25;16:2,4"`` or ``((25, (5, 25)), (16, (2, 4)))``.
        seed: init, shuffling and encoding seed (>= 0).
        loss: ``"membrane"`` (cross-entropy on the mean readout membrane) or ``"count"``.
        tp_share: TAC-TP current sharing, ``"mean"`` (current / K per step) or ``"repeat"``.
        progress: show progress bars.
        plan: ``"none"``; ``"auto"``: also train the per-layer plan ``tacjax.plan`` chooses from a
            calibration batch (``tacjax.study.autoplan``) and report where it lands among the grid;
            ``"trials"``: after the grid, the plan ``tacjax.plan.trial_plan`` chooses by short
            trainings at the grid's median speed-up (``tacjax.study.trialplan``); ``"all"``: both.
    """

    protocol: str = "default"
    dataset: str = "default"
    data_dir: str | None = None
    out: str = "results"
    epochs: int | None = None
    train_samples: int | None = None
    test_samples: int | None = None
    grids: str | tuple | None = None
    seed: int = 0
    loss: str = "membrane"
    tp_share: str = "mean"
    progress: bool = True
    plan: str = "none"


def _error(field: str, value, expected: str) -> OptionError:
    return OptionError(f"{FLAGS[field]} ({field}) must be {expected}; got {value!r}.")


def parse_grids(text) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """``'25:5,25;16:2,4'`` -> ``((25, (5, 25)), (16, (2, 4)))``; a tuple of that form is checked as is.

    Every T and K is an int, ``1 <= K <= T``; every T has at least one K, no T and no K within a T
    repeats. Raises ``OptionError`` naming ``--grids`` and the faulty part.
    """
    want = "'T:K1,K2,...' entries joined by ';' (e.g. '16:2,4,8;25:5'), each K an int in 1..T"
    if isinstance(text, str):
        grids = []
        for part in text.split(";"):
            t, colon, ks = (s.strip() for s in part.partition(":"))
            try:
                if not colon:
                    raise ValueError
                grids.append((int(t), tuple(int(k) for k in ks.split(","))))
            except ValueError:
                raise _error("grids", text, f"{want}; cannot parse {part!r}") from None
    elif isinstance(text, tuple | list) and text:
        grids = text
    else:
        raise _error("grids", text, want)
    out = []
    for entry in grids:
        ok = isinstance(entry, tuple | list) and len(entry) == 2 and isinstance(entry[1], tuple | list)
        t, ks = (entry[0], tuple(entry[1])) if ok else (None, ())
        ints = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in (t, *ks))
        if not ints or t < 1 or not ks or any(not 1 <= k <= t for k in ks) or len(set(ks)) != len(ks):
            raise _error("grids", text, f"{want}, no K repeated within a T; bad entry {entry!r}")
        out.append((t, ks))
    if len({t for t, _ in out}) != len(out):
        raise _error("grids", text, f"{want}, each T once")
    return tuple(out)


def _int_or_none(opts: StudyOptions, field: str, lo: int, hint: str = "") -> None:
    v = getattr(opts, field)
    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < lo):
        raise _error(field, v, f"an int >= {lo}{hint}")


def check_options(opts: StudyOptions) -> StudyOptions:
    """Validate every option; return them with ``grids`` parsed to a tuple.

    Raises:
        OptionError: the first option that cannot be run (``--train-samples 0``, ``--epochs 0``,
            negative values, a malformed ``--grids``, a ``--data-dir`` that is not a folder,
            ``--dataset dvs_gesture`` without ``--data-dir``, an image override for a selection
            without image data, an unknown choice).
    """
    if not isinstance(opts, StudyOptions):
        raise TypeError(f"check_options: `opts` must be a StudyOptions; got {type(opts).__name__}.")
    choices = {"protocol": tuple(PROTOCOLS), "dataset": ("default", "all", *DATASETS), "loss": LOSSES,
               "tp_share": SHARES, "plan": PLANS}  # fmt: skip
    for field, allowed in choices.items():
        if getattr(opts, field) not in allowed:
            raise _error(field, getattr(opts, field), f"one of {allowed}")
    unset = " (leave it unset for the protocol's value; 0 does not mean 'all')"
    _int_or_none(opts, "epochs", 1, unset)
    _int_or_none(opts, "train_samples", 1, unset)
    _int_or_none(opts, "test_samples", 1, unset)
    if opts.seed is None:
        raise _error("seed", None, "an int >= 0")
    _int_or_none(opts, "seed", 0)
    if not isinstance(opts.progress, bool):
        raise _error("progress", opts.progress, "a bool")
    if not isinstance(opts.out, str | os.PathLike) or not os.fspath(opts.out):
        raise _error("out", opts.out, "a folder path")
    if opts.data_dir is not None and not os.path.isdir(os.path.expanduser(os.fspath(opts.data_dir))):
        raise _error("data_dir", opts.data_dir, "an existing folder")
    if opts.dataset == "dvs_gesture" and opts.data_dir is None:
        raise _error("data_dir", None, "the folder holding DVSGesture/ for --dataset dvs_gesture")
    names = selected_datasets(opts.dataset, opts.protocol)
    for field in ("train_samples", "test_samples", "grids"):
        if getattr(opts, field) is not None and not set(names) & set(IMAGE_DATASETS):
            raise _error(field, getattr(opts, field), f"left unset: it applies to the image data sets "
                         f"{IMAGE_DATASETS} only, and --dataset {opts.dataset} runs {names}")
    grids = None if opts.grids is None else parse_grids(opts.grids)
    return dataclasses.replace(opts, grids=grids)


def overrides(opts: StudyOptions) -> list[str]:
    """The protocol overrides as flags, e.g. ``["--epochs 3", "--grids ((16, (2, 4)),)"]``."""
    fields = ("epochs", "train_samples", "test_samples", "grids")
    return [f"{FLAGS[f]} {getattr(opts, f)}" for f in fields if getattr(opts, f) is not None]


def prepare_out(out: str | os.PathLike) -> str:
    """Create the output folder and check that a file can be written in it; return its path.

    Raises:
        OptionError: ``out`` is a file, sits under a file, or cannot be written.
    """
    out = os.fspath(out)
    try:
        os.makedirs(out, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise _error("out", out, f"a folder that can be created and written ({type(e).__name__}: {e})") from e
    return out
