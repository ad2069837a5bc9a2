"""Argument checks at the boundary of ``tacjax.train``'s public functions (private).

The plain-value checks (``check_int``, ``check_float``, ...) come from the backend-free
``tacjax.common.arguments``; this module adds paths, meshes and data sets.

Each check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, bad value)
with a message that names the function, the argument, the value received and what was expected.
They run on the host, on Python values and concrete NumPy arrays, before any work starts.
"""

from __future__ import annotations

import os

import numpy as np
from jax.sharding import Mesh

from tacjax.common.arguments import check_bool, check_callable, check_choice, check_float, check_int

__all__ = [
    "check_bool",
    "check_callable",
    "check_choice",
    "check_dataset",
    "check_dir",
    "check_divisible",
    "check_file_prefix",
    "check_float",
    "check_int",
    "check_mesh",
]


def _path(value, fn: str, name: str) -> str:
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{fn}: `{name}` must be a path (str or os.PathLike); got {type(value).__name__}.")
    path = os.path.abspath(os.fspath(value))
    if not os.fspath(value):
        raise ValueError(f"{fn}: `{name}` must be a non-empty path; got {value!r}.")
    return path


def _check_parents(path: str, fn: str, name: str) -> None:
    """The nearest existing ancestor of ``path`` must be a writable folder."""
    parent = os.path.dirname(path)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"{fn}: `{name}` = {path!r} lies under {parent!r}, which is a file, not a folder.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{fn}: `{name}` = {path!r} cannot be created: {parent!r} is not writable.")


def check_dir(value, fn: str, name: str) -> str:
    """An absolute folder path that is a folder or can be created (never an existing file)."""
    path = _path(value, fn, name)
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise ValueError(f"{fn}: `{name}` = {path!r} is an existing file; it must be a folder "
                             f"(existing or to be created).")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ValueError(f"{fn}: `{name}` = {path!r} is not writable.")
    else:
        _check_parents(path, fn, name)
    return path


def check_file_prefix(value, fn: str, name: str, suffixes: tuple[str, ...]) -> str:
    """An absolute path prefix whose ``prefix + suffix`` files can be written."""
    path = _path(value, fn, name)
    for suffix in suffixes:
        target = path + suffix
        if os.path.isdir(target):
            raise ValueError(f"{fn}: `{name}` gives {target!r}, which is an existing folder, not a file.")
    _check_parents(path, fn, name)
    return path


def check_mesh(mesh, fn: str, name: str = "mesh") -> Mesh | None:
    """``mesh`` if it is None or a ``jax.sharding.Mesh`` with a ``"batch"`` axis."""
    if mesh is None:
        return None
    if not isinstance(mesh, Mesh):
        raise TypeError(f"{fn}: `{name}` must be a jax.sharding.Mesh (tacjax.train.batch_mesh()) or None; "
                        f"got {type(mesh).__name__}.")
    if "batch" not in mesh.axis_names:
        raise ValueError(f"{fn}: `{name}` needs an axis named 'batch'; got axes {mesh.axis_names}.")
    return mesh


def check_divisible(batch: int, mesh: Mesh | None, fn: str, name: str) -> None:
    """A batch size must split evenly over the mesh's devices."""
    if mesh is not None and batch % mesh.devices.size:
        raise ValueError(f"{fn}: `{name}` = {batch} is not divisible by the {mesh.devices.size} devices "
                         f"of `mesh`.")


def check_dataset(data, fn: str, name: str, *, time_major: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, labels)`` as NumPy arrays, labels int32 ``[N]``.

    ``time_major`` (no encoder): inputs are float ``[T, N, ...]`` (at least 3-D); otherwise inputs
    are ``[N, ...]`` of a numeric dtype. Labels must be integers >= 0; every float input must be
    finite (checked on the host, one pass over the data).
    """
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise TypeError(f"{fn}: `{name}` must be a pair (inputs, labels [N]); got {type(data).__name__}"
                        f"{f' of length {len(data)}' if isinstance(data, tuple | list) else ''}.")
    x, y = np.asarray(data[0]), np.asarray(data[1])
    axis = 1 if time_major else 0
    layout = "[T, N, ...] (time-major, encoder=None)" if time_major else "[N, ...]"
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise TypeError(f"{fn}: `{name}` inputs must be a numeric array {layout}; got dtype {x.dtype}.")
    if time_major and not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{fn}: `{name}` inputs without an encoder must be a float array [T, N, ...]; "
                        f"got dtype {x.dtype}. Encode them first or pass an `encoder`.")
    if x.ndim < axis + 2:
        raise ValueError(f"{fn}: `{name}` inputs must be {layout} with at least {axis + 2} dimensions; "
                         f"got shape {x.shape}.")
    if y.ndim != 1 or y.shape[0] != x.shape[axis]:
        raise ValueError(f"{fn}: `{name}` labels must be [N] with N = inputs.shape[{axis}] = {x.shape[axis]} "
                         f"(inputs {layout}); got labels of shape {y.shape} and inputs {x.shape}.")
    if y.shape[0] == 0:
        raise ValueError(f"{fn}: `{name}` is empty (0 samples).")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{fn}: `{name}` labels must be integer class indices; got dtype {y.dtype}.")
    if y.min() < 0 or y.max() > np.iinfo(np.int32).max:
        raise ValueError(f"{fn}: `{name}` labels must be class indices >= 0; got values in "
                         f"[{y.min()}, {y.max()}].")
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        raise ValueError(f"{fn}: `{name}` inputs contain {int(np.sum(~np.isfinite(x)))} NaN or infinite "
                         f"values.")
    return x, y.astype(np.int32)
