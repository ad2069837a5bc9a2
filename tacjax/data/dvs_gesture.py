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
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import numpy.lib.recfunctions  # noqa: F401  (tonic's DVSGesture.__getitem__ uses np.lib.recfunctions)

__all__ = ["DVS_GESTURE_CLASSES", "load_dvs_gesture"]

#: Number of gesture classes.
DVS_GESTURE_CLASSES = 11
_SENSOR = 128
_FOLDERS = {"train": "ibmGestureTrain", "test": "ibmGestureTest"}
_CACHE_VERSION = 1
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
        h.update(f"{f.relative_to(root).as_posix()}:{f.stat().st_size}\n".encode())
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


def _read_cache(path: Path, key: dict) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path) as z:
            if any(str(z[k]) != str(v) for k, v in key.items()):
                return None
            return z["frames"].astype(np.float32), z["labels"].astype(np.int32)
    except (OSError, KeyError, ValueError):
        return None


def _write_cache(path: Path, frames: np.ndarray, labels: np.ndarray, key: dict) -> None:
    top = float(frames.max()) if frames.size else 0.0
    store = np.uint8 if top <= 255 else np.uint16 if top <= 65535 else np.float32
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, frames=frames.astype(store), labels=labels, **key)
    os.replace(tmp, path)


def load_dvs_gesture(
    data_dir: str | os.PathLike,
    split: str = "train",
    *,
    num_steps: int = 16,
    size: int = 32,
    cache_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load a DVS128 Gesture split as binned event frames (see the module docstring).

    The binned frames are cached in ``cache_dir`` (default ``$XDG_CACHE_HOME/tacjax/dvs_gesture``,
    i.e. ``~/.cache/tacjax/dvs_gesture``) as ``dvsgesture-<split>-T<num_steps>-s<size>-<id>.npz``,
    where ``<id>`` fingerprints the sample files (names and sizes); a later call with the same
    settings reads the cache instead of the event files.

    Args:
        data_dir: tonic's ``save_to`` folder, the one that holds ``DVSGesture/`` (passing the
            ``DVSGesture`` folder itself also works).
        split: ``"train"`` or ``"test"``.
        num_steps: T, the number of time bins per recording.
        size: output side; the 128 x 128 sensor is downsampled to ``size x size``.
        cache_dir: where the binned frames are cached.

    Returns:
        ``(frames, labels)``: float32 ``[N, T, size, size, 2]`` event counts (channel 0 OFF,
        1 ON), samples sorted by file path, and int32 labels ``[N]`` in ``0..10``.

    Raises:
        FileNotFoundError: no ``.npy`` sample files for the split; says how to obtain them.
        ValueError: bad ``split``, ``num_steps`` or ``size``.
    """
    fn = "load_dvs_gesture"
    if split not in _FOLDERS:
        raise ValueError(f"{fn}: `split` must be 'train' or 'test'; got {split!r}.")
    for name, v, hi in (("num_steps", num_steps, None), ("size", size, _SENSOR)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1 or (hi and v > hi):
            raise ValueError(f"{fn}: `{name}` must be an int in 1..{hi or 'inf'}; got {v!r}.")
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
    if path.is_file():
        hit = _read_cache(path, key)
        if hit is not None:
            return hit
    frames, labels = _bin_all(save_to, split, int(num_steps), int(size))
    _write_cache(path, frames, labels, key)
    return frames, labels
