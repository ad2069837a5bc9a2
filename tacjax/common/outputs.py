"""NamedTuples returned by public functions whose result depends on flags (backend-free).

A caller reads fields by name (``out.membrane``) instead of counting tuple positions; fields
that were not asked for are ``None``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["NetworkOutput", "SpikesAndMembrane"]


class SpikesAndMembrane(NamedTuple):
    """Spikes and the membrane before reset, both ``[T, ...]`` (a layer or neuron asked for its membrane)."""

    spikes: Any
    membrane: Any


class NetworkOutput(NamedTuple):
    """What a network returns when asked for more than its readout spikes.

    Attributes:
        spikes: readout spikes ``[T_out, B, num_classes]``.
        membrane: readout membrane before reset ``[T_out, B, num_classes]``, or None if not asked.
        stats: dict layer name -> spike train (``"input"``, ``"conv1"``, ..., ``"fc"``), or None.
    """

    spikes: Any
    membrane: Any = None
    stats: Any = None
