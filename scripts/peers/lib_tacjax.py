"""tacjax: ``lif_scan`` (baseline), ``tac`` (collapse), ``tac_tp`` (preserve); ``MNISTNet`` for the conv step.

Variants: "baseline" (every layer per frame, T folded into the batch), "tac" (MNIST: modes
("tac", "tac") with ks (K, 1); Linear+LIF: ``tac`` with K, so T/K output steps) and "tac_tp" (every layer
``tac_tp`` with K, T output steps). TAC and TAC-TP compute a different (aggregated) network: they are
tacjax's alternatives to the baseline, not the same computation.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from flax import nnx

import tacjax as tj
from peers import jaxcommon as jc
from peers.harness import BETA, THRESHOLD
from tacjax.models import MNISTNet

PLATFORM = jc
"""Threads, runtime description and device memory of this library's platform."""

LABEL = "tacjax"
RULE = "same_step_subtract"
PARAMS = tj.LIFParams(beta=BETA, threshold=THRESHOLD, reset="subtract")


def version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("tacjax")
    except importlib.metadata.PackageNotFoundError:
        return "source"


def lif_spikes(x: np.ndarray, beta: float, thr: float) -> np.ndarray:
    p = tj.LIFParams(beta=beta, threshold=thr, reset="subtract")
    return np.asarray(tj.lif_scan(jnp.asarray(x), p)[0])


def build_on(data: dict, spec: dict):
    variant, k = spec["variant"], spec["k"]

    def loss(w, x):
        if variant == "baseline":
            s = tj.lif_scan(x @ w, PARAMS)[0]
        elif variant == "tac":
            s = tj.tac(x, lambda z: z @ w, k, PARAMS)[0]
        else:
            s = tj.tac_tp(x, lambda z: z @ w, k, PARAMS)[0]
        return s.sum()

    return jc.grad_bench(loss, data["w"], data["x"])


def _layers(variant: str, k: int):
    if variant == "baseline":
        return ("baseline", "baseline"), (1, 1)
    if variant == "tac":
        return ("tac", "tac"), (k, 1)
    return ("tac_tp", "tac_tp"), (k, k)


def mnist_model(data: dict, spec: dict, neuron=PARAMS) -> MNISTNet:
    """``MNISTNet`` for ``spec["variant"]`` with the shared initial weights ``data["w1"..."w3"]``."""
    modes, ks = _layers(spec.get("variant", "baseline"), spec["k"])
    model = MNISTNet(modes=modes, ks=ks, neuron=neuron, in_size=spec["size"],
                     channels=tuple(spec["channels"]), rngs=nnx.Rngs(0))
    for layer, key in ((model.conv1, "w1"), (model.conv2, "w2"), (model.fc, "w3")):
        layer.kernel.value = jnp.asarray(data[key])
    return model


def build_mnist(data: dict, spec: dict):
    model = mnist_model(data, spec)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def readout(p, x):
        return nnx.merge(graphdef, p, rest)(x, return_membrane=True)[1]

    return jc.train_bench(readout, params, data["x"], data["y"])

