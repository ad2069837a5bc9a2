"""``SpikingDense``: a dense layer followed by a spiking neuron over time (and the shared dense parts)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from tacjax.common.arguments import check_bool, check_callable, check_int
from tacjax.neurons import LIFParams
from tacjax.nn._neuron import run
from tacjax.nn._spiking import SpikingLayer
from tacjax.nn._stream import check_batch_shape, check_rank
from tacjax.nn.init import default_kernel_init
from tacjax.surrogate import SpikeFn, fast_sigmoid

__all__ = ["SpikingDense"]


def init_dense(layer: nnx.Module, in_features, out_features, use_bias, kernel_init, rngs, fn: str) -> None:
    """Set ``in_features``, ``out_features``, ``kernel`` ``[F, O]`` and ``bias`` ``[O]`` (or None)."""
    layer.in_features = check_int(in_features, fn, "in_features")
    layer.out_features = check_int(out_features, fn, "out_features")
    check_callable(kernel_init, fn, "kernel_init")
    layer.kernel = nnx.Param(kernel_init(rngs.params(), (layer.in_features, layer.out_features), jnp.float32))
    use_bias = check_bool(use_bias, fn, "use_bias")
    layer.bias = nnx.Param(jnp.zeros((layer.out_features,), jnp.float32)) if use_bias else None


def dense_current(layer: nnx.Module, x, fn: str) -> jax.Array:
    """``x @ kernel (+ bias)`` for ``x`` ``[T, B, F]`` (checked), in ``x``'s dtype."""
    x = check_rank(x, 3, fn, f"[T, B, F] with F = {layer.in_features}")
    if x.shape[-1] != layer.in_features:
        raise ValueError(f"{fn}: `x` must be [T, B, F] with F = {layer.in_features}; got shape {x.shape}.")
    y = x @ layer.kernel[...].astype(x.dtype)
    return y if layer.bias is None else y + layer.bias[...].astype(y.dtype)


class SpikingDense(SpikingLayer):
    """Dense layer (``kernel`` ``[F, O]``, optional ``bias`` ``[O]``) + a spiking neuron over time.

    Args:
        in_features: F (an int >= 1).
        out_features: O (an int >= 1).
        neuron: the neuron family and its parameters, e.g. ``LIFParams(beta=0.9)`` (default) or
            ``LIFParams(beta=1.0)`` (IF); see the neuron table in ``tacjax.nn``. Parameters are
            scalars or ``[O]``.
        surrogate: spike function.
        use_bias: add ``bias`` ``[O]``.
        learn_beta: learn ``beta`` ``[O]`` (used clipped to [0, 1]; IF at 1 stays reachable, see
            ``tacjax.nn._params``), initialised at ``neuron.beta``.
        learn_threshold: learn ``threshold`` ``[O]``, initialised at ``neuron.threshold``.
        solver: "scan" (default, ``lif_scan``) or "parallel" (``tacjax.neurons.lif_parallel``:
            exact reset, solved in parallel over time, the same spikes up to float rounding at
            the threshold; LIF/IF only) for the sequence call; ``step`` always runs the scan.
        kernel_init: ``kernel_init(key, shape, dtype)`` for ``kernel``.
        rngs: ``nnx.Rngs``.

    Call: ``layer(x)`` with ``x`` ``[T, B, F]`` returns spikes ``[T, B, O]``;
    ``return_membrane=True`` gives ``SpikesAndMembrane(spikes, membrane)`` (membrane before reset
    ``[T, B, O]``). Streaming: ``initialize_carry((B,))``; ``step(carry, x_t)`` with ``x_t``
    ``[B, F]`` returns ``(carry, spikes [B, O])``.
    """

    def __init__(self, in_features: int, out_features: int, *, neuron=LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, use_bias: bool = False, learn_beta: bool = False,
                 learn_threshold: bool = False, solver: str = "scan",
                 kernel_init=default_kernel_init, rngs: nnx.Rngs):
        fn = "SpikingDense"
        init_dense(self, in_features, out_features, use_bias, kernel_init, rngs, fn)
        self._init_neuron(neuron, self.out_features, surrogate, learn_beta, learn_threshold, fn, solver)

    def _frame_rank(self) -> int:
        return 2

    def _state_shape(self, batch_shape) -> tuple[int, ...]:
        return check_batch_shape(batch_shape, 1, type(self).__name__, "(B,)") + (self.out_features,)

    def _block(self, x, carry, *, return_membrane: bool, need_state: bool, short_ok: bool):
        fn = type(self).__name__
        current = dense_current(self, x, fn)
        self._check_carry(carry, current.shape[1:2], fn)
        kind = self.neuron_kind(streaming=short_ok)
        spikes, membrane, state = run(kind, self.neuron_params(), current, carry, self.surrogate,
                                      return_membrane=return_membrane, need_state=need_state)
        return state, spikes, membrane
