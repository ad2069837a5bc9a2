"""spyx (JAX, Flax NNX): ``spyx.nn.LIF`` neurons run by ``spyx.nn.run`` (a ``lax.scan``), ``nnx.Conv`` /
``nnx.Linear`` synapses with T folded into the batch, the default SuperSpike surrogate (k = 25).

spyx's LIF fires on the previous state and subtracts the threshold after the leak (reference rule
``spyx_lif``), so its spike trains differ from the workload's same-step rule; its ``beta`` is an
``nnx.Param`` and is trained with the weights, as spyx intends.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from peers import jaxcommon as jc
from peers.harness import BETA, THRESHOLD

PLATFORM = jc
"""Threads, runtime description and device memory of this library's platform."""

LABEL = "spyx"
RULE = "spyx_lif"


def version() -> str:
    import importlib.metadata

    import spyx  # noqa: F401  (raises ImportError when absent)

    return importlib.metadata.version("spyx")


def _lif(shape, beta=BETA, thr=THRESHOLD):
    import spyx.nn

    return spyx.nn.LIF(tuple(shape), beta=beta, threshold=thr, rngs=nnx.Rngs(0))


def _run(neuron, cur):
    import spyx.nn

    return spyx.nn.run(neuron, cur)[0]


def lif_spikes(x: np.ndarray, beta: float, thr: float) -> np.ndarray:
    neuron = _lif(x.shape[1:], beta, thr)
    return np.asarray(_run(neuron, jnp.asarray(x)[:, None])[:, 0])


def build_on(data: dict, spec: dict):
    neuron = _lif(data["w"].shape[1:])
    return jc.grad_bench(lambda w, x: _run(neuron, x @ w).sum(), data["w"], data["x"])


class Net(nnx.Module):
    """conv -> LIF -> pool, conv -> LIF -> pool, dense -> LIF readout (membrane returned)."""

    def __init__(self, data: dict, size: int):
        c1, c2 = data["w1"].shape[-1], data["w2"].shape[-1]
        rngs = nnx.Rngs(0)
        self.conv1 = nnx.Conv(1, c1, (3, 3), padding="SAME", use_bias=False, rngs=rngs)
        self.conv2 = nnx.Conv(c1, c2, (3, 3), padding="SAME", use_bias=False, rngs=rngs)
        self.fc = nnx.Linear(data["w3"].shape[0], data["w3"].shape[1], use_bias=False, rngs=rngs)
        for layer, key in ((self.conv1, "w1"), (self.conv2, "w2"), (self.fc, "w3")):
            layer.kernel.value = jnp.asarray(data[key])
        self.lif1 = _lif((size, size, c1))
        self.lif2 = _lif((size // 2, size // 2, c2))
        self.lif3 = _lif((data["w3"].shape[1],))

    def __call__(self, x):
        t, b = x.shape[:2]
        h = x
        for conv, neuron in ((self.conv1, self.lif1), (self.conv2, self.lif2)):
            cur = conv(h.reshape(t * b, *h.shape[2:]))
            h = jc.max_pool2(_run(neuron, cur.reshape(t, b, *cur.shape[1:])))
        cur = self.fc(h.reshape(t, b, -1))

        def body(v, c):
            _, v = self.lif3(c, v)
            return v, v

        return jax.lax.scan(body, self.lif3.initial_state(b), cur)[1]


def build_mnist(data: dict, spec: dict):
    graphdef, params, rest = nnx.split(Net(data, spec["size"]), nnx.Param, ...)

    def readout(p, x):
        return nnx.merge(graphdef, p, rest)(x)

    return jc.train_bench(readout, params, data["x"], data["y"])
