"""``mlx.nn`` layers mirroring ``tacjax.nn`` (Flax NNX): the same classes, arguments, streaming protocol
and outputs, with ``key`` (an MLX PRNG key) where the NNX layers take ``rngs``.

Parameters (``module.parameters()``), MLX layouts:

===============  =========================  ==========================================
MLX name         shape                      Flax NNX counterpart
===============  =========================  ==========================================
``weight``       ``[O, kh, kw, C]`` (conv)  ``kernel`` ``[kh, kw, C, O]`` (HWIO)
``weight``       ``[O, k, C]`` (conv 1-D)   ``kernel`` ``[k, C, O]``
``weight``       ``[O, F]`` (dense)         ``kernel`` ``[F, O]``
``bias``         ``[O]``                    ``bias``
``beta``         ``[O]``                    ``beta`` (used clipped to [0, 1])
``threshold``    ``[O]``                    ``threshold``
``agg_logits``   ``[K]``                    ``agg_logits`` (weights ``K * softmax(agg_logits)``)
===============  =========================  ==========================================

``tacjax.mlx.convert`` copies weights between the two. Train/eval (dropout) follows MLX's
``module.train()`` / ``module.eval()``.
"""

from tacjax.mlx.nn.conv import SpikingConv, SpikingConv1D
from tacjax.mlx.nn.dense import SpikingDense
from tacjax.mlx.nn.dropout import SpikingDropout
from tacjax.mlx.nn.init import default_kernel_init, recurrent_kernel_init
from tacjax.mlx.nn.pooling import AvgPool, Flatten, MaxPool, SumPool
from tacjax.mlx.nn.readout import LIReadout
from tacjax.mlx.nn.recurrent import SpikingRecurrentDense
from tacjax.mlx.nn.sequential import SpikingSequential

__all__ = [
    "AvgPool",
    "Flatten",
    "LIReadout",
    "MaxPool",
    "SpikingConv",
    "SpikingConv1D",
    "SpikingDense",
    "SpikingDropout",
    "SpikingRecurrentDense",
    "SpikingSequential",
    "SumPool",
    "default_kernel_init",
    "recurrent_kernel_init",
]
