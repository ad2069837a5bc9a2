"""Plain JAX, written as a user would without an SNN library: a ``lax.scan`` LIF with a fast-sigmoid
surrogate (``custom_jvp``), ``lax.conv_general_dilated`` in NHWC/HWIO with T folded into the batch."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from peers import jaxcommon as jc
from peers.harness import BETA, THRESHOLD

PLATFORM = jc
"""Threads, runtime description and device memory of this library's platform."""

LABEL = "plain JAX"
RULE = "same_step_subtract"


def version() -> str:
    return jax.__version__


@jax.custom_jvp
def spike(x):
    return (x >= 0).astype(x.dtype)


@spike.defjvp
def _spike_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return spike(x), t / (1.0 + 25.0 * jnp.abs(x)) ** 2


def lif(cur, beta=BETA, thr=THRESHOLD):
    """``cur [T, ...]`` -> (spikes, membrane before reset), both ``[T, ...]``; same-step subtract reset."""

    def body(v, c):
        h = beta * v + c
        s = spike(h - thr)
        return h - thr * s, (s, h)

    _, (s, h) = jax.lax.scan(body, jnp.zeros_like(cur[0]), cur)
    return s, h


def lif_spikes(x: np.ndarray, beta: float, thr: float) -> np.ndarray:
    return np.asarray(jax.jit(lambda c: lif(c, beta, thr)[0])(jnp.asarray(x)))


def build_on(data: dict, spec: dict):
    return jc.grad_bench(lambda w, x: lif(x @ w)[0].sum(), data["w"], data["x"])


def conv(x, w):
    return jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))


def readout(params, x):
    t, b = x.shape[:2]
    h = x
    for w in (params["w1"], params["w2"]):
        cur = conv(h.reshape(t * b, *h.shape[2:]), w)
        s, _ = lif(cur.reshape(t, b, *cur.shape[1:]))
        h = jc.max_pool2(s)
    return lif(h.reshape(t, b, -1) @ params["w3"])[1]


def build_mnist(data: dict, spec: dict):
    params = {k: jnp.asarray(data[k]) for k in ("w1", "w2", "w3")}
    return jc.train_bench(readout, params, data["x"], data["y"])
