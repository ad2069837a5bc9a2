"""A plain NumPy forward-Euler simulator of flat NIR graphs (float64, channels first, loops for clarity).

Written from NIR's equations and the semantics table of ``tacjax.nir`` only (it shares no code
with the loader), so the tests can check the loader against it. Arrays are ``[T, B, *NIR type]``.
The caller gives the evaluation ``order`` (the graph's Input first, its Output last): an edge whose
source does not come before its target in the order reads the source's value of the previous
step (zeros at t = 0). Input and Output nodes inside the order other than the ends (those of an
inlined subgraph) are identities.
"""

from __future__ import annotations

import itertools

import numpy as np


def _a(v):
    return np.asarray(v, np.float64)


def _pads(node, nd):
    if isinstance(node.padding, str):
        if node.padding == "valid":
            return [(0, 0)] * nd
        total = [_tuple(node.dilation, nd)[i] * (node.weight.shape[2 + i] - 1) for i in range(nd)]
        return [(t // 2, t - t // 2) for t in total]  # PyTorch: the odd pixel at the end
    return [(p, p) for p in _tuple(node.padding, nd)]


def _tuple(v, n):
    v = np.asarray(v).ravel()
    return tuple(int(e) for e in (np.repeat(v, n) if v.size == 1 else v))


def conv(node, x):
    """Cross-correlation of ``x`` ``[B, C_in, *S]`` (PyTorch's definition), groups included."""
    w, nd = _a(node.weight), _a(node.weight).ndim - 2
    stride, dil, groups = _tuple(node.stride, nd), _tuple(node.dilation, nd), int(node.groups)
    xp = np.pad(_a(x), [(0, 0), (0, 0)] + _pads(node, nd))
    k = w.shape[2:]
    out = [(xp.shape[2 + i] - dil[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    b, cout, cg = x.shape[0], w.shape[0], w.shape[1]
    y = np.zeros((b, cout, *out))
    for o in range(cout):
        g = o // (cout // groups)
        for pos in itertools.product(*(range(n) for n in out)):
            for off in itertools.product(*(range(n) for n in k)):
                idx = tuple(p * s + q * d for p, s, q, d in zip(pos, stride, off, dil, strict=True))
                patch = xp[(slice(None), slice(g * cg, (g + 1) * cg), *idx)]
                y[(slice(None), o, *pos)] += patch @ w[(o, slice(None), *off)]
    if node.bias is not None:
        y += _a(node.bias).reshape(cout, *([1] * nd))
    return y


def pool(node, x, mean):
    k, s, p = _tuple(node.kernel_size, 2), _tuple(node.stride, 2), _tuple(node.padding, 2)
    xp = np.pad(_a(x), [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    out = [(xp.shape[2 + i] - k[i]) // s[i] + 1 for i in range(2)]
    y = np.zeros((*x.shape[:2], *out))
    for i, j in itertools.product(range(out[0]), range(out[1])):
        win = xp[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
        y[:, :, i, j] = win.sum(axis=(2, 3)) / (k[0] * k[1] if mean else 1)
    return y


def flatten(node, x, torch_style=False):
    """NIR's Flatten on ``[B, *type]``; ``torch_style``: dims counted with the batch as dim 0."""
    shift = 0 if torch_style else 1
    start = node.start_dim + shift if node.start_dim >= 0 else x.ndim + node.start_dim
    end = node.end_dim + shift if node.end_dim >= 0 else x.ndim + node.end_dim
    return x.reshape(*x.shape[:start], -1, *x.shape[end + 1:])


def simulate(nodes, edges, order, x, dt, torch_flatten=()):
    """Run ``x`` ``[T, B, *input type]`` through the graph; returns (output [T, ...], traces).

    ``traces`` maps each spiking node to ``(v before the firing test [T, ...], threshold)`` so a
    test can see how close any step came to its threshold.
    """
    x = _a(x)
    steps, batch = x.shape[:2]
    pos = {n: i for i, n in enumerate(order)}
    value = {n: None for n in nodes}
    prev = {}
    state = {}
    traces = {n: [] for n, node in nodes.items() if type(node).__name__ in ("LIF", "IF", "CubaLIF",
                                                                              "Threshold")}
    outputs = []
    for t in range(steps):
        for name in order:
            node, kind = nodes[name], type(nodes[name]).__name__
            ins = [(prev[a] if a in prev else _zeros(nodes[a], batch)) if pos[a] >= pos[name] else value[a]
                   for a, b in edges if b == name]
            u = x[t] if name == order[0] else sum(ins[1:], ins[0])
            value[name] = _node(name, node, kind, u, dt, state, traces, batch, name in torch_flatten)
        outputs.append(value[order[-1]])
        prev = {n: v.copy() for n, v in value.items()}
    out_traces = {n: (np.stack(v), _threshold(nodes[n])) for n, v in traces.items()}
    return np.stack(outputs), out_traces


def _zeros(node, batch):
    """A source's value before the first step: zeros of its NIR output type."""
    return np.zeros((batch, *np.asarray(node.output_type["output"]).astype(int)))


def _threshold(node):
    return _a(node.threshold if type(node).__name__ == "Threshold" else node.v_threshold)


def _node(name, node, kind, u, dt, state, traces, batch, torch_flatten):
    if kind in ("Input", "Output"):
        return u
    if kind == "Affine":
        return u @ _a(node.weight).T + _a(node.bias)
    if kind == "Linear":
        return u @ _a(node.weight).T
    if kind == "Scale":
        return u * _a(node.scale)
    if kind in ("Conv1d", "Conv2d"):
        return conv(node, u)
    if kind in ("SumPool2d", "AvgPool2d"):
        return pool(node, u, kind == "AvgPool2d")
    if kind == "Flatten":
        return flatten(node, u, torch_flatten)
    if kind == "Threshold":
        traces[name].append(u)
        return (u > _a(node.threshold)).astype(np.float64)
    if kind == "Delay":
        d = np.round(_a(node.delay) / dt).astype(int)
        hist = state.setdefault(name, [])
        hist.insert(0, u)
        out = np.zeros_like(u)
        for idx in np.ndindex(*d.shape):
            if d[idx] < len(hist):
                out[(slice(None), *idx)] = hist[d[idx]][(slice(None), *idx)]
        return out
    zeros = np.zeros((batch, *u.shape[1:]))
    if kind in ("CubaLIF", "CubaLI"):  # the current first, then the membrane driven by the new current
        i = state.get(name + ".i", zeros)
        i = i + dt / _a(node.tau_syn) * (-i + _a(node.w_in) * u)
        state[name + ".i"] = i
        u, tau = i, _a(node.tau_mem)
    else:
        tau = _a(getattr(node, "tau", 1.0))
    v = state.get(name, zeros)
    if kind in ("LI", "CubaLI"):
        state[name] = v + dt / tau * (_a(node.v_leak) - v + _a(node.r) * u)
        return state[name]
    if kind == "I":
        state[name] = v + dt * _a(node.r) * u
        return state[name]
    if kind in ("LIF", "CubaLIF"):
        v = v + dt / tau * (_a(node.v_leak) - v + _a(node.r) * u)
    elif kind == "IF":
        v = v + dt * _a(node.r) * u
    else:
        raise NotImplementedError(kind)
    traces[name].append(v)
    z = v > _a(node.v_threshold)
    state[name] = np.where(z, _a(node.v_reset), v)
    return z.astype(np.float64)


def min_margin(traces) -> float:
    """Smallest ``|v - threshold|`` over every spiking node and step (inf when there are none)."""
    return min((float(np.min(np.abs(v - thr))) for v, thr in traces.values()), default=np.inf)


def channels_last(a, lead=2):
    """``[..lead.., C, *S]`` -> ``[..lead.., *S, C]`` (rank-1 types unchanged)."""
    a = np.asarray(a)
    return np.moveaxis(a, lead, -1) if a.ndim - lead >= 2 else a


def channels_first(a, lead=2):
    a = np.asarray(a)
    return np.moveaxis(a, -1, lead) if a.ndim - lead >= 2 else a
