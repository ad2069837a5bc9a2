"""tacjax.mlx: the tacjax functional API in MLX (Apple silicon; ``mlx[cpu]`` on Linux).

The same public names, signatures, defaults and semantics as ``tacjax`` (time-major
``[T, B, ...]``, NHWC images, float32 by default), computed with ``mlx.core``. Install with
``pip install 'tacjax[mlx]'``. What differs from JAX, and what a user must know:

* Arrays: functions accept ``mx.array`` or NumPy input and return ``mx.array``; float64 NumPy
  input becomes float32 (as in JAX without x64). Results are lazy: call ``mx.eval`` (or
  convert with ``np.asarray``) before timing or reading them.
* Conv weights: ``mx.conv2d`` takes ``(O, kh, kw, I)`` weights where JAX's
  ``lax.conv_general_dilated`` with NHWC/HWIO takes ``(kh, kw, I, O)``; dense weights are
  ``(out, in)`` in ``mlx.nn.Linear`` against ``(in, out)`` in Flax. ``tacjax.mlx.convert``
  has the transposes; both backends compute cross-correlation (no kernel flip).
* Integers: NumPy int64 stays int64 in MLX (JAX without x64 makes it int32) and Python ints
  become int32; neurons, encoders and TAC need floating input anyway and raise the same
  TypeError as JAX for integer input (the sparse strategies cast integer/bool spikes to ``w``'s
  dtype, as in JAX). Integer ``k`` may be a Python int or a 0-d integer ``mx.array``.
* Randomness: ``rate`` takes ``mx.random.key(seed)``; MLX and JAX generators differ, so the
  same seed gives different spikes (same statistics).
* Loops: ``lif_scan``/``tac_tp`` are Python loops over time building one lazy graph (MLX has
  no ``lax.scan``); ``unroll`` is ignored. ``mx.compile`` of a whole step works (same results;
  on CPU its speed effect was mixed, see ``tacjax.mlx.neurons``).
* ``LIFParams`` is a frozen dataclass, not an MLX tree: build it inside a loss from arrays to
  differentiate ``beta``/``threshold``.
* Modules: ``tacjax.mlx.parallel`` mirrors ``tacjax.parallel``; ``tacjax.mlx.sparse`` mirrors the
  strategies of ``tacjax.sparse`` that MLX can express (dense, im2col, event, bitpack, tiles; not
  bcoo/bcsr/product); ``tacjax.mlx.nn`` and ``tacjax.mlx.models`` are ``mlx.nn`` twins of
  ``tacjax.nn`` / ``tacjax.models``; ``tacjax.mlx.convert`` moves weights between the two
  (import these four explicitly, as their JAX counterparts).
* ``*_dynamic``: MLX evaluates K outside ``mx.compile``/``mx.vmap``; these forms keep the JAX
  full-length row layout for parity, but a Python loop over K with ``tac``/``tac_tp`` is faster.
* Value checks (NaN, ranges; ``tacjax.common.docs.VALUE_CHECKS``) run whenever a value can be
  evaluated, i.e. outside ``mx.compile``/``mx.vmap``; each costs one synchronisation.
"""

try:
    import mlx.core  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without mlx
    raise ImportError(
        "tacjax.mlx needs the MLX package, which is not installed. Install it with "
        "`pip install 'tacjax[mlx]'` (mlx on macOS, mlx[cpu] on Linux). The JAX API in "
        "`tacjax` works without it."
    ) from e

from tacjax.mlx import parallel  # noqa: F401  (PSU, IPSU, RPSU, PSN: tm.parallel.psu, ...)
from tacjax.mlx.aggregate import (
    WEIGHTS,
    aggregate,
    aggregation_weights,
    chunk_lengths,
    conv_calls,
    init_weight_logits,
    tac,
    tac_tp,
)
from tacjax.mlx.dynamic import aggregate_dynamic, chunk_mask, tac_dynamic, tac_tp_dynamic
from tacjax.mlx.encoding import delta, latency, rate, repeat
from tacjax.mlx.neurons import (
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
from tacjax.mlx.surrogate import (
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
