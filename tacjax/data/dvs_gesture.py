"""DVS128 Gesture through ``tonic.datasets.DVSGesture``, binned to frames and cached on disk.

tonic (1.7) expects the extracted archives under ``<data_dir>/DVSGesture/``::

    <data_dir>/DVSGesture/ibmGestureTrain/user01_fluorescent/0.npy ... 10.npy
    <data_dir>/DVSGesture/ibmGestureTest/user24_led/...

one ``<label>.npy`` file per sample (the label 0..10 is the file name) inside one folder per
recording (``user<NN>_<lighting>``), each file an integer array ``[M, 4]`` with columns
x, y, p, t (t in milliseconds; tonic converts it to microseconds). tonic itself treats the
data as present only when the archive ``ibmGestureTrain.tar.gz`` / ``ibmGestureTest.tar.gz``
sits next to the folder and the folder holds at least 100 ``.npy`` files, and otherwise
starts a download. This loader accepts any folder with at least one ``.npy`` file and never
downloads: when the files are missing it raises ``FileNotFoundError`` saying how to get them.

Each recording is binned with ``tonic.transforms.Downsample`` (``spatial_factor = size /
128``, i.e. ``x -> floor(x * size / 128)``) and ``tonic.transforms.ToFrame(n_time_bins=T)``:
T bins of equal duration ``(t_last - t_first) // T`` from the first event. Like tonic, this
drops the events after the last full bin (at least the very last event of each recording).
Before binning, every recording is checked (shape ``[M, 4]``, finite whole numbers, x and y in
``0..127``, p in {0, 1}, timestamps never decreasing): a malformed file raises ValueError naming it
instead of binning to empty or wrong frames.

The cache: entries are written atomically (temporary file, then rename), so a killed run leaves
no half-written entry; an entry that cannot be read back (truncated, corrupt) or does not match
its key is rebuilt with a ``RuntimeWarning``. The cache folder is checked for writing before the
binning starts.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import numpy.lib.recfunctions  # noqa: F401  (tonic's DVSGesture.__getitem__ uses np.lib.recfunctions)

from tacjax.common.files import atomic_write_bytes
from tacjax.data.events import _check_bool, _event_columns, _time_major

__all__ = ["DVS_GESTURE_CLASSES", "load_dvs_gesture"]

#: Number of gesture classes.
DVS_GESTURE_CLASSES = 11
_SENSOR = 128
_FOLDERS = {"train": "ibmGestureTrain", "test": "ibmGestureTest"}
_CACHE_VERSION = 2  # 2: the fingerprint includes modification times
_HOWTO = (
    "DVS128 Gesture cannot be downloaded automatically here. On a machine with network access run "
    "`python -c \"import tonic; tonic.datasets.DVSGesture(save_to='<data_dir>', train=True); "
    "tonic.datasets.DVSGesture(save_to='<data_dir>', train=False)\"` (it fetches ibmGestureTrain.tar.gz "
    "and ibmGestureTest.tar.gz from figshare and extracts them), or extract those archives yourself into "
    "<data_dir>/DVSGesture/, then pass that <data_dir>."
)


def _default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "tacjax" / "dvs_gesture"


def _save_to(data_dir: Path, folder: str) -> Path:
    """The ``save_to`` for tonic: ``data_dir``, or its parent if it is the DVSGesture folder itself."""
    if (
        not (data_dir / "DVSGesture").is_dir()
        and data_dir.name == "DVSGesture"
        and (data_dir / folder).is_dir()
    ):
        return data_dir.parent
    return data_dir


def _fingerprint(files: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(root).as_posix()}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _dataset(save_to: Path, train: bool, transform):
    import tonic

    # tonic derives the folder from the class name, so the subclass keeps the name DVSGesture
    class DVSGesture(tonic.datasets.DVSGesture):
        """tonic's DVSGesture without the archive/100-file presence check and without download."""

        def _check_exists(self) -> bool:
            return any(Path(self.location_on_system, self.folder_name).glob("*/*.npy"))

        def download(self) -> None:
            raise FileNotFoundError(
                f"load_dvs_gesture: no DVS128 Gesture files under {self.location_on_system}"
            )

    return DVSGesture(save_to=str(save_to), train=train, transform=transform)


def _bin_all(save_to: Path, split: str, num_steps: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    from tonic import transforms

    transform = transforms.Compose(
        [
            transforms.Downsample(spatial_factor=size / _SENSOR),
            transforms.ToFrame(sensor_size=(size, size, 2), n_time_bins=num_steps),
        ]
    )
    ds = _dataset(save_to, split == "train", transform)
    order = sorted(range(len(ds)), key=lambda i: ds.data[i])
    for i in order:
        _check_recording(ds.data[i])
    frames = np.zeros((len(ds), num_steps, size, size, 2), dtype=np.float32)
    labels = np.empty(len(ds), dtype=np.int32)
    for j, i in enumerate(order):
        f, y = ds[i]  # f: [T, P, H, W] counts
        f = np.asarray(f)
        if f.shape != (num_steps, 2, size, size):
            raise ValueError(
                f"load_dvs_gesture: tonic returned frames of shape {f.shape} for {ds.data[i]}; expected "
                f"{(num_steps, 2, size, size)} (fewer events than time bins?)."
            )
        frames[j] = f.transpose(0, 2, 3, 1)
        labels[j] = y
    if labels.size and (labels.min() < 0 or labels.max() >= DVS_GESTURE_CLASSES):
        raise ValueError(f"load_dvs_gesture: labels must lie in 0..10; found {labels.min()}..{labels.max()}.")
    return frames, labels


def _check_recording(path: str) -> None:
    """ValueError naming the file if a raw recording ``[M, 4]`` (x, y, p, t in ms) is malformed."""
    fn = f"load_dvs_gesture ({path})"
    try:
        ev = np.load(path)
    except (OSError, ValueError, EOFError) as e:
        raise ValueError(f"{fn}: the recording cannot be read as a .npy array: {e}") from e
    x, y, _, _ = _event_columns(ev, fn)
    if x.size and (min(x.min(), y.min()) < 0 or max(x.max(), y.max()) >= _SENSOR):
        raise ValueError(f"{fn}: event coordinates must lie in 0..{_SENSOR - 1}; got x in [{x.min()}, "
                         f"{x.max()}], y in [{y.min()}, {y.max()}].")


def _check_writable(cache: Path) -> None:
    """ValueError unless ``cache`` is (or can be made) a folder that accepts a new file."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=cache)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ValueError(
            f"load_dvs_gesture: `cache_dir` {os.fspath(cache)!r} is not a writable folder ({e}); the binned "
            "frames could not be cached. Pass a writable `cache_dir`."
        ) from e


_UNREADABLE = (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile, zlib.error)


def _read_cache(path: Path, key: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached ``(frames, labels)``, or None (with a RuntimeWarning) if the entry is unusable."""
    try:
        with np.load(path) as z:
            stale = [k for k, v in key.items() if str(z[k]) != str(v)]
            frames, labels = z["frames"].astype(np.float32), z["labels"].astype(np.int32)
    except _UNREADABLE as e:
        why = f"it cannot be read ({type(e).__name__}: {e})"
    else:
        want = (key["num_steps"], key["size"], key["size"], 2)
        if stale:
            why = f"its key differs in {stale}"
        elif frames.ndim != 5 or frames.shape[1:] != want or labels.shape != frames.shape[:1]:
            why = f"it holds frames {frames.shape} and labels {labels.shape}; expected [N, *{want}] and [N]"
        else:
            return frames, labels
    warnings.warn(f"load_dvs_gesture: cache entry {os.fspath(path)!r} is unusable: {why}; rebuilding it.",
                  RuntimeWarning, stacklevel=3)
    return None


def _write_cache(path: Path, frames: np.ndarray, labels: np.ndarray, key: dict) -> None:
    top = float(frames.max()) if frames.size else 0.0
    store = np.uint8 if top <= 255 else np.uint16 if top <= 65535 else np.float32
    buf = io.BytesIO()
    np.savez_compressed(buf, frames=frames.astype(store), labels=labels, **key)
    atomic_write_bytes(path, buf.getvalue())


def load_dvs_gesture(
    data_dir: str | os.PathLike,
    split: str = "train",
    *,
    num_steps: int = 16,
    size: int = 32,
    cache_dir: str | os.PathLike | None = None,
    time_major: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Load a DVS128 Gesture split as binned event frames (see the module docstring).

    The binned frames are cached in ``cache_dir`` (default ``$XDG_CACHE_HOME/tacjax/dvs_gesture``,
    i.e. ``~/.cache/tacjax/dvs_gesture``) as ``dvsgesture-<split>-T<num_steps>-s<size>-<id>.npz``,
    where ``<id>`` fingerprints the sample files (names, sizes and modification times, so an
    edited recording is binned again); a later call with the same settings reads the cache
    instead of the event files. A corrupt or mismatched entry is rebuilt with a
    ``RuntimeWarning``; before binning, ``cache_dir`` is checked for writing.

    For time-major ``[T, B, ...]`` batches either batch the default ``[N, T, ...]`` frames on axis
    0 and transpose each batch (``tacjax.train.events_encoder`` does), or pass ``time_major=True``
    and batch on axis 1 (``tacjax.data.batches((frames, labels), B, axes=(1, 0))``).

    Args:
        data_dir: tonic's ``save_to`` folder, the one that holds ``DVSGesture/`` (passing the
            ``DVSGesture`` folder itself also works).
        split: ``"train"`` or ``"test"``.
        num_steps: T, the number of time bins per recording.
        size: output side; the 128 x 128 sensor is downsampled to ``size x size``.
        cache_dir: where the binned frames are cached (a writable folder; created if missing).
        time_major: return the frames time-major ``[T, N, size, size, 2]`` (a contiguous copy).

    Returns:
        ``(frames, labels)``: float32 ``[N, T, size, size, 2]`` event counts (channel 0 OFF,
        1 ON; ``[T, N, ...]`` with ``time_major=True``), samples sorted by file path, and int32
        labels ``[N]`` in ``0..10``.

    Raises:
        FileNotFoundError: no ``.npy`` sample files for the split; says how to obtain them.
        ValueError: bad ``split``, ``num_steps`` or ``size``; a ``cache_dir`` that cannot be
            written; a malformed recording (the message names the file).
        TypeError: ``time_major`` is not a bool.
    """
    fn = "load_dvs_gesture"
    if split not in _FOLDERS:
        raise ValueError(f"{fn}: `split` must be 'train' or 'test'; got {split!r}.")
    for name, v, hi in (("num_steps", num_steps, None), ("size", size, _SENSOR)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1 or (hi and v > hi):
            raise ValueError(f"{fn}: `{name}` must be an int in 1..{hi or 'inf'}; got {v!r}.")
    time_major = _check_bool(time_major, "time_major", fn)
    folder = _FOLDERS[split]
    save_to = _save_to(Path(data_dir).expanduser(), folder)
    root = save_to / "DVSGesture" / folder
    files = sorted(root.glob("*/*.npy"))
    if not files:
        raise FileNotFoundError(
            f"{fn}: no DVS128 Gesture {split!r} samples found: looked for {root}/user*_*/<label>.npy "
            f"(data_dir={os.fspath(data_dir)!r}). {_HOWTO}"
        )
    fp = _fingerprint(files, root)
    key = {"split": split, "num_steps": int(num_steps), "size": int(size), "fingerprint": fp,
           "version": _CACHE_VERSION}  # fmt: skip
    cache = Path(cache_dir).expanduser() if cache_dir is not None else _default_cache_dir()
    path = cache / f"dvsgesture-{split}-T{num_steps}-s{size}-{fp}.npz"
    hit = _read_cache(path, key) if path.exists() else None
    if hit is None:
        _check_writable(cache)
        hit = _bin_all(save_to, split, int(num_steps), int(size))
        _write_cache(path, *hit, key)
    return _time_major(hit[0], time_major), hit[1]
