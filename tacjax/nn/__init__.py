"""Flax NNX layers over the pure tacjax core: spiking dense/conv/recurrent layers, readouts, pooling,
dropout and a sequential container, each usable on whole sequences or streamed step by step.

One module per concept: ``dense`` (``SpikingDense``), ``conv`` (``SpikingConv``,
``SpikingConv1D``), ``pooling`` (``MaxPool``, ``AvgPool``, ``SumPool``, ``Flatten``), ``dropout``
(``SpikingDropout``), ``sequential`` (``SpikingSequential``), ``init`` (weight initialisers);
the neuron table is ``tacjax.nn._neuron.NEURONS``. Every layer follows the streaming protocol of
``tacjax.nn._stream``: ``initialize_carry(batch_shape)``, ``step(carry, x) -> (carry, y)``, and
``layer(x, carry=..., return_carry=True)``.
"""

from tacjax.nn.conv import SpikingConv, SpikingConv1D
from tacjax.nn.dense import SpikingDense
from tacjax.nn.dropout import SpikingDropout
from tacjax.nn.init import default_kernel_init, recurrent_kernel_init
from tacjax.nn.pooling import AvgPool, Flatten, MaxPool, SumPool
from tacjax.nn.readout import LIReadout
from tacjax.nn.recurrent import SpikingRecurrentDense
from tacjax.nn.sequential import SpikingSequential

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
