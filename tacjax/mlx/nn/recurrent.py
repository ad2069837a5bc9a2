"""``SpikingRecurrentDense`` in MLX: the twin of ``tacjax.nn.recurrent`` (recurrent LIF, ``[N, N]``)."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as mnn

from tacjax.common.arguments import check_callable
from tacjax.common.checks import describe
from tacjax.mlx.neurons import LIFParams
from tacjax.mlx.nn._neuron import NeuronKind, rlif_kind
from tacjax.mlx.nn.dense import SpikingDense, init_dense
from tacjax.mlx.nn.init import default_kernel_init, recurrent_kernel_init
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__all__ = ["SpikingRecurrentDense"]


class SpikingRecurrentDense(SpikingDense):
    """Dense input weights (``weight`` ``[N, F]``) + recurrent LIF neurons (``recurrent_kernel``
    ``[N, N]``, the core's ``w_rec`` layout, the same in both backends).

    Args: as ``tacjax.nn.SpikingRecurrentDense``, plus ``key`` instead of ``rngs``.
    """

    def __init__(self, in_features: int, out_features: int, *, neuron=LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, use_bias: bool = False, learn_beta: bool = False,
                 learn_threshold: bool = False, kernel_init=default_kernel_init,
                 recurrent_init=recurrent_kernel_init, key: mx.array | None = None):
        mx_key, rec_key = (None, None) if key is None else tuple(mx.random.split(key))
        mnn.Module.__init__(self)
        fn = "SpikingRecurrentDense"
        if not isinstance(neuron, LIFParams):
            raise TypeError(f"{fn}: `neuron` must be a tacjax.mlx.LIFParams (the recurrent layer runs "
                            f"tacjax.mlx.rlif_scan, a LIF neuron); got {describe(neuron)}.")
        init_dense(self, in_features, out_features, use_bias, kernel_init, mx_key, fn)
        check_callable(recurrent_init, fn, "recurrent_init")
        n = self.out_features
        self.recurrent_kernel = recurrent_init(rec_key, (n, n), mx.float32)
        self._init_neuron(neuron, n, surrogate, learn_beta, learn_threshold, fn)

    def neuron_kind(self, *, streaming: bool = False) -> NeuronKind:
        """The recurrent LIF kind, bound to this layer's ``recurrent_kernel`` (one solver: the scan,
        streaming or not)."""
        return rlif_kind(self.recurrent_kernel)
