"""Spiking neurons in MLX, one file per family: the mirror of ``tacjax.neurons``.

* ``lif``: the leaky integrate-and-fire neuron, and IF as ``LIFParams(beta=1.0)``.
* ``synaptic``: the synaptic (current-based) LIF neuron, ``SynapticParams``/``SynapticState``.
* ``adaptive``: the adaptive-threshold LIF neuron (ALIF), ``ALIFParams``/``ALIFState``.
* ``recurrent``: a recurrent LIF layer (RLIF) with weights ``w_rec`` ``[N, N]``, ``RLIFState``.
* ``leaky``: the leaky integrator (LI), the non-spiking readout.

Shared building blocks live in ``tacjax.mlx.neurons._common``, the step and time loop of the
NamedTuple-state neurons in ``tacjax.mlx.neurons._scan``; names and value rules in
``tacjax.common.neurons``.
"""

from tacjax.common import docs
from tacjax.mlx.neurons.adaptive import ALIFParams, ALIFState, alif_scan, alif_step
from tacjax.mlx.neurons.leaky import li_scan, li_step
from tacjax.mlx.neurons.lif import RESETS, LIFParams, lif_scan, lif_step
from tacjax.mlx.neurons.recurrent import RLIFState, rlif_scan, rlif_step
from tacjax.mlx.neurons.synaptic import SynapticParams, SynapticState, synaptic_scan, synaptic_step

__doc__ += docs.NEURON_CONVENTION

__all__ = [
    "RESETS",
    "ALIFParams",
    "ALIFState",
    "LIFParams",
    "RLIFState",
    "SynapticParams",
    "SynapticState",
    "alif_scan",
    "alif_step",
    "li_scan",
    "li_step",
    "lif_scan",
    "lif_step",
    "rlif_scan",
    "rlif_step",
    "synaptic_scan",
    "synaptic_step",
]
