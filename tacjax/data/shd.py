"""Spiking Heidelberg Digits (SHD) through ``tonic.datasets.SHD``, binned to time-major frames.

SHD (Cramer et al. 2020): spoken digits 0-9 in English and German (20 classes) as spike trains of
700 cochlea channels. tonic (1.7) reads the HDF5 files from ``<data_dir>/SHD/``::

    <data_dir>/SHD/shd_train.h5
    <data_dir>/SHD/shd_test.h5

each with ``spikes/times`` (one float array of spike times in seconds per sample),
``spikes/units`` (the channel, 0..699, of each spike), ``labels`` and ``extra/keys``,
``extra/speaker``. tonic itself counts the data as present only when the downloaded archive
``shd_train.h5.zip`` / ``shd_test.h5.zip`` sits next to the file, and otherwise downloads it; this
loader needs only the ``.h5`` file and never downloads (a missing file is a ``FileNotFoundError``
saying how to get it).

Binning: every sample is cut into ``num_steps`` bins of equal width ``max_time / num_steps``
seconds on a common clock that starts at the stimulus onset (t = 0), so a bin means the same time
in every sample; spikes at or after ``max_time`` are dropped (SHD's digits last under 1.4 s; the
default 1 s keeps nearly all of most digits, as is common in SHD work). tonic's ``ToFrame``
is not used for this: with ``n_time_bins`` it stretches each sample over its own duration, and
with ``time_window`` it starts at each sample's first spike and gives samples different lengths.
Every sample is checked (finite, non-negative times, channels in 0..699, labels in 0..19): a bad
one is a ValueError naming it.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np

from tacjax.data.events import _check_bool, _time_major

__all__ = ["SHD_CHANNELS", "SHD_CLASSES", "load_shd"]

#: Number of classes (digits 0-9 in English and in German).
SHD_CLASSES = 20
#: Number of input channels (cochlea model outputs).
SHD_CHANNELS = 700
_FILES = {"train": "shd_train.h5", "test": "shd_test.h5"}
_HOWTO = (
    "SHD is not downloaded automatically here. On a machine with network access run `python -c \"import "
    "tonic; tonic.datasets.SHD(save_to='<data_dir>', train=True); tonic.datasets.SHD(save_to='<data_dir>', "
    "train=False)\"` (it fetches and unzips shd_train.h5.zip and shd_test.h5.zip from zenkelab.org), or put "
    "the unzipped shd_train.h5 / shd_test.h5 into <data_dir>/SHD/ yourself, then pass that <data_dir>."
)


def _dataset(save_to: Path, train: bool):
    import tonic

    # tonic derives the folder from the class name, so the subclass keeps the name SHD
    class SHD(tonic.datasets.SHD):
        """tonic's SHD without the archive presence check and without download."""

        def _check_exists(self) -> bool:
            return Path(self.location_on_system, self.filename[:-4]).is_file()

        def download(self) -> None:
            raise FileNotFoundError(f"load_shd: no SHD file under {self.location_on_system}")

    return SHD(save_to=str(save_to), train=train)


def _bin(events: np.ndarray, num_steps: int, max_time: float, fn: str) -> np.ndarray:
    """``[T, 700]`` spike counts of one sample (tonic's events: ``t`` in microseconds, ``x`` the channel)."""
    t = np.asarray(events["t"], np.float64) / 1e6
    x = np.asarray(events["x"])
    if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
        raise ValueError(f"{fn}: spike times must be finite and >= 0; got values in [{t.min()}, {t.max()}] "
                         f"s.")
    if x.size and (x.min() < 0 or x.max() >= SHD_CHANNELS):
        raise ValueError(f"{fn}: spike channels must lie in 0..{SHD_CHANNELS - 1}; got [{x.min()}, "
                         f"{x.max()}].")
    keep = t < max_time
    bins = np.minimum((t[keep] * num_steps / max_time).astype(np.int64), num_steps - 1)
    frames = np.zeros((num_steps, SHD_CHANNELS), np.float32)
    np.add.at(frames, (bins, x[keep]), 1.0)
    return frames


def load_shd(
    data_dir: str | os.PathLike,
    split: str = "train",
    *,
    num_steps: int = 100,
    max_time: float = 1.0,
    time_major: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Load an SHD split as spike-count frames (see the module docstring).

    For time-major ``[T, B, 700]`` batches pass ``time_major=True`` and batch on axis 1
    (``tacjax.data.batches((frames, labels), B, axes=(1, 0))``), or transpose each batch.

    Args:
        data_dir: tonic's ``save_to`` folder, the one that holds ``SHD/`` (passing the ``SHD``
            folder itself also works).
        split: ``"train"`` or ``"test"``.
        num_steps: T, the number of time bins (an int >= 1; 100 is common for SHD).
        max_time: the binned duration in seconds (> 0); later spikes are dropped.
        time_major: return ``[T, N, 700]`` (a contiguous copy) instead of ``[N, T, 700]``.

    Returns:
        ``(frames, labels)``: float32 spike counts ``[N, T, 700]`` (``[T, N, 700]`` with
        ``time_major``) in the file's sample order, and int32 labels ``[N]`` in ``0..19``.

    Raises:
        FileNotFoundError: no ``shd_<split>.h5``; says how to obtain it.
        ValueError: bad ``split``, ``num_steps`` or ``max_time``; a malformed sample or label.
        TypeError: ``time_major`` is not a bool.
    """
    fn = "load_shd"
    if split not in _FILES:
        raise ValueError(f"{fn}: `split` must be 'train' or 'test'; got {split!r}.")
    if isinstance(num_steps, bool) or not isinstance(num_steps, numbers.Integral) or num_steps < 1:
        raise ValueError(f"{fn}: `num_steps` must be an int >= 1; got {num_steps!r}.")
    if isinstance(max_time, bool) or not isinstance(max_time, numbers.Real) or not 0 < max_time < np.inf:
        raise ValueError(f"{fn}: `max_time` must be a finite number of seconds > 0; got {max_time!r}.")
    time_major = _check_bool(time_major, "time_major", fn)
    data_dir = Path(data_dir).expanduser()
    save_to = data_dir.parent if data_dir.name == "SHD" and not (data_dir / "SHD").is_dir() else data_dir
    path = save_to / "SHD" / _FILES[split]
    if not path.is_file():
        raise FileNotFoundError(f"{fn}: no SHD {split!r} file: looked for {path} "
                                f"(data_dir={os.fspath(data_dir)!r}). {_HOWTO}")
    ds = _dataset(save_to, split == "train")
    frames = np.zeros((len(ds), int(num_steps), SHD_CHANNELS), np.float32)
    labels = np.empty(len(ds), np.int32)
    for i in range(len(ds)):
        events, label = ds[i]
        frames[i] = _bin(events, int(num_steps), float(max_time), f"{fn} ({path}, sample {i})")
        labels[i] = label
    if labels.size and (labels.min() < 0 or labels.max() >= SHD_CLASSES):
        raise ValueError(f"{fn}: labels must lie in 0..{SHD_CLASSES - 1}; found "
                         f"{labels.min()}..{labels.max()} in {path}.")
    return _time_major(frames, time_major), labels
