"""One time step of each kind of plan node in MLX (arrays ``[B, *shape]``, channels last).

The twin of ``tacjax.nir.steps``: ``STATELESS[kind](params, config, x, surrogate) -> y`` and
``STATEFUL[kind] = (init, step)`` with ``init(config, shape) -> state`` and
``step(params, config, state, x, surrogate) -> (state, y)``. MLX layouts: dense ``weight``
``[out, in]`` (``x @ W.T``), conv ``weight`` ``(out, *k, in/groups)``.
"""

from __future__ import annotations

import mlx.core as mx

from tacjax.mlx.neurons import LIFParams, SynapticParams, SynapticState, li_step, lif_step, synaptic_step

__all__ = ["STATEFUL", "STATELESS"]


def _identity(p, cfg, x, surrogate):
    return x


def _affine(p, cfg, x, surrogate):
    y = x @ p["weight"].T
    return y + p["bias"] if "bias" in p else y


def _scale(p, cfg, x, surrogate):
    return x * p["scale"]


def _conv(p, cfg, x, surrogate):
    lo, hi = [pad[0] for pad in cfg["padding"]], [pad[1] for pad in cfg["padding"]]
    y = mx.conv_general(x, p["weight"], stride=list(cfg["strides"]), padding=(lo, hi),
                        kernel_dilation=list(cfg["dilation"]), groups=cfg["groups"])
    return y + p["bias"] if "bias" in p else y


def _pool(p, cfg, x, surrogate):
    """Window sums of ``[B, H, W, C]`` as a sum of strided slices (times ``scale`` for a mean)."""
    (ph, pw), (sh, sw), (kh, kw) = cfg["padding"], cfg["strides"], cfg["window"]
    x = mx.pad(x, [(0, 0), ph, pw, (0, 0)])
    ho, wo = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
    y = sum(x[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :]
            for i in range(kh) for j in range(kw))
    return y if cfg["scale"] is None else y * cfg["scale"]


def _flatten(p, cfg, x, surrogate):
    """Flatten in NIR's channels-first order, back to channels last when the result has rank >= 2."""
    if len(cfg["in_shape"]) >= 2:
        x = mx.moveaxis(x, -1, 1)
    x = x.reshape(x.shape[0], *cfg["out_shape"])
    return mx.moveaxis(x, 1, -1) if len(cfg["out_shape"]) >= 2 else x


def _threshold(p, cfg, x, surrogate):
    return surrogate(x - p["threshold"])


STATELESS = {
    "identity": _identity,
    "affine": _affine,
    "scale": _scale,
    "conv": _conv,
    "pool": _pool,
    "flatten": _flatten,
    "threshold": _threshold,
}


def _zeros(cfg, shape):
    return mx.zeros(shape, mx.float32)


def _lif(p, cfg, v, x, surrogate):
    params = LIFParams(p["beta"], p["threshold"], reset="zero", v_leak=p["v_leak"], v_reset=p["v_reset"])
    return lif_step(v, p["gain"] * x, params, surrogate)


def _li(p, cfg, v, x, surrogate):
    """``v = beta v + (1 - beta) v_leak + gain x``; the output is ``v``."""
    return li_step(v, p["gain"] * x + (1 - p["beta"]) * p["v_leak"], p["beta"])


def _pair_init(cfg, shape):
    return SynapticState(mx.zeros(shape, mx.float32), mx.zeros(shape, mx.float32))


def _synaptic(p, cfg, state, x, surrogate):
    params = SynapticParams(p["alpha"], p["beta"], p["threshold"], reset="zero", v_leak=p["v_leak"],
                            v_reset=p["v_reset"])
    return synaptic_step(state, p["gain"] * x, params, surrogate)


def _cuba_li(p, cfg, state, x, surrogate):
    """The synaptic current, then the leaky membrane it drives; the output is the membrane."""
    i, _ = li_step(state.i, p["gain"] * x, p["alpha"])
    v, _ = li_step(state.v, i + (1 - p["beta"]) * p["v_leak"], p["beta"])
    return SynapticState(i, v), v


def _delay_init(cfg, shape):
    return mx.zeros((cfg["depth"], *shape), mx.float32)


def _delay(p, cfg, buffer, x, surrogate):
    """``buffer[k]`` holds the input of ``k + 1`` steps ago; each element reads its own delay."""
    history = mx.concatenate([x[None], buffer])
    steps = mx.array(cfg["steps"])
    y = sum(mx.where(steps == k, history[k], 0.0) for k in range(cfg["depth"] + 1))
    return history[:-1], y


STATEFUL = {
    "lif": (_zeros, _lif),
    "li": (_zeros, _li),
    "synaptic": (_pair_init, _synaptic),
    "cuba_li": (_pair_init, _cuba_li),
    "delay": (_delay_init, _delay),
}
