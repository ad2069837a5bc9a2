"""Spiking neurons as pure functions over time-major input ``[T, ...]``: one file per family.

* ``lif``: the leaky integrate-and-fire neuron, and IF as ``LIFParams(beta=1.0)``.
* ``synaptic``: the synaptic (current-based) LIF neuron, ``SynapticParams``/``SynapticState``.
* ``adaptive``: the adaptive-threshold LIF neuron (ALIF), ``ALIFParams``/``ALIFState``.
* ``recurrent``: a recurrent LIF layer (RLIF) with weights ``w_rec`` ``[N, N]``, ``RLIFState``.
* ``leaky``: the leaky integrator (LI), the non-spiking readout.

Shared building blocks (parameter checks, integrate, fire, reset, dtype and loop rules) live in
``tacjax.neurons._common``, the step and time loop of the NamedTuple-state neurons in
``tacjax.neurons._scan``; names and value rules in ``tacjax.common.neurons``.
"""

from tacjax.common import docs
from tacjax.neurons.adaptive import ALIFParams, ALIFState, alif_scan, alif_step
from tacjax.neurons.leaky import li_scan, li_step
from tacjax.neurons.lif import RESETS, LIFParams, lif_scan, lif_step
from tacjax.neurons.recurrent import RLIFState, rlif_scan, rlif_step
from tacjax.neurons.synaptic import SynapticParams, SynapticState, synaptic_scan, synaptic_step

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
