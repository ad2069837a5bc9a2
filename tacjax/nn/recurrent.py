"""``SpikingRecurrentDense``: a dense layer of recurrent LIF neurons with their own ``[N, N]`` weights."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from tacjax.common.arguments import check_callable
from tacjax.common.checks import describe
from tacjax.neurons import LIFParams
from tacjax.nn._neuron import NeuronKind, rlif_kind
from tacjax.nn.dense import SpikingDense, init_dense
from tacjax.nn.init import default_kernel_init, recurrent_kernel_init
from tacjax.surrogate import SpikeFn, fast_sigmoid

__all__ = ["SpikingRecurrentDense"]


class SpikingRecurrentDense(SpikingDense):
    """Dense input weights + recurrent LIF neurons (``tacjax.neurons.rlif_scan``).

    ``h[t] = beta v[t-1] + (1 - beta) v_leak + (x @ kernel + bias)[t] + s[t-1] @ recurrent_kernel``,
    then fire and reset as LIF; ``recurrent_kernel[j, k]`` is the weight from neuron j to neuron k
    (the core's ``w_rec`` layout). The carry is ``RLIFState(v, s)``. The call, ``step`` and
    ``initialize_carry`` are ``SpikingDense``'s, with this neuron.

    Args:
        in_features: F (an int >= 1).
        out_features: N, the recurrent neurons (an int >= 1).
        neuron: ``LIFParams`` (scalars or ``[N]``): the recurrent layer runs LIF neurons.
        surrogate, use_bias, learn_beta, learn_threshold, kernel_init: as ``SpikingDense``.
        recurrent_init: ``init(key, (N, N), dtype)`` for ``recurrent_kernel`` (default
            ``tacjax.nn.recurrent_kernel_init``, ``U(-1/sqrt(N), 1/sqrt(N))``).
        rngs: ``nnx.Rngs``.

    Call: ``layer(x)`` with ``x`` ``[T, B, F]`` returns spikes ``[T, B, N]`` (``return_membrane``,
    ``return_carry`` as ``SpikingDense``). Streaming: ``initialize_carry((B,))`` gives
    ``RLIFState(v, s)`` of zeros ``[B, N]``; ``step(carry, x_t)`` with ``x_t`` ``[B, F]``.
    """

    def __init__(self, in_features: int, out_features: int, *, neuron=LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, use_bias: bool = False, learn_beta: bool = False,
                 learn_threshold: bool = False, kernel_init=default_kernel_init,
                 recurrent_init=recurrent_kernel_init, rngs: nnx.Rngs):
        fn = "SpikingRecurrentDense"
        if not isinstance(neuron, LIFParams):
            raise TypeError(f"{fn}: `neuron` must be a tacjax.LIFParams (the recurrent layer runs "
                            f"tacjax.rlif_scan, a LIF neuron); got {describe(neuron)}.")
        init_dense(self, in_features, out_features, use_bias, kernel_init, rngs, fn)
        check_callable(recurrent_init, fn, "recurrent_init")
        n = self.out_features
        self.recurrent_kernel = nnx.Param(recurrent_init(rngs.params(), (n, n), jnp.float32))
        self._init_neuron(neuron, n, surrogate, learn_beta, learn_threshold, fn)

    def neuron_kind(self, *, streaming: bool = False) -> NeuronKind:
        """The recurrent LIF kind, bound to this layer's ``recurrent_kernel`` (one solver: the scan,
        streaming or not)."""
        return rlif_kind(self.recurrent_kernel[...])
