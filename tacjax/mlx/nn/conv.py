"""Spiking convolutions in MLX: the twin of ``tacjax.nn.conv`` (conv -> neuron -> max-pool of the spikes).

``SpikingConv`` takes NHWC frames ``[T, B, H, W, C]`` (weight OHWI ``[O, kh, kw, C]``, where the
NNX kernel is HWIO), ``SpikingConv1D`` sequences ``[T, B, L, C]`` (weight ``[O, k, C]``);
``tacjax.mlx.convert`` converts. The modes ("baseline", "tac" for LIF only, "tac_tp"), the
geometry (``kernel_size``, ``strides``, ``padding`` turned into explicit pairs by
``tacjax.common.windows``, so both backends pad alike), the order conv -> neuron -> max-pool and
the streaming unit (one frame for "baseline", one chunk of up to K frames for the TAC modes) are
those of ``tacjax.nn.conv``.
"""

from __future__ import annotations

import functools
import math

import mlx.core as mx
import numpy as np

from tacjax.common.arguments import check_bool, check_callable, check_choice, check_int
from tacjax.common.tac import SHARES, chunk_lengths, share_scales
from tacjax.common.windows import check_padding, check_window, output_sizes, padding_pairs
from tacjax.mlx.aggregate import MODES, aggregate, conv_calls, init_weight_logits, tac, tac_tp
from tacjax.mlx.neurons import LIFParams
from tacjax.mlx.nn._neuron import PARALLEL_LIF, run
from tacjax.mlx.nn._spiking import SpikingLayer
from tacjax.mlx.nn._stream import check_batch_shape, check_rank
from tacjax.mlx.nn.init import default_kernel_init
from tacjax.mlx.pooling import max_pool
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__all__ = ["SpikingConv", "SpikingConv1D"]

_SHAPES = {1: "[T, B, L, C]", 2: "[T, B, H, W, C]"}


class _SpikingConvND(SpikingLayer):
    """The shared implementation of ``SpikingConv`` (2 spatial axes) and ``SpikingConv1D`` (1)."""

    spatial_dims = 2

    def __init__(self, in_features: int, out_features: int, kernel_size=3, *, strides=1, padding="SAME",
                 mode: str = "baseline", k: int = 1, neuron=LIFParams(), surrogate: SpikeFn = fast_sigmoid,
                 pool: int | None = 2, learn_beta: bool = False, learn_threshold: bool = False,
                 learn_weights: bool = False, use_bias: bool = False, share: str = "mean",
                 solver: str = "scan", kernel_init=default_kernel_init, key: mx.array | None = None):
        super().__init__()
        fn, n = type(self).__name__, self.spatial_dims
        self.in_features = check_int(in_features, fn, "in_features")
        self.out_features = check_int(out_features, fn, "out_features")
        self.kernel_size = check_window(kernel_size, n, fn, "kernel_size")
        self.strides = check_window(strides, n, fn, "strides")
        self.padding = check_padding(padding, n, fn)
        self.mode = check_choice(mode, MODES, fn, "mode")
        k = check_int(k, fn, "k")
        self.k = k if mode != "baseline" else 1
        self.pool = None if pool is None else check_int(pool, fn, "pool")
        self.share = check_choice(share, SHARES, fn, "share")
        if check_bool(learn_weights, fn, "learn_weights") and mode == "baseline":
            raise ValueError(f"{fn}: learn_weights needs mode 'tac' or 'tac_tp'; got mode 'baseline'.")
        kind = self._init_neuron(neuron, self.out_features, surrogate, learn_beta, learn_threshold, fn,
                                 solver)
        if mode == "tac" and self.solver == "parallel":
            raise ValueError(f"{fn}: solver 'parallel' needs mode 'baseline' or 'tac_tp'; mode 'tac' runs "
                             f"tacjax.tac's collapsed loop (one step per chunk). Use solver 'scan'.")
        if mode == "tac" and not kind.collapse:
            raise ValueError(f"{fn}: mode 'tac' (collapse) needs neuron=LIFParams(...): one step per chunk "
                             f"with leak beta**K is exact only for LIF; got a {kind.name} neuron. Use mode "
                             f"'tac_tp'.")
        check_callable(kernel_init, fn, "kernel_init")
        shape = (*self.kernel_size, self.in_features, self.out_features)
        self.weight = mx.moveaxis(kernel_init(key, shape, mx.float32), -1, 0)  # JAX layout -> OHWI
        if check_bool(use_bias, fn, "use_bias"):
            self.bias = mx.zeros((self.out_features,))
        if learn_weights:
            self.agg_logits = init_weight_logits(self.k, float(np.mean(np.asarray(neuron.beta, np.float64))))

    @property
    def step_frames(self) -> int:
        """1 for "baseline"; K for the TAC modes (``step`` takes a chunk of up to K frames)."""
        return self.k

    def agg_weights(self) -> mx.array:
        """Learned aggregation weights ``K * softmax(agg_logits)`` ``[K]`` (needs ``learn_weights``)."""
        if "agg_logits" not in self:
            raise ValueError(f"{type(self).__name__}.agg_weights: the layer was built without learn_weights.")
        return self.k * mx.softmax(self["agg_logits"])

    def conv(self, x: mx.array) -> mx.array:
        """The linear operator on a batch of frames: ``[N, *spatial, C] -> [N, *spatial_out, O]``."""
        pads = padding_pairs(self.padding, tuple(x.shape[1:-1]), self.kernel_size, self.strides)
        y = mx.conv_general(x, self.weight.astype(x.dtype), stride=list(self.strides),
                            padding=([lo for lo, _ in pads], [hi for _, hi in pads]))
        return y + self["bias"].astype(y.dtype) if "bias" in self else y

    def conv_calls(self, num_steps: int) -> int:
        """Per-sample conv applications for an input of ``num_steps`` frames."""
        return conv_calls(num_steps, self.k, self.mode)

    def out_steps(self, num_steps: int) -> int:
        """Output time steps for ``num_steps`` input steps: ``ceil(T/K)`` for "tac", else T."""
        return math.ceil(num_steps / self.k) if self.mode == "tac" else num_steps

    def _conv_sizes(self, spatial, fn: str) -> tuple[int, ...]:
        return output_sizes(spatial, self.kernel_size, self.strides, self.padding, fn)

    def _state_shape(self, batch_shape) -> tuple[int, ...]:
        fn, n = type(self).__name__, self.spatial_dims
        b = check_batch_shape(batch_shape, n + 1, fn, "(B, H, W)" if n == 2 else "(B, L)")
        return (b[0], *self._conv_sizes(b[1:], fn), self.out_features)

    def output_batch_shape(self, batch_shape) -> tuple[int, ...]:
        """``(B, *spatial)`` of the output: the conv's geometry, then the pool's."""
        b = self._state_shape(batch_shape)[:-1]
        if not self.pool or self.pool == 1:
            return b
        window = (self.pool,) * self.spatial_dims
        return (b[0], *output_sizes(b[1:], window, window, "VALID", type(self).__name__))

    def _frame_rank(self) -> int:
        return self.spatial_dims + 2

    def _agg_kwargs(self, params, k: int) -> dict:
        """Aggregation weights for a chunk of ``k`` frames: the learned ones (their last ``k``), or
        the "beta" weights with the mean beta when beta is per channel (it acts on the inputs)."""
        if "agg_logits" in self:
            return {"weights": self.agg_weights()[self.k - k:]}
        return {"agg_beta": mx.mean(params.beta)} if isinstance(params.beta, mx.array) else {}

    def _fold(self, frames: mx.array) -> mx.array:
        """``conv`` on ``[T', B, ...]`` with T' folded into the batch (one call)."""
        out = self.conv(frames.reshape(-1, *frames.shape[2:]))
        return out.reshape(tuple(frames.shape[:2]) + tuple(out.shape[1:]))

    def _shared_current(self, x, params, k: int) -> mx.array:
        """TAC-TP's drive for any neuron: each chunk's current, repeated for its L steps (x 1/L
        for ``share="mean"``); ``[T, B, ...out]``."""
        kw = self._agg_kwargs(params, k)
        agg = aggregate(x, k, kw.get("weights", "beta"), kw.get("agg_beta", params.beta))
        current = self._fold(agg)
        lengths = chunk_lengths(x.shape[0], k)
        scales = share_scales(lengths, self.share)
        if scales is not None:
            current = current * mx.array(scales.astype(np.float32)).astype(current.dtype).reshape(
                (-1,) + (1,) * (current.ndim - 1))
        return current[mx.array(np.repeat(np.arange(len(lengths)), lengths))]

    def _block(self, x, carry, *, return_membrane: bool, need_state: bool, short_ok: bool):
        fn, n = type(self).__name__, self.spatial_dims
        x = check_rank(x, n + 3, fn, f"{_SHAPES[n]} with C = {self.in_features}")
        if x.shape[-1] != self.in_features:
            raise ValueError(f"{fn}: `x` must be {_SHAPES[n]} with C = {self.in_features}; got shape "
                             f"{tuple(x.shape)}.")
        self._check_carry(carry, tuple(x.shape[1:-1]), fn)
        num_steps = x.shape[0]
        if num_steps < self.k and not short_ok:
            raise ValueError(f"{fn}: `x` has T = {num_steps} frames, fewer than the chunk length "
                             f"k = {self.k}; "
                             f"a sequence needs T >= k (step() takes a shorter last chunk of a stream).")
        k = min(self.k, num_steps)
        params, kind, scan = self.neuron_params(), self.neuron_kind(streaming=short_ok), None
        if self.mode == "baseline":
            inputs = self._fold(x)
        elif isinstance(params, LIFParams) and kind is not PARALLEL_LIF:
            core = tac if self.mode == "tac" else functools.partial(tac_tp, share=self.share)
            kw = self._agg_kwargs(params, k)
            inputs = x

            def scan(xx, p, v0, sg, rm):
                return core(xx, self.conv, k, p, v0=v0, surrogate=sg, return_membrane=rm, **kw)
        else:
            inputs = self._shared_current(x, params, k)
        spikes, membrane, state = run(kind, params, inputs, carry, self.surrogate,
                                      return_membrane=return_membrane, need_state=need_state, scan=scan)
        if self.pool and self.pool > 1:
            spikes = max_pool(spikes, self.pool, spatial_dims=n)
        return state, spikes, membrane


_ARGS = """
    Args:
        in_features: input channels C (an int >= 1).
        out_features: output channels O (an int >= 1).
        kernel_size: kernel side, an int or one int per spatial axis.
        strides: conv strides, an int or one per spatial axis (each >= 1).
        padding: "SAME" (default; XLA's rule), "VALID" or one ``(low, high)`` pair per spatial axis.
        mode: "baseline", "tac" (collapse, LIF only) or "tac_tp" (preserve).
        k: chunk length K for "tac"/"tac_tp" (static); for "baseline" it must still be an int >= 1
            and is stored as 1.
        neuron: the neuron family and its parameters (default ``LIFParams()``); see the neuron
            table in ``tacjax.nn``. Parameters are scalars or ``[O]``.
        surrogate: spike function.
        pool: max-pool window (and stride) applied to the spikes; None or 1: no pooling.
        learn_beta: learn ``beta`` ``[O]`` (used clipped to [0, 1], so IF at 1 is reachable),
            initialised at ``neuron.beta``.
        learn_threshold: learn ``threshold`` ``[O]``, initialised at ``neuron.threshold``.
        learn_weights: (TAC modes) learn the aggregation weights ``K * softmax(agg_logits)``,
            logits initialised by ``tacjax.init_weight_logits(K, mean(neuron.beta))``; the factor K
            keeps the current on the scale of the fixed "beta" weights.
        use_bias: add ``bias`` ``[O]`` after the conv (once per chunk under TAC; breaks exactness).
        share: ("tac_tp") each of a chunk's L steps gets the current / L ("mean", default: the
            study's choice, since "repeat" saturated the neurons in its runs) or the whole current
            ("repeat", the reference code).
        solver: how a LIF neuron is solved over time on a sequence: "scan" (default, ``lif_scan``
            or TAC's own loop) or "parallel" (``tacjax.mlx.neurons.lif_parallel``, exact reset,
            the same spikes up to float rounding at the threshold; modes "baseline" and "tac_tp",
            the latter on the chunk currents repeated over their steps). ``step`` always runs
            the per-step scan.
        kernel_init: ``kernel_init(key, shape, dtype)`` in the JAX layout ``[*kernel, C, O]``.
        key: an MLX PRNG key for the initialisation (optional; MLX's global PRNG otherwise).

    Without ``learn_weights``, a per-channel beta makes the aggregation (which acts on the
    *input* channels) use the mean of the output betas as its decay.
"""


class SpikingConv(_SpikingConvND):
    __doc__ = """Spiking 2-D convolution block on NHWC frames: conv -> neuron -> max-pool of the spikes.

    Parameters: ``weight`` ``[O, kh, kw, C]`` (OHWI), ``bias`` ``[O]`` (``use_bias``), ``beta`` /
    ``threshold`` ``[O]`` (``learn_beta`` / ``learn_threshold``), ``agg_logits`` ``[K]``
    (``learn_weights``).
""" + _ARGS + """
    Call: ``layer(x)`` with ``x`` ``[T, B, H, W, C]`` returns spikes ``[T', B, H'', W'', O]``
    (``T' = ceil(T/K)`` for "tac", else T; ``H'`` the conv's output size, ``H'' = H' // pool``);
    ``return_membrane=True`` gives ``SpikesAndMembrane(spikes, membrane)`` with the membrane before
    reset and before pooling ``[T', B, H', W', O]``. Streaming: ``initialize_carry((B, H, W))``
    and ``step`` (module docstring).
    """

    spatial_dims = 2


class SpikingConv1D(_SpikingConvND):
    __doc__ = """Spiking 1-D convolution block on sequences ``[T, B, L, C]`` (audio channels, SHD).

    Parameters: ``weight`` ``[O, k, C]``, and ``bias``, ``beta``, ``threshold``, ``agg_logits``
    as in ``SpikingConv``.
""" + _ARGS + """
    Call: ``layer(x)`` with ``x`` ``[T, B, L, C]`` returns spikes ``[T', B, L'', O]``; membrane and
    streaming (``initialize_carry((B, L))``) as in ``SpikingConv``.
    """

    spatial_dims = 1
