"""The base of the MLX layers that hold a neuron: the twin of ``tacjax.nn._spiking``.

Learned parameters are the arrays ``beta``/``threshold`` ``[O]`` (set only when learned, so
``parameters()`` lists exactly the trained arrays, as in the NNX layers).
"""

from __future__ import annotations

import mlx.core as mx

from tacjax.common.arguments import check_bool, check_callable, check_choice
from tacjax.common.outputs import SpikesAndMembrane
from tacjax.mlx.nn._neuron import SOLVERS, NeuronKind, check_carry, neuron_kind, zero_state
from tacjax.mlx.nn._params import freeze, learned_param, thaw, unit_clip
from tacjax.mlx.nn._stream import StreamingLayer

__all__ = ["SpikingLayer"]


class SpikingLayer(StreamingLayer):
    """A layer whose output neurons (``out_features`` channels) are one neuron family of the core."""

    def _init_neuron(self, neuron, out_features: int, surrogate, learn_beta, learn_threshold,
                     fn: str, solver: str = "scan") -> NeuronKind:
        self.solver = check_choice(solver, SOLVERS, fn, "solver")
        kind = neuron_kind(neuron, fn, self.solver)
        self.neuron = freeze(neuron)
        self.surrogate = check_callable(surrogate, fn, "surrogate", expected="a spike function (e.g. "
                                        "tacjax.mlx.fast_sigmoid or tacjax.mlx.get_surrogate('atan'))")
        if check_bool(learn_beta, fn, "learn_beta"):
            self.beta = learned_param(neuron.beta, out_features, fn, "beta", unit=True)
        if check_bool(learn_threshold, fn, "learn_threshold"):
            self.threshold = learned_param(neuron.threshold, out_features, fn, "threshold", unit=False)
        return kind

    def neuron_kind(self, *, streaming: bool = False) -> NeuronKind:
        """The ``NeuronKind`` of this layer's neuron (``tacjax.mlx.nn._neuron.NEURONS``); ``PARALLEL_LIF`` for
        ``solver="parallel"`` unless ``streaming`` (``step`` keeps ``lif_scan``)."""
        return neuron_kind(self.neuron, type(self).__name__, "scan" if streaming else self.solver)

    def neuron_params(self):
        """The neuron parameters in use, with the learned ``beta`` (clipped to [0, 1]) and
        ``threshold`` ``[O]`` when learned; scalar fields stay Python numbers."""
        beta = unit_clip(self["beta"]) if "beta" in self else None
        threshold = self["threshold"] if "threshold" in self else None
        return thaw(self.neuron, beta=beta, threshold=threshold)

    def _state_shape(self, batch_shape) -> tuple[int, ...]:
        raise NotImplementedError

    def _check_carry(self, carry, batch_shape, fn: str) -> None:
        check_carry(self.neuron_kind(), carry, self._state_shape(batch_shape), fn)

    def initialize_carry(self, batch_shape):
        """The neuron state at rest for ``batch_shape``: one float32 array, or the family's NamedTuple."""
        return zero_state(self.neuron_kind(), self._state_shape(batch_shape), mx.float32)

    def step(self, carry, x, *, return_membrane: bool = False):
        """One streaming unit: ``(carry, spikes)`` or ``(carry, SpikesAndMembrane(spikes, membrane))``."""
        carry, y, membrane = self._step(carry, x, return_membrane=return_membrane)
        return carry, (SpikesAndMembrane(y, membrane) if return_membrane else y)

    def __call__(self, x, *, carry=None, return_membrane: bool = False, return_carry: bool = False):
        """The layer on a sequence ``x`` ``[T, B, ...]`` from ``carry`` (None: at rest)."""
        carry, y, membrane = self._block(x, carry, return_membrane=return_membrane, need_state=return_carry,
                                         short_ok=False)
        out = SpikesAndMembrane(y, membrane) if return_membrane else y
        return (carry, out) if return_carry else out
