"""SpikingJelly (``activation_based``, multi-step mode ``step_mode='m'``): ``LIFNode(tau, decay_input=False,
v_threshold, v_reset=None)`` (soft, same-step reset) with its default Sigmoid surrogate (alpha 4),
``layer.Conv2d`` / ``layer.Linear`` / ``layer.MaxPool2d`` in multi-step mode (T folded into the batch).

Parameter mapping: ``decay_input=False`` gives ``h = v - v/tau + x``, i.e. ``beta = 1 - 1/tau``, so
``tau = 1 / (1 - beta) = 10`` for beta 0.9 (reference rule ``spikingjelly_lif``). SpikingJelly 2 has no
``backend`` argument: on the CPU it dispatches to its PyTorch implementation (a time loop inside one
autograd function), on CUDA to its own kernels.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from peers import torchcommon as tc
from peers.harness import BETA, THRESHOLD
from peers.reference import tau_from_beta

PLATFORM = tc
"""Threads, runtime description and device memory of this library's platform."""

LABEL = "SpikingJelly"
RULE = "spikingjelly_lif"


def version() -> str:
    import importlib.metadata

    import spikingjelly  # noqa: F401  (raises ImportError when absent)

    return importlib.metadata.version("spikingjelly")


def _node(beta=BETA, thr=THRESHOLD, store_v_seq=False):
    from spikingjelly.activation_based import neuron

    return neuron.LIFNode(tau=tau_from_beta(beta), decay_input=False, v_threshold=thr, v_reset=None,
                          step_mode="m", store_v_seq=store_v_seq).to(tc.DEVICE)


def _reset(*modules) -> None:
    from spikingjelly.activation_based import functional

    for m in modules:
        functional.reset_net(m)


def lif_spikes(x: np.ndarray, beta: float, thr: float) -> np.ndarray:
    node = _node(beta, thr)
    with torch.no_grad():
        return node(tc.tensor(x)[:, None]).cpu().numpy()[:, 0]


def build_on(data: dict, spec: dict):
    from spikingjelly.activation_based import layer

    n_in, n_out = data["w"].shape
    fc = layer.Linear(n_in, n_out, bias=False, step_mode="m").to(tc.DEVICE)
    tc.set_weights([(fc, tc.tensor(data["w"].T))])
    x, node = tc.tensor(data["x"]), _node()

    def loss():
        _reset(node)
        return node(fc(x)).sum()

    return tc.grad_bench(loss, fc.weight)


def _net(t: dict) -> tuple[nn.Module, nn.Module]:
    from spikingjelly.activation_based import layer

    c1, c2 = t["w1"].shape[0], t["w2"].shape[0]
    conv1 = layer.Conv2d(1, c1, 3, padding=1, bias=False, step_mode="m")
    conv2 = layer.Conv2d(c1, c2, 3, padding=1, bias=False, step_mode="m")
    fc = layer.Linear(t["w3"].shape[1], t["w3"].shape[0], bias=False, step_mode="m")
    tc.set_weights([(conv1, t["w1"]), (conv2, t["w2"]), (fc, t["w3"])])
    body = nn.Sequential(conv1, _node(), layer.MaxPool2d(2, 2, step_mode="m"),
                         conv2, _node(), layer.MaxPool2d(2, 2, step_mode="m"),
                         layer.Flatten(step_mode="m"), fc).to(tc.DEVICE)
    return body, _node(store_v_seq=True)


def build_mnist(data: dict, spec: dict):
    t = tc.mnist_tensors(data)
    body, readout = _net(t)

    def membrane(x):
        _reset(body, readout)
        readout(body(x))
        return readout.v_seq

    return tc.train_bench(body, membrane, t["x"], t["y"])
