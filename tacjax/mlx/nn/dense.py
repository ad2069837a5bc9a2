"""``SpikingDense`` in MLX (weight ``[O, F]``, as ``mlx.nn.Linear``): the twin of ``tacjax.nn.dense``."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as mnn

from tacjax.common.arguments import check_bool, check_callable, check_int
from tacjax.mlx.neurons import LIFParams
from tacjax.mlx.nn._neuron import run
from tacjax.mlx.nn._spiking import SpikingLayer
from tacjax.mlx.nn._stream import check_batch_shape, check_rank
from tacjax.mlx.nn.init import default_kernel_init
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__all__ = ["SpikingDense"]


def init_dense(layer: mnn.Module, in_features, out_features, use_bias, kernel_init, key, fn: str) -> None:
    """Set ``in_features``, ``out_features``, ``weight`` ``[O, F]`` and ``bias`` ``[O]`` (when used)."""
    layer.in_features = check_int(in_features, fn, "in_features")
    layer.out_features = check_int(out_features, fn, "out_features")
    check_callable(kernel_init, fn, "kernel_init")
    layer.weight = kernel_init(key, (layer.in_features, layer.out_features), mx.float32).T
    if check_bool(use_bias, fn, "use_bias"):
        layer.bias = mx.zeros((layer.out_features,))


def dense_current(layer: mnn.Module, x, fn: str) -> mx.array:
    """``x @ weight.T (+ bias)`` for ``x`` ``[T, B, F]`` (checked), in ``x``'s dtype."""
    x = check_rank(x, 3, fn, f"[T, B, F] with F = {layer.in_features}")
    if x.shape[-1] != layer.in_features:
        raise ValueError(f"{fn}: `x` must be [T, B, F] with F = {layer.in_features}; got shape "
                         f"{tuple(x.shape)}.")
    y = x @ layer.weight.T.astype(x.dtype)
    return y + layer["bias"].astype(y.dtype) if "bias" in layer else y


class SpikingDense(SpikingLayer):
    """Dense layer (``weight`` ``[O, F]``, optional ``bias`` ``[O]``) + a spiking neuron over time.

    Args: as ``tacjax.nn.SpikingDense`` (``in_features``, ``out_features``, ``neuron``,
    ``surrogate``, ``use_bias``, ``learn_beta``, ``learn_threshold``, ``solver``, ``kernel_init``
    in the JAX layout ``(F, O)``), plus ``key`` (an MLX PRNG key, optional) instead of ``rngs``.

    Call, ``step`` and ``initialize_carry((B,))`` as in ``tacjax.nn.SpikingDense``.
    """

    def __init__(self, in_features: int, out_features: int, *, neuron=LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, use_bias: bool = False, learn_beta: bool = False,
                 learn_threshold: bool = False, solver: str = "scan",
                 kernel_init=default_kernel_init, key: mx.array | None = None):
        super().__init__()
        fn = "SpikingDense"
        init_dense(self, in_features, out_features, use_bias, kernel_init, key, fn)
        self._init_neuron(neuron, self.out_features, surrogate, learn_beta, learn_threshold, fn, solver)

    def _frame_rank(self) -> int:
        return 2

    def _state_shape(self, batch_shape) -> tuple[int, ...]:
        return check_batch_shape(batch_shape, 1, type(self).__name__, "(B,)") + (self.out_features,)

    def _block(self, x, carry, *, return_membrane: bool, need_state: bool, short_ok: bool):
        fn = type(self).__name__
        current = dense_current(self, x, fn)
        self._check_carry(carry, tuple(current.shape[1:2]), fn)
        kind = self.neuron_kind(streaming=short_ok)
        spikes, membrane, state = run(kind, self.neuron_params(), current, carry, self.surrogate,
                                      return_membrane=return_membrane, need_state=need_state)
        return state, spikes, membrane
