"""The base of the layers that hold a neuron: its parameters, learned beta/threshold, carry and calls."""

from __future__ import annotations

import jax.numpy as jnp

from tacjax.common.arguments import check_bool, check_callable, check_choice
from tacjax.common.outputs import SpikesAndMembrane
from tacjax.nn._neuron import SOLVERS, NeuronKind, check_carry, neuron_kind, zero_state
from tacjax.nn._params import freeze, learned_param, thaw, unit_clip
from tacjax.nn._stream import StreamingLayer

__all__ = ["SpikingLayer"]


class SpikingLayer(StreamingLayer):
    """A layer whose output neurons (``out_features`` channels) are one neuron family of the core.

    Subclasses call ``_init_neuron`` and implement ``_state_shape(batch_shape)`` and ``_block``.
    The call returns spikes, or ``SpikesAndMembrane(spikes, membrane)`` with
    ``return_membrane=True`` (the membrane before reset); ``return_carry=True`` returns
    ``(carry, output)``.
    """

    def _init_neuron(self, neuron, out_features: int, surrogate, learn_beta, learn_threshold,
                     fn: str, solver: str = "scan") -> NeuronKind:
        self.solver = check_choice(solver, SOLVERS, fn, "solver")
        kind = neuron_kind(neuron, fn, self.solver)
        self.neuron = freeze(neuron)
        self.surrogate = check_callable(surrogate, fn, "surrogate", expected="a spike function (e.g. "
                                        "tacjax.fast_sigmoid or tacjax.get_surrogate('atan'))")
        learn_beta = check_bool(learn_beta, fn, "learn_beta")
        learn_threshold = check_bool(learn_threshold, fn, "learn_threshold")
        self.beta = learned_param(neuron.beta, out_features, fn, "beta", unit=True) if learn_beta else None
        self.threshold = (learned_param(neuron.threshold, out_features, fn, "threshold", unit=False)
                          if learn_threshold else None)
        return kind

    def neuron_kind(self, *, streaming: bool = False) -> NeuronKind:
        """The ``NeuronKind`` of this layer's neuron (``tacjax.nn._neuron.NEURONS``); ``PARALLEL_LIF`` for
        ``solver="parallel"`` unless ``streaming`` (``step`` keeps ``lif_scan``)."""
        return neuron_kind(self.neuron, type(self).__name__, "scan" if streaming else self.solver)

    def neuron_params(self):
        """The neuron parameters in use, as given to the layer, with the learned ``beta`` (clipped to
        [0, 1], see ``tacjax.nn._params``) and ``threshold`` ``[O]`` when learned; scalar fields
        stay Python numbers, per-channel ones are float32 arrays."""
        beta = None if self.beta is None else unit_clip(self.beta[...])
        threshold = None if self.threshold is None else self.threshold[...]
        return thaw(self.neuron, beta=beta, threshold=threshold)

    def _state_shape(self, batch_shape) -> tuple[int, ...]:
        raise NotImplementedError

    def _check_carry(self, carry, batch_shape, fn: str) -> None:
        check_carry(self.neuron_kind(), carry, self._state_shape(batch_shape), fn)

    def initialize_carry(self, batch_shape):
        """The neuron state at rest for ``batch_shape`` (see ``tacjax.nn``: ``(B,)`` for dense layers,
        ``(B, H, W)`` for 2-D convs): one float32 array, or the family's NamedTuple of them."""
        return zero_state(self.neuron_kind(), self._state_shape(batch_shape), jnp.float32)

    def step(self, carry, x, *, return_membrane: bool = False):
        """One streaming unit (see ``step_frames``): ``(carry, spikes)`` or ``(carry,
        SpikesAndMembrane(spikes, membrane))`` with ``return_membrane=True``."""
        carry, y, membrane = self._step(carry, x, return_membrane=return_membrane)
        return carry, (SpikesAndMembrane(y, membrane) if return_membrane else y)

    def __call__(self, x, *, carry=None, return_membrane: bool = False, return_carry: bool = False):
        """The layer on a sequence ``x`` ``[T, B, ...]`` from ``carry`` (None: at rest)."""
        carry, y, membrane = self._block(x, carry, return_membrane=return_membrane, need_state=return_carry,
                                         short_ok=False)
        out = SpikesAndMembrane(y, membrane) if return_membrane else y
        return (carry, out) if return_carry else out
