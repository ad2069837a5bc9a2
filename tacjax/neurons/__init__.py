"""Spiking neurons as pure functions over time-major input ``[T, ...]``: one file per family.

* ``lif``: the leaky integrate-and-fire neuron, and IF as ``LIFParams(beta=1.0)``.
* ``lif_parallel``: the same neuron, exact reset included, solved in parallel over time.

Shared building blocks (parameter checks, integrate, fire, reset, dtype and loop rules) live in
``tacjax.neurons._common``; names and value rules in ``tacjax.common.neurons``.
"""

from tacjax.common import docs
from tacjax.neurons.lif import RESETS, LIFParams, lif_scan, lif_step
from tacjax.neurons.lif_parallel import lif_parallel

__doc__ += docs.NEURON_CONVENTION

__all__ = ["RESETS", "LIFParams", "lif_parallel", "lif_scan", "lif_step"]
