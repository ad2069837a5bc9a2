"""Conv, pooling and flatten nodes -> tacjax specs (backend-free: NumPy only).

Each ``*_spec(node, in_shape, consumers)`` returns ``(kind, params, config, out_shape)`` with
shapes in NIR's channels-first order and parameters in tacjax's layout; a ValueError (without
the node's name: ``tacjax.nir.nodes`` adds it) says what cannot be expressed.

* Conv1d / Conv2d: cross-correlation as ``torch.nn.Conv1d/2d``: weight ``(C_out, C_in/groups,
  *k)`` -> kernel ``(*k, C_in/groups, C_out)``; integer padding on both sides; "valid" = 0;
  "same" (stride 1 only, as PyTorch) pads ``dilation*(k-1)`` in total, the odd one at the end;
  output size ``floor((n + pad_lo + pad_hi - dilation*(k-1) - 1) / stride) + 1``.
* SumPool2d / AvgPool2d: the sum (or the mean over the full window, padding counted, as
  PyTorch's ``count_include_pad=True``) of each window, zero padding on both sides, output size
  ``floor((n + 2*pad - k) / stride) + 1``.
* Flatten: merges dims ``start_dim..end_dim`` of the NIR type (no batch dim), in NIR's
  channels-first order. PyTorch-style graphs: a Flatten whose NIR reading does not give the shape
  its consumer needs, while reading ``start_dim``/``end_dim`` with a batch dim in front (one less
  each, as ``torch.nn.Flatten(start_dim=1)`` copied unchanged) does, is read the second way, and
  a note says so.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["conv_spec", "flatten_spec", "pool_spec"]


def _text(value) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf8")
    if isinstance(value, np.ndarray) and value.dtype.kind in "SUO" and value.size == 1:
        return _text(value.item())
    return value if isinstance(value, str) else None


def _ints(value, n: int, what: str, minimum: int) -> tuple[int, ...]:
    """``value`` (an int, or ``n`` ints) as ``n`` ints >= ``minimum``."""
    a = np.asarray(value).ravel() if value is not None else np.asarray([])
    if a.size not in (1, n) or a.dtype.kind not in "iuf" or np.any(a != np.round(a)):
        raise ValueError(f"`{what}` must be an int or {n} ints; got {value!r}.")
    out = tuple(int(v) for v in (np.repeat(a, n) if a.size == 1 else a))
    if min(out) < minimum:
        raise ValueError(f"`{what}` must be >= {minimum}; got {out}.")
    return out


def _out_size(n: int, lo: int, hi: int, span: int, stride: int) -> int:
    """``floor((n + lo + hi - span) / stride) + 1`` where ``span`` is the window's extent."""
    return (n + lo + hi - span) // stride + 1


def conv_spec(node, in_shape, consumers):
    w = np.asarray(node.weight, np.float64)
    nd = 1 if type(node).__name__ == "Conv1d" else 2
    if w.ndim != nd + 2:
        raise ValueError(f"`weight` must be (C_out, C_in/groups, {'k' if nd == 1 else 'kx, ky'}); "
                         f"got shape {w.shape}.")
    if not np.all(np.isfinite(w)):
        raise ValueError("`weight` holds non-finite values.")
    groups = _ints(node.groups, 1, "groups", 1)[0]
    c_out, c_in = w.shape[0], w.shape[1] * groups
    if c_out % groups:
        raise ValueError(f"C_out = {c_out} is not a multiple of groups = {groups}.")
    if len(in_shape) != nd + 1 or in_shape[0] != c_in:
        raise ValueError(f"`weight` {w.shape} with groups = {groups} takes input (C_in = {c_in}, "
                         f"{nd} spatial dims); the node receives shape {in_shape}.")
    if node.input_shape is not None and _ints(node.input_shape, nd, "input_shape", 1) != in_shape[1:]:
        raise ValueError(f"`input_shape` {node.input_shape!r} does not match the spatial shape "
                         f"{in_shape[1:]} the node receives.")
    kernel = w.shape[2:]
    stride = _ints(node.stride, nd, "stride", 1)
    dilation = _ints(node.dilation, nd, "dilation", 1)
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
    mode = _text(node.padding)
    if mode == "same":
        if stride != (1,) * nd:
            raise ValueError(f"padding 'same' needs stride 1 (as in PyTorch); got stride {stride}.")
        pads = tuple(((s - 1) // 2, (s - 1) - (s - 1) // 2) for s in span)
    elif mode == "valid":
        pads = ((0, 0),) * nd
    elif mode is None:
        pads = tuple((p, p) for p in _ints(node.padding, nd, "padding", 0))
    else:
        raise ValueError(f"`padding` must be 'same', 'valid' or ints; got {mode!r}.")
    out = tuple(_out_size(n, lo, hi, s, st)
                for n, (lo, hi), s, st in zip(in_shape[1:], pads, span, stride, strict=True))
    if min(out) < 1:
        raise ValueError(f"the kernel (extent {span}) does not fit the input {in_shape[1:]} with padding "
                         f"{pads}.")
    params = {"kernel": np.ascontiguousarray(np.transpose(w, (*range(2, nd + 2), 1, 0)), np.float32)}
    if node.bias is not None:
        bias = np.asarray(node.bias, np.float64)
        if bias.shape != (c_out,) or not np.all(np.isfinite(bias)):
            raise ValueError(f"`bias` must be {c_out} finite values (C_out,); got shape {bias.shape}.")
        params["bias"] = bias.astype(np.float32)
    config = {"strides": stride, "padding": pads, "dilation": dilation, "groups": groups}
    return "conv", params, config, (c_out, *out)


def pool_spec(node, in_shape, consumers):
    if len(in_shape) != 3:
        raise ValueError(f"2-D pooling takes input (C, H, W); the node receives shape {in_shape}.")
    window = _ints(node.kernel_size, 2, "kernel_size", 1)
    stride = _ints(node.stride, 2, "stride", 1)
    pad = _ints(node.padding, 2, "padding", 0)
    out = tuple(_out_size(n, p, p, k, s)
                for n, p, k, s in zip(in_shape[1:], pad, window, stride, strict=True))
    if min(out) < 1:
        raise ValueError(f"the window {window} does not fit the input {in_shape[1:]} with padding {pad}.")
    scale = 1.0 / math.prod(window) if type(node).__name__ == "AvgPool2d" else None
    config = {"window": window, "strides": stride, "padding": tuple((p, p) for p in pad), "scale": scale}
    return "pool", {}, config, (in_shape[0], *out)


def _dims(start: int, end: int, rank: int) -> tuple[int, int] | None:
    """``(start, end)`` normalised for a type of ``rank`` dims, or None when out of range."""
    if not (-rank <= start < rank and -rank <= end < rank):
        return None
    start, end = start % rank, end % rank
    return (start, end) if start <= end else None


def _flat(shape, dims) -> tuple[int, ...]:
    s, e = dims
    return (*shape[:s], math.prod(shape[s:e + 1]), *shape[e + 1:])


def flatten_spec(node, in_shape, consumers):
    start, end = (_ints(getattr(node, a), 1, a, -(2 ** 31))[0] for a in ("start_dim", "end_dim"))
    declared = node.input_type.get("input") if isinstance(node.input_type, dict) else None
    if declared is not None:
        declared = tuple(int(n) for n in np.asarray(declared).ravel())
        if declared not in (in_shape, (1, *in_shape)):
            raise ValueError(f"declares input type {declared} but receives shape {in_shape}.")
    nir_dims = _dims(start, end, len(in_shape))
    torch_dims = _dims(start - 1 if start > 0 else start, end - 1 if end > 0 else end, len(in_shape))
    fixed = {tuple(c) for c in consumers if c is not None}

    def fits(dims):
        return dims is not None and all(_flat(in_shape, dims) == c for c in fixed)

    notes = []
    if fits(nir_dims):
        dims = nir_dims
    elif start > 0 and fits(torch_dims):
        dims = torch_dims
        notes.append(f"Flatten(start_dim={start}, end_dim={end}) read as PyTorch's (dims counted with "
                     f"a batch dim in front): {in_shape} -> {_flat(in_shape, dims)}")
    else:
        readings = {"NIR": nir_dims, "PyTorch": torch_dims}
        got = {k: (_flat(in_shape, d) if d is not None else "out of range") for k, d in readings.items()}
        raise ValueError(f"start_dim={start}, end_dim={end} on input {in_shape} gives {got}; its "
                         f"consumers need {sorted(fixed) or 'a valid flatten'}.")
    out_shape = _flat(in_shape, dims)
    return "flatten", {}, {"in_shape": in_shape, "out_shape": out_shape, "notes": notes}, out_shape
