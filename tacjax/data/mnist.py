"""MNIST and Fashion-MNIST from the standard IDX files, found locally or downloaded.

Search order (first hit wins):

1. the ``data_dir`` argument: ``<data_dir>/<name>``, then ``<data_dir>`` itself;
2. the ``TACJAX_DATA`` environment variable, likewise;
3. Fashion-MNIST only: ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu package
   ``dataset-fashion-mnist``);
4. the download cache ``$XDG_CACHE_HOME/tacjax/<name>`` (default ``~/.cache/tacjax/<name>``);
5. with ``download=True``, a download from the public mirrors into that cache, each file
   checked against its published sha256.

``<name>`` is ``mnist`` or ``fashion-mnist``. The two data sets use the same file names, so
a directory holding both should keep them in those sub-folders. Raw and gzipped files are
both accepted (``train-images-idx3-ubyte`` or ``train-images-idx3-ubyte.gz``, also with
``.idx3`` instead of ``-idx3``). Local files are not checksummed (re-compressed copies are
fine); their IDX headers, shapes and label range are validated instead.

A ``data_dir`` that is given must exist (a typo is an error, not a silent fall-back to another
copy); when it exists but lacks the files, the search goes on as listed. ``find_idx_files`` tells
which copy a loader would read.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tacjax.data.idx import read_idx

__all__ = ["ENV_VAR", "find_idx_files", "load_fashion_mnist", "load_mnist", "to_float"]

#: Environment variable naming a data directory.
ENV_VAR = "TACJAX_DATA"
_SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
           "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}  # fmt: skip
_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class _Spec:
    name: str
    title: str
    subdirs: tuple[str, ...]
    system_dirs: tuple[str, ...]
    mirrors: tuple[str, ...]
    sha256: dict[str, str]  # gz file name -> sha256 of the canonical gz bytes
    hint: str


_MNIST = _Spec(
    name="mnist",
    title="MNIST",
    subdirs=("mnist", "MNIST"),
    system_dirs=(),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    sha256={
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    hint="",
)
_FASHION = _Spec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    subdirs=("fashion-mnist", "fashion_mnist", "FashionMNIST"),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    sha256={
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    hint=" or install the system package (Debian/Ubuntu: `apt-get install dataset-fashion-mnist`)",
)


def _cache_dir(spec: _Spec) -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "tacjax" / spec.name


def _candidates(base: str) -> tuple[str, ...]:
    dotted = base.replace("-idx", ".idx")
    return (base, base + ".gz", dotted, dotted + ".gz")


def _find_pair(folder: Path, split: str) -> tuple[Path, Path] | None:
    """The (images, labels) files of ``split`` in ``folder``, or None if either is missing."""
    found = []
    for base in _SPLITS[split]:
        hit = next((folder / c for c in _candidates(base) if (folder / c).is_file()), None)
        if hit is None:
            return None
        found.append(hit)
    return found[0], found[1]


def _places(spec: _Spec, data_dir: str | os.PathLike | None) -> list[tuple[str, Path]]:
    places: list[tuple[str, Path]] = []
    for origin, root in (("data_dir", data_dir), (ENV_VAR, os.environ.get(ENV_VAR))):
        if root:
            root = Path(root).expanduser()
            places += [(origin, root / sub) for sub in spec.subdirs] + [(origin, root)]
    places += [("system", Path(d)) for d in spec.system_dirs]
    places.append(("cache", _cache_dir(spec)))
    return places


def _fetch(url: str, dest: Path) -> None:
    """Download ``url`` to ``dest`` (urllib; tests replace this function)."""
    req = urllib.request.Request(url, headers={"User-Agent": "tacjax"})
    with urllib.request.urlopen(req, timeout=_TIMEOUT_S) as resp, open(dest, "wb") as f:
        shutil.copyfileobj(resp, f)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(spec: _Spec, split: str, errors: list[str]) -> tuple[Path, Path] | None:
    """Download the two gz files of ``split`` into the cache, sha256-checked; None on failure."""
    cache = _cache_dir(spec)
    out = []
    for base in _SPLITS[split]:
        fname = base + ".gz"
        dest = cache / fname
        if dest.is_file():
            out.append(dest)
            continue
        ok = False
        for mirror in spec.mirrors:
            url = mirror + fname
            tmp = cache / (fname + ".part")
            try:
                cache.mkdir(parents=True, exist_ok=True)
                _fetch(url, tmp)
                digest = _sha256(tmp)
                if digest != spec.sha256[fname]:
                    errors.append(
                        f"{url}: sha256 mismatch (got {digest}, expected {spec.sha256[fname]}); deleted"
                    )
                    tmp.unlink()
                    continue
                os.replace(tmp, dest)
                ok = True
                break
            except OSError as e:  # URLError, timeouts and file errors are all OSError
                errors.append(f"{url}: {e}")
                if tmp.exists():
                    tmp.unlink()
        if not ok:
            return None
        out.append(dest)
    return out[0], out[1]


def _validate(images: np.ndarray, labels: np.ndarray, files: tuple[Path, Path]) -> None:
    img_f, lab_f = files
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"{img_f}: expected uint8 images of shape [N, 28, 28]; got {images.dtype} {images.shape}."
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{lab_f}: expected uint8 labels of shape [N]; got {labels.dtype} {labels.shape}.")
    if images.shape[0] != labels.shape[0] or images.shape[0] == 0:
        raise ValueError(
            f"{img_f} holds {images.shape[0]} images but {lab_f} holds {labels.shape[0]} labels; expected "
            "the same positive number."
        )
    if labels.max() > 9:
        raise ValueError(f"{lab_f}: labels must lie in 0..9; found {int(labels.max())}.")


def _check_args(split: str, data_dir, fn: str) -> None:
    if split not in _SPLITS:
        raise ValueError(f"{fn}: `split` must be 'train' or 'test'; got {split!r}.")
    if data_dir is not None and not Path(data_dir).expanduser().is_dir():
        raise FileNotFoundError(
            f"{fn}: `data_dir` {os.fspath(data_dir)!r} is not an existing folder; pass the folder that holds "
            "the IDX files (or leave it unset to search the other places)."
        )


def _locate(spec: _Spec, split: str, data_dir) -> tuple[Path, Path, str] | None:
    for origin, folder in _places(spec, data_dir):
        files = _find_pair(folder, split)
        if files is not None:
            return files[0], files[1], origin
    return None


def find_idx_files(
    dataset: str, split: str = "train", data_dir: str | os.PathLike | None = None
) -> tuple[Path, Path, str] | None:
    """The local IDX files that ``load_mnist`` / ``load_fashion_mnist`` would read (no download).

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        split: ``"train"`` or ``"test"``.
        data_dir: as for the loaders (must exist if given).

    Returns:
        ``(images_path, labels_path, origin)`` with origin ``"data_dir"``, ``"TACJAX_DATA"``,
        ``"system"`` or ``"cache"`` (the first place of the search order that holds both files),
        or None when no local copy exists.

    Raises:
        ValueError: unknown ``dataset`` or ``split``.
        FileNotFoundError: ``data_dir`` is given but is not an existing folder.
    """
    specs = {"mnist": _MNIST, "fashion_mnist": _FASHION}
    if dataset not in specs:
        raise ValueError(f"find_idx_files: `dataset` must be 'mnist' or 'fashion_mnist'; got {dataset!r}.")
    _check_args(split, data_dir, "find_idx_files")
    return _locate(specs[dataset], split, data_dir)


def _load(spec: _Spec, split: str, data_dir, download: bool) -> tuple[np.ndarray, np.ndarray]:
    fn = f"load_{spec.name.replace('-', '_')}"
    _check_args(split, data_dir, fn)
    places = _places(spec, data_dir)
    found = _locate(spec, split, data_dir)
    files = found[:2] if found else None
    errors: list[str] = []
    if files is None and download:
        files = _download(spec, split, errors)
    if files is None:
        lines = [] if data_dir else ["  - `data_dir`: not given"]
        lines += [f"  - {folder} (data_dir)" for origin, folder in places if origin == "data_dir"]
        if not os.environ.get(ENV_VAR):
            lines.append(f"  - ${ENV_VAR}: not set")
        lines += [f"  - {folder} ({origin})" for origin, folder in places if origin != "data_dir"]
        looked = "\n".join(lines)
        dl = "\n".join(f"  - {e}" for e in errors) if download else "  - skipped (download=False)"
        names = " and ".join(f"{b}[.gz]" for b in _SPLITS[split])
        raise FileNotFoundError(
            f"{fn}: {spec.title} {split!r} files ({names}) not found. Looked in:\n{looked}\n"
            f"Download:\n{dl}\nTo fix: put the IDX files in a folder and pass it as `data_dir` (`--data-dir` "
            f"on the command line) or set {ENV_VAR}=<folder> (files in <folder> or "
            f"<folder>/{spec.subdirs[0]}){spec.hint}, or allow a download on a machine with network access."
        )
    images, labels = read_idx(files[0]), read_idx(files[1])
    _validate(images, labels, files)
    return images, labels.astype(np.int32)


def load_mnist(
    split: str = "train", data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST split (see the module docstring for where files are looked for).

    Args:
        split: ``"train"`` (60000 images) or ``"test"`` (10000).
        data_dir: a folder holding the IDX files, directly or in ``mnist/``.
        download: allow a sha256-checked download into the cache when no local copy is found.

    Returns:
        ``(images, labels)``: uint8 ``[N, 28, 28]`` and int32 ``[N]`` in ``0..9``.

    Raises:
        FileNotFoundError: ``data_dir`` is given but does not exist, or no copy found and no
            download possible (the message lists every place tried).
        ValueError: a bad ``split``, or files with bad IDX headers, shapes or labels.
    """
    return _load(_MNIST, split, data_dir, download)


def load_fashion_mnist(
    split: str = "train", data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load a Fashion-MNIST split (see the module docstring for where files are looked for).

    Args:
        split: ``"train"`` (60000 images) or ``"test"`` (10000).
        data_dir: a folder holding the IDX files, directly or in ``fashion-mnist/``.
        download: allow a sha256-checked download into the cache when no local copy is found.

    Returns:
        ``(images, labels)``: uint8 ``[N, 28, 28]`` and int32 ``[N]`` in ``0..9``.

    Raises:
        FileNotFoundError: ``data_dir`` is given but does not exist, or no copy found and no
            download possible (the message lists every place tried).
        ValueError: a bad ``split``, or files with bad IDX headers, shapes or labels.
    """
    return _load(_FASHION, split, data_dir, download)


def to_float(images: np.ndarray) -> np.ndarray:
    """Scale uint8 images to float32 in ``[0, 1]`` with a channel axis (NHWC).

    Args:
        images: uint8 ``[N, H, W]`` or ``[N, H, W, 1]``.

    Returns:
        float32 ``[N, H, W, 1]``, ``images / 255``.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(
            f"to_float: `images` must be uint8; got dtype {images.dtype} with shape {images.shape}."
        )
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] != 1:
        raise ValueError(f"to_float: `images` must have shape [N, H, W] or [N, H, W, 1]; got {images.shape}.")
    return images.astype(np.float32) / np.float32(255.0)
