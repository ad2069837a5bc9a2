"""Plain NumPy references for the tests (loops written for clarity, not speed)."""

import numpy as np


def lif_numpy(x, beta, threshold, reset, v0=None, v_leak=0.0, v_reset=0.0):
    """Reference LIF: returns spikes [T, ...], membrane before reset [T, ...], final v.

    ``h[t] = beta v[t-1] + (1 - beta) v_leak + x[t]``; spike ``h >= threshold``; reset "subtract"
    ``v = h - threshold s``, "zero" ``v = h (1 - s) + v_reset s``, "none" ``v = h``.
    """
    x = np.asarray(x, np.float64)
    beta, threshold = np.asarray(beta, np.float64), np.asarray(threshold, np.float64)
    v_leak, v_reset = np.asarray(v_leak, np.float64), np.asarray(v_reset, np.float64)
    v = np.zeros(x.shape[1:]) if v0 is None else np.asarray(v0, np.float64)
    spikes, mem = [], []
    for t in range(x.shape[0]):
        h = beta * v + (1 - beta) * v_leak + x[t]
        s = (h >= threshold).astype(np.float64)
        if reset == "subtract":
            v = h - threshold * s
        elif reset == "zero":
            v = h * (1 - s) + v_reset * s
        else:
            v = h
        spikes.append(s)
        mem.append(h)
    return np.stack(spikes), np.stack(mem), v


def _f64(*arrays):
    return tuple(None if a is None else np.asarray(a, np.float64) for a in arrays)


def _reset_numpy(h, s, threshold, reset, v_reset):
    """The membrane after the reset: "subtract" ``h - threshold s``, "zero" ``h (1 - s) + v_reset s``,
    "none" ``h``."""
    if reset == "subtract":
        return h - threshold * s
    if reset == "zero":
        return h * (1 - s) + v_reset * s
    return h


def synaptic_numpy(x, alpha, beta, threshold, reset, i0=None, v0=None, v_leak=0.0, v_reset=0.0):
    """Reference synaptic LIF: returns spikes [T, ...], membrane before reset [T, ...], final (i, v).

    ``i[t] = alpha i[t-1] + x[t]``; ``h[t] = beta v[t-1] + (1 - beta) v_leak + i[t]``; spike
    ``h >= threshold``; reset as ``lif_numpy``.
    """
    x, alpha, beta, threshold, v_leak, v_reset = _f64(x, alpha, beta, threshold, v_leak, v_reset)
    i = np.zeros(x.shape[1:]) if i0 is None else np.asarray(i0, np.float64)
    v = np.zeros(x.shape[1:]) if v0 is None else np.asarray(v0, np.float64)
    spikes, mem = [], []
    for t in range(x.shape[0]):
        i = alpha * i + x[t]
        h = beta * v + (1 - beta) * v_leak + i
        s = (h >= threshold).astype(np.float64)
        v = _reset_numpy(h, s, threshold, reset, v_reset)
        spikes.append(s)
        mem.append(h)
    return np.stack(spikes), np.stack(mem), (i, v)


def alif_numpy(x, beta, threshold, rho, b, reset, v0=None, a0=None, v_leak=0.0, v_reset=0.0):
    """Reference adaptive LIF: returns spikes, membrane before reset, the threshold theta (each
    [T, ...]) and the final (v, a).

    ``theta[t] = threshold + b a[t-1]``; ``h[t] = beta v[t-1] + (1 - beta) v_leak + x[t]``; spike
    ``h >= theta``; reset "subtract" ``v = h - theta s``, "zero" ``h (1 - s) + v_reset s``, "none"
    ``h``; ``a[t] = rho a[t-1] + s[t]``.
    """
    x, beta, threshold, rho, b, v_leak, v_reset = _f64(x, beta, threshold, rho, b, v_leak, v_reset)
    v = np.zeros(x.shape[1:]) if v0 is None else np.asarray(v0, np.float64)
    a = np.zeros(x.shape[1:]) if a0 is None else np.asarray(a0, np.float64)
    spikes, mem, thetas = [], [], []
    for t in range(x.shape[0]):
        theta = threshold + b * a
        h = beta * v + (1 - beta) * v_leak + x[t]
        s = (h >= theta).astype(np.float64)
        v = _reset_numpy(h, s, theta, reset, v_reset)
        a = rho * a + s
        spikes.append(s)
        mem.append(h)
        thetas.append(np.broadcast_to(theta, h.shape))
    return np.stack(spikes), np.stack(mem), np.stack(thetas), (v, a)


def rlif_numpy(x, w_rec, beta, threshold, reset, v0=None, s0=None, v_leak=0.0, v_reset=0.0):
    """Reference recurrent LIF on ``x`` [T, ..., N]: returns spikes, membrane before reset, final (v, s).

    ``h[t] = beta v[t-1] + (1 - beta) v_leak + x[t] + sum_j s[t-1, j] w_rec[j, :]``, then fire and
    reset as ``lif_numpy``.
    """
    x, w_rec, beta, threshold, v_leak, v_reset = _f64(x, w_rec, beta, threshold, v_leak, v_reset)
    v = np.zeros(x.shape[1:]) if v0 is None else np.asarray(v0, np.float64)
    s = np.zeros(x.shape[1:]) if s0 is None else np.asarray(s0, np.float64)
    n = x.shape[-1]
    spikes, mem = [], []
    for t in range(x.shape[0]):
        rec = np.zeros(x.shape[1:])
        for j in range(n):  # spikes of neuron j at t-1 reach every neuron k through w_rec[j, k]
            rec += s[..., j:j + 1] * w_rec[j]
        h = beta * v + (1 - beta) * v_leak + x[t] + rec
        s = (h >= threshold).astype(np.float64)
        v = _reset_numpy(h, s, threshold, reset, v_reset)
        spikes.append(s)
        mem.append(h)
    return np.stack(spikes), np.stack(mem), (v, s)


def li_numpy(x, beta, v0=None):
    """Reference leaky integrator: returns the membrane [T, ...] (``v[t] = beta v[t-1] + x[t]``) and
    the final v."""
    x, beta = _f64(x, beta)
    v = np.zeros(x.shape[1:]) if v0 is None else np.asarray(v0, np.float64)
    mem = []
    for t in range(x.shape[0]):
        v = beta * v + x[t]
        mem.append(v)
    return np.stack(mem), v


def aggregate_numpy(x, k, w):
    """Reference chunk aggregation with explicit weights w[K]; short last chunk uses w[K-L:]."""
    x = np.asarray(x, np.float64)
    out = []
    for start in range(0, x.shape[0], k):
        chunk = x[start:start + k]
        ww = np.asarray(w, np.float64)[k - chunk.shape[0]:]
        out.append(np.tensordot(ww, chunk, axes=(0, 0)))
    return np.stack(out)


def conv_same_numpy(x, w):
    """Reference 'SAME' cross-correlation (stride 1) of ``[..., H, W, C]`` with an odd HWIO kernel."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    kh, kw = w.shape[:2]
    xp = np.pad(x, [(0, 0)] * (x.ndim - 3) + [(kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)])
    h, wd = x.shape[-3:-1]
    return sum(np.einsum("...c,co->...o", xp[..., i:i + h, j:j + wd, :], w[i, j])
               for i in range(kh) for j in range(kw))


def max_pool_numpy(x, p):
    """Reference non-overlapping ``p x p`` max-pool of ``[..., H, W, C]`` (odd borders dropped)."""
    x = np.asarray(x)
    h, w = x.shape[-3] // p, x.shape[-2] // p
    x = x[..., :h * p, :w * p, :]
    return x.reshape(*x.shape[:-3], h, p, w, p, x.shape[-1]).max(axis=(-4, -2))
