"""snnTorch: ``snn.Leaky(beta, threshold, reset_mechanism="subtract", reset_delay=False)`` with the
fast-sigmoid surrogate (slope 25), stepped over time in a Python loop as snnTorch intends; the synapses
(``nn.Linear`` / ``nn.Conv2d``, NCHW) run once over all T frames folded into the batch.

``reset_delay=False`` asks for the same-step reset of the workload; snnTorch's rule still differs after
inputs above twice the threshold (reference rule ``snntorch_leaky``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from peers import torchcommon as tc
from peers.harness import BETA, THRESHOLD

PLATFORM = tc
"""Threads, runtime description and device memory of this library's platform."""

LABEL = "snnTorch"
RULE = "snntorch_leaky"


def version() -> str:
    import snntorch

    return snntorch.__version__


def _leaky(beta=BETA, thr=THRESHOLD):
    import snntorch as snn
    from snntorch import surrogate

    return snn.Leaky(beta=beta, threshold=thr, reset_mechanism="subtract", reset_delay=False,
                     spike_grad=surrogate.fast_sigmoid(slope=25)).to(tc.DEVICE)


def run(neuron, cur: torch.Tensor, membrane: bool = False) -> torch.Tensor:
    """Step ``neuron`` over ``cur [T, ...]``; spikes ``[T, ...]`` (or the membrane after each step).

    ``unbind`` rather than ``cur[t]``: the backward of T indexing ops would write T full ``[T, ...]``
    gradients (T-squared memory traffic: 20 s instead of about 0.5 s for T = 500, N = 1024).
    """
    mem = neuron.init_leaky()
    out = []
    for c in cur.unbind(0):
        spk, mem = neuron(c, mem)
        out.append(mem if membrane else spk)
    return torch.stack(out)


def lif_spikes(x: np.ndarray, beta: float, thr: float) -> np.ndarray:
    with torch.no_grad():
        return run(_leaky(beta, thr), tc.tensor(x)[:, None]).cpu().numpy()[:, 0]


def build_on(data: dict, spec: dict):
    n_in, n_out = data["w"].shape
    fc = nn.Linear(n_in, n_out, bias=False).to(tc.DEVICE)
    tc.set_weights([(fc, tc.tensor(data["w"].T))])
    x, neuron = tc.tensor(data["x"]), _leaky()
    return tc.grad_bench(lambda: run(neuron, fc(x)).sum(), fc.weight)


class Net(nn.Module):
    """conv -> Leaky -> pool, conv -> Leaky -> pool, dense -> Leaky readout (membrane returned)."""

    def __init__(self, t: dict):
        super().__init__()
        c1, c2 = t["w1"].shape[0], t["w2"].shape[0]
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, bias=False)
        self.fc = nn.Linear(t["w3"].shape[1], t["w3"].shape[0], bias=False)
        self.lif1, self.lif2, self.lif3 = _leaky(), _leaky(), _leaky()
        tc.set_weights([(self.conv1, t["w1"]), (self.conv2, t["w2"]), (self.fc, t["w3"])])

    def forward(self, x):
        t, b = x.shape[:2]
        h = x
        for conv, neuron in ((self.conv1, self.lif1), (self.conv2, self.lif2)):
            s = run(neuron, conv(h.flatten(0, 1)).unflatten(0, (t, b)))
            h = F.max_pool2d(s.flatten(0, 1), 2).unflatten(0, (t, b))
        return run(self.lif3, self.fc(h.flatten(2)), membrane=True)


def build_mnist(data: dict, spec: dict):
    t = tc.mnist_tensors(data)
    model = Net(t).to(tc.DEVICE)
    return tc.train_bench(model, model, t["x"], t["y"])
