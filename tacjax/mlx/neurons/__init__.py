"""Spiking neurons in MLX, one file per family: the mirror of ``tacjax.neurons``.

* ``lif``: the leaky integrate-and-fire neuron, and IF as ``LIFParams(beta=1.0)``.
* ``lif_parallel``: the same neuron, exact reset included, solved in parallel over time.

Shared building blocks live in ``tacjax.mlx.neurons._common``; names and value rules in
``tacjax.common.neurons``.
"""

from tacjax.common import docs
from tacjax.mlx.neurons.lif import RESETS, LIFParams, lif_scan, lif_step
from tacjax.mlx.neurons.lif_parallel import lif_parallel

__doc__ += docs.NEURON_CONVENTION

__all__ = ["RESETS", "LIFParams", "lif_parallel", "lif_scan", "lif_step"]
