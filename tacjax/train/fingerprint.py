"""Fingerprints and checksums for checkpoints.

* ``model_fingerprint(model)``: a flat JSON dict of what defines an NNX model: its class, every
  module's plain configuration attributes (``conv1.mode``, ``conv1.k``, ``fc.lif``, ...) and every
  parameter's dtype and shape (``params/conv1/kernel: "float32[3, 3, 1, 32]"``).
* ``tree_digest(tree)``: sha256 of every array leaf of a pytree (path, dtype, shape and bytes).
* ``json_digest(obj)``: sha256 of a JSON value (keys sorted).
* ``fingerprint_diff(saved, current)``: the fields that differ, one readable line each. Fields
  whose name starts with ``info.`` are recorded but never compared (e.g. ``info.epochs``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import jax
import numpy as np
from flax import nnx

__all__ = ["describe", "fingerprint_diff", "json_digest", "model_fingerprint", "tree_digest"]


def describe(value) -> Any:
    """A JSON value describing a configuration value: numbers, strings and None as they are,
    sequences as lists, dicts with str keys, dataclasses (``LIFParams``, encoders) as
    ``{"type", fields...}``, functions by their import path (plus ``__name__`` where it says
    more), arrays as nested lists, anything else as ``"<module.Type>"``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: describe(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"type": type(value).__qualname__, **fields}
    if callable(value):  # a function by its path, plus its __name__ where that says more (get_surrogate)
        path = f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', type(value).__name__)}"
        name = getattr(value, "__name__", "")
        return path if path.endswith(f".{name}") else f"{path}:{name}"
    if isinstance(value, np.ndarray | jax.Array):
        return np.asarray(value).tolist()
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def _array_spec(a) -> str:
    return f"{np.dtype(a.dtype).name}{list(a.shape)}"


def model_fingerprint(model: nnx.Module) -> dict[str, Any]:
    """Flat dict: ``"model"`` (class path), ``"<module path>.<attribute>"`` for each plain attribute
    of every sub-module, and ``"params/<path>"`` -> ``"dtype[shape]"`` for each ``nnx.Param``."""
    if not isinstance(model, nnx.Module):
        raise TypeError(f"model_fingerprint: `model` must be a flax.nnx.Module; got {type(model).__name__}.")
    out: dict[str, Any] = {"model": f"{type(model).__module__}.{type(model).__qualname__}"}
    for path, node in nnx.iter_graph(model):
        if isinstance(node, nnx.Param):
            out["params/" + "/".join(map(str, path))] = _array_spec(node[...])
        if not isinstance(node, nnx.Module):
            continue
        prefix = "".join(f"{p}." for p in path)
        for name, value in sorted(vars(node).items()):
            if name.startswith("_") or isinstance(value, nnx.Module | nnx.Variable | nnx.Rngs):
                continue
            out[f"{prefix}{name}"] = describe(value)
    return json.loads(json.dumps(out))  # the exact form it has after a JSON round trip


def tree_digest(tree) -> str:
    """sha256 (hex) over the array leaves of ``tree``: each leaf's path, dtype, shape and bytes."""
    h = hashlib.sha256()
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        a = np.ascontiguousarray(np.asarray(jax.device_get(leaf)))
        h.update(f"{jax.tree_util.keystr(path)}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def json_digest(obj) -> str:
    """sha256 (hex) of ``json.dumps(obj, sort_keys=True)``."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def fingerprint_diff(saved: dict, current: dict) -> list[str]:
    """``["<field>: checkpoint <a>, now <b>", ...]`` for every field whose value differs (sorted;
    ``info.*`` fields are skipped)."""
    missing = object()
    lines = []
    for key in sorted(set(saved) | set(current)):
        if key.startswith("info."):
            continue
        a, b = saved.get(key, missing), current.get(key, missing)
        if a != b:
            show = [("(absent)" if v is missing else json.dumps(v)) for v in (a, b)]
            lines.append(f"{key}: checkpoint {show[0]}, now {show[1]}")
    return lines
