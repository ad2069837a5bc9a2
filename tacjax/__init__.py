"""tacjax: fast spiking neural networks in JAX.

Conventions: time-major arrays ``[T, B, ...]``, images NHWC, float32 by default (bfloat16 and
float16 input are integrated in float32), parameters as small immutable pytrees.

The functional core (neurons, surrogates, encoders, TAC and its traced-K forms, the parallel
neurons) is pure and jit/vmap/grad compatible, with two documented limits: static arguments
(``k`` of the static TAC functions, ``order``, ``num_steps``, names) set shapes and must be
Python values, and value checks run only on concrete values (``tacjax.common.docs.VALUE_CHECKS``).
Not jit/vmap/grad functions: the data loaders and caches (``tacjax.data``, host-side NumPy and
file I/O), the host-side NumPy planners and counters (``tacjax.sparse.product_plan``,
``bit_density``, ``product_density``; the cost models in ``tacjax.cost``), the training loop,
metrics and checkpoints (``tacjax.train``: I/O around jitted steps) and ``tacjax.runtime``.
"""

from tacjax import parallel  # noqa: F401  (PSU, IPSU, RPSU, PSN: tj.parallel.psu, ...)
from tacjax.aggregate import (
    WEIGHTS,
    aggregate,
    aggregation_weights,
    chunk_lengths,
    conv_calls,
    init_weight_logits,
    tac,
    tac_tp,
)
from tacjax.dynamic import aggregate_dynamic, chunk_mask, tac_dynamic, tac_tp_dynamic
from tacjax.encoding import delta, latency, rate, repeat
from tacjax.neurons import (
    RESETS,
    ALIFParams,
    ALIFState,
    LIFParams,
    RLIFState,
    SynapticParams,
    SynapticState,
    alif_scan,
    alif_step,
    li_scan,
    li_step,
    lif_scan,
    lif_step,
    rlif_scan,
    rlif_step,
    synaptic_scan,
    synaptic_step,
)
from tacjax.surrogate import (
    SURROGATES,
    SpikeFn,
    atan,
    fast_sigmoid,
    get_surrogate,
    heaviside,
    sigmoid,
    straight_through,
    surrogate_grad,
    triangle,
)

__version__ = "0.1.0"

__all__ = [
    "RESETS",
    "SURROGATES",
    "WEIGHTS",
    "ALIFParams",
    "ALIFState",
    "LIFParams",
    "RLIFState",
    "SpikeFn",
    "SynapticParams",
    "SynapticState",
    "aggregate",
    "aggregate_dynamic",
    "aggregation_weights",
    "alif_scan",
    "alif_step",
    "atan",
    "chunk_lengths",
    "chunk_mask",
    "conv_calls",
    "delta",
    "fast_sigmoid",
    "get_surrogate",
    "heaviside",
    "init_weight_logits",
    "latency",
    "li_scan",
    "li_step",
    "lif_scan",
    "lif_step",
    "rate",
    "repeat",
    "rlif_scan",
    "rlif_step",
    "sigmoid",
    "straight_through",
    "surrogate_grad",
    "synaptic_scan",
    "synaptic_step",
    "tac",
    "tac_dynamic",
    "tac_tp",
    "tac_tp_dynamic",
    "triangle",
]
