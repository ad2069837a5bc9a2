"""The neuron table of the MLX layers: the twin of ``tacjax.nn._neuron``."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import mlx.core as mx

from tacjax.common.checks import describe, shape_of
from tacjax.mlx import _checks
from tacjax.mlx.neurons import (
    ALIFParams,
    ALIFState,
    LIFParams,
    RLIFState,
    SynapticParams,
    SynapticState,
    alif_scan,
    lif_parallel,
    lif_scan,
    rlif_scan,
    synaptic_scan,
)
from tacjax.mlx.neurons._common import leaf, reset_membrane

__all__ = ["NEURONS", "PARALLEL_LIF", "SOLVERS", "NeuronKind", "check_carry", "neuron_kind", "rlif_kind",
           "run"]


class NeuronKind(NamedTuple):
    """How a layer runs one neuron family (fields as ``tacjax.nn._neuron.NeuronKind``)."""

    name: str
    scan: Callable
    zeros: Callable
    state_type: type | None
    final_state: Callable | None
    collapse: bool


def _lif_final_state(h, s, params: LIFParams):
    """The membrane after the last step's reset, from its membrane ``h`` and spikes ``s``."""
    thr = _checks.param(params.threshold, h.dtype)
    return reset_membrane(h, s, thr, params.reset, params.detach_reset, leaf(params.v_reset, h.dtype))


NEURONS: dict[type, NeuronKind] = {
    LIFParams: NeuronKind(
        "LIF/IF",
        lambda x, p, s0, sg, rm: lif_scan(x, p, v0=s0, surrogate=sg, return_membrane=rm),
        mx.zeros, None, _lif_final_state, True),
    SynapticParams: NeuronKind(
        "synaptic",
        lambda x, p, s0, sg, rm: synaptic_scan(x, p, state0=s0, surrogate=sg, return_membrane=rm),
        mx.zeros, SynapticState, None, False),
    ALIFParams: NeuronKind(
        "adaptive (ALIF)",
        lambda x, p, s0, sg, rm: alif_scan(x, p, state0=s0, surrogate=sg, return_membrane=rm),
        mx.zeros, ALIFState, None, False),
}
"""Parameter class -> ``NeuronKind``: the neurons the MLX spiking layers accept as ``neuron=``."""


SOLVERS = ("scan", "parallel")
"""A LIF layer's ``solver=``: "scan" (``lif_scan``, the table's kind) or "parallel"
(``PARALLEL_LIF``)."""

PARALLEL_LIF = NeuronKind(
    "LIF/IF (parallel)",
    lambda x, p, s0, sg, rm: lif_parallel(x, p, v0=s0, surrogate=sg, return_membrane=rm),
    mx.zeros, None, _lif_final_state, False)
"""The LIF of ``solver="parallel"``: ``tacjax.mlx.neurons.lif_parallel`` (exact reset, every reset, solved
in parallel over time; default window and rounds), the same spikes, membrane and state as
``lif_scan`` up to float rounding at the threshold."""


def rlif_kind(w_rec) -> NeuronKind:
    """The recurrent LIF kind (``rlif_scan`` with weights ``w_rec`` ``[N, N]``, ``LIFParams``): the
    state after the last step is ``RLIFState(v, s)``, ``v`` rebuilt from that step as for LIF."""
    return NeuronKind(
        "recurrent LIF",
        lambda x, p, s0, sg, rm: rlif_scan(x, w_rec, p, state0=s0, surrogate=sg, return_membrane=rm),
        mx.zeros, RLIFState, lambda h, s, p: RLIFState(_lif_final_state(h, s, p), s), False)


def neuron_kind(neuron, fn: str, solver: str = "scan") -> NeuronKind:
    """The ``NeuronKind`` of a parameter object; TypeError naming ``neuron`` for any other value.

    ``solver`` (one of ``SOLVERS``, checked by the layer) "parallel" gives ``PARALLEL_LIF`` for
    ``LIFParams`` and a ValueError naming ``solver`` for the other families.
    """
    kind = NEURONS.get(type(neuron))
    if kind is None:
        names = ", ".join(f"tacjax.mlx.{c.__name__}" for c in NEURONS)
        raise TypeError(f"{fn}: `neuron` must be the parameters of a neuron family ({names}); got "
                        f"{describe(neuron)}.")
    if solver == "parallel":
        if type(neuron) is not LIFParams:
            raise ValueError(f"{fn}: solver 'parallel' (tacjax.mlx.neurons.lif_parallel) runs LIF/IF neurons "
                             f"(neuron=LIFParams(...)) only; got a {kind.name} neuron. Use solver 'scan'.")
        return PARALLEL_LIF
    return kind


def zero_state(kind: NeuronKind, shape, dtype):
    """The state at rest: one array, or the family's NamedTuple of arrays, each of ``shape``."""
    if kind.state_type is None:
        return kind.zeros(shape, dtype)
    return kind.state_type(*(kind.zeros(shape, dtype) for _ in kind.state_type._fields))


def check_carry(kind: NeuronKind, carry, shape: tuple[int, ...], fn: str) -> None:
    """Raise unless ``carry`` is None or a state of ``kind`` with every array of ``shape``."""
    if carry is None:
        return
    want = "an array" if kind.state_type is None else f"a {kind.state_type.__name__}"
    if kind.state_type is None:
        arrays = [carry] if hasattr(carry, "shape") else None
    else:
        arrays = list(carry) if isinstance(carry, kind.state_type) else None
    if arrays is None:
        raise TypeError(f"{fn}: `carry` must be {want} (the {kind.name} state) of shape {shape}; got "
                        f"{describe(carry)}. Use initialize_carry() or a carry returned by the layer.")
    for a in arrays:
        if shape_of(a) != tuple(shape):
            raise ValueError(f"{fn}: `carry` must be {want} with shape {shape} for this input (the "
                             f"{kind.name} state); got shape {shape_of(a)}.")


def run(kind: NeuronKind, params, inputs: mx.array, carry, surrogate, *, return_membrane: bool,
        need_state: bool, scan: Callable | None = None):
    """Run the neuron over ``inputs`` from ``carry`` (None: at rest); as ``tacjax.nn._neuron.run``."""
    scan = kind.scan if scan is None else scan
    if not return_membrane:
        spikes, state = scan(inputs, params, carry, surrogate, False)
        return spikes, None, state
    spikes, membrane = scan(inputs, params, carry, surrogate, True)
    if not need_state:
        return spikes, membrane, None
    if kind.final_state is not None:
        return spikes, membrane, kind.final_state(membrane[-1], spikes[-1], params)
    return spikes, membrane, scan(inputs, params, carry, surrogate, False)[1]
