"""``mlx.nn`` spiking layers mirroring ``tacjax.nn`` (Flax NNX): ``SpikingConv``, ``SpikingDense``.

Same constructor arguments (minus ``rngs``: pass ``key=mx.random.key(seed)`` or rely on MLX's
global PRNG), the same order of operations (**conv -> LIF -> max-pool of the spikes**), the same
temporal modes ("baseline", "tac", "tac_tp") and the same call signature (``return_membrane=True``
gives ``SpikesAndMembrane(spikes, membrane)``); ``lif_params()`` gives the LIF parameters in use.

Parameters (``module.parameters()``), MLX layouts:

===============  =========================  ==========================================
MLX name         shape                      Flax NNX counterpart
===============  =========================  ==========================================
``weight``       ``[O, kh, kw, C]`` (conv)  ``kernel`` ``[kh, kw, C, O]`` (HWIO)
``weight``       ``[O, F]`` (dense)         ``kernel`` ``[F, O]``
``bias``         ``[O]``                    ``bias``
``beta_logit``   ``[O]``                    ``beta_logit`` (``beta = sigmoid(beta_logit)``)
``agg_logits``   ``[K]``                    ``agg_logits`` (weights ``K * softmax(agg_logits)``)
===============  =========================  ==========================================

``tacjax.mlx.convert`` copies weights between the two. The convolution is 'SAME', stride 1,
cross-correlation, like ``lax.conv_general_dilated`` in the JAX layer (for even kernels the extra
padding goes to the bottom/right, as XLA's 'SAME' does).
"""

from __future__ import annotations

import math

import mlx.core as mx
import mlx.nn as mnn
import numpy as np

from tacjax.common.arguments import check_callable, check_choice, check_int
from tacjax.common.outputs import SpikesAndMembrane
from tacjax.mlx.aggregate import MODES, conv_calls, init_weight_logits, tac, tac_tp
from tacjax.mlx.neurons import LIFParams, lif_scan
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__all__ = ["SpikingConv", "SpikingDense", "default_kernel_init", "max_pool_spikes"]


def default_kernel_init(key: mx.array | None, shape, dtype=mx.float32) -> mx.array:
    """He (Kaiming) uniform ``U(-b, b)``, ``b = sqrt(6 / fan_in)``, in the *JAX* layout ``shape``
    (fan_in = prod(shape[:-1])): the same distribution as ``tacjax.nn.default_kernel_init``
    (not the same numbers: MLX and JAX PRNGs differ; convert weights to share them)."""
    bound = math.sqrt(6.0 / math.prod(shape[:-1]))
    return mx.random.uniform(-bound, bound, tuple(shape), dtype, key=key)


def max_pool_spikes(x: mx.array, pool: int) -> mx.array:
    """Non-overlapping ``pool x pool`` max-pool of ``[..., H, W, C]``; odd borders are dropped.

    Args:
        x: at least 3-D ``[..., H, W, C]`` with ``H, W >= pool``.
        pool: window side and stride, an int >= 1.

    Returns ``[..., H // pool, W // pool, C]``.
    """
    pool = check_int(pool, "max_pool_spikes", "pool")
    if x.ndim < 3 or min(x.shape[-3:-1]) < pool:
        raise ValueError(f"max_pool_spikes: `x` must be [..., H, W, C] with H, W >= pool = {pool}; "
                         f"got shape {tuple(x.shape)}.")
    h, w, c = x.shape[-3:]
    ho, wo = h // pool, w // pool
    x = x[..., : ho * pool, : wo * pool, :]
    x = x.reshape(*x.shape[:-3], ho, pool, wo, pool, c)
    return x.max(axis=(-4, -2))


def _split(key, n):
    return [None] * n if key is None else list(mx.random.split(key, n))


def _lif_params(lif: LIFParams, beta_logit) -> LIFParams:
    b = mx.array(lif.beta, mx.float32) if beta_logit is None else mx.sigmoid(beta_logit)
    return LIFParams(b, mx.array(lif.threshold, mx.float32), lif.reset, lif.detach_reset)


def _check_lif(lif, fn: str) -> None:
    if not isinstance(lif, LIFParams):
        raise TypeError(f"{fn}: `lif` must be a tacjax.mlx.LIFParams; got {type(lif).__name__}.")


def _beta_logit(beta, out_features: int, fn: str) -> mx.array:
    """``beta_logit`` ``[O]`` with ``sigmoid(beta_logit) = beta``; every beta must lie in (0, 1)."""
    b = np.asarray(beta, np.float64)
    if b.ndim > 1 or (b.ndim == 1 and b.shape != (out_features,)) or not np.all((b > 0) & (b < 1)):
        raise ValueError(f"{fn}: learn_beta needs lif.beta a scalar or [{out_features}], each in (0, 1) "
                         f"(sigmoid parametrisation); got beta={b.tolist()}.")
    init = mx.broadcast_to(mx.array(b, mx.float32), (out_features,))
    return mx.log(init / (1.0 - init))


def _check_sizes(fn: str, **sizes) -> tuple[int, ...]:
    return tuple(check_int(v, fn, name) for name, v in sizes.items())


class SpikingConv(mnn.Module):
    """Spiking convolution block: conv ('SAME', stride 1, NHWC, weight OHWI) -> LIF -> max-pool.

    Args: as ``tacjax.nn.SpikingConv`` (``in_features``, ``out_features``, ``kernel_size``, ``mode``,
    ``k``, ``lif``, ``surrogate``, ``pool``, ``learn_beta``, ``learn_weights``, ``use_bias``,
    ``share``, ``kernel_init`` called as ``kernel_init(key, (kh, kw, C, O))`` in the JAX layout),
    plus ``key`` (an MLX PRNG key, optional) instead of ``rngs``.

    Call: ``layer(x)`` with ``x`` ``[T, B, H, W, C]`` returns spikes ``[T', B, H', W', O]``
    (``T' = ceil(T/K)`` for "tac", else T; ``H' = H // pool``); ``return_membrane=True`` returns
    ``SpikesAndMembrane(spikes, membrane)`` with the membrane before reset ``[T', B, H, W, O]``
    (before pooling).
    """

    def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, *,
                 mode: str = "baseline", k: int = 1, lif: LIFParams = LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, pool: int | None = 2, learn_beta: bool = False,
                 learn_weights: bool = False, use_bias: bool = False, share: str = "repeat",
                 kernel_init=default_kernel_init, key: mx.array | None = None):
        super().__init__()
        fn = "SpikingConv"
        self.in_features, self.out_features, self.kernel_size = _check_sizes(
            fn, in_features=in_features, out_features=out_features, kernel_size=kernel_size)
        self.mode = check_choice(mode, MODES, fn, "mode")
        k = check_int(k, fn, "k")
        self.k = k if mode != "baseline" else 1
        self.pool = None if pool is None else check_int(pool, fn, "pool")
        self.share = check_choice(share, ("repeat", "mean"), fn, "share")
        if learn_weights and mode == "baseline":
            raise ValueError("SpikingConv: learn_weights needs mode 'tac' or 'tac_tp'; got mode 'baseline'.")
        _check_lif(lif, fn)
        self.lif = lif
        self.surrogate = check_callable(surrogate, fn, "surrogate", expected="a spike function (e.g. "
                                        "tacjax.mlx.fast_sigmoid or tacjax.mlx.get_surrogate('atan'))")
        check_callable(kernel_init, fn, "kernel_init")
        hwio = kernel_init(key, (self.kernel_size, self.kernel_size, self.in_features,
                                 self.out_features), mx.float32)
        self.weight = mx.transpose(hwio, (3, 0, 1, 2))
        if use_bias:
            self.bias = mx.zeros((self.out_features,))
        if learn_beta:
            self.beta_logit = _beta_logit(lif.beta, self.out_features, fn)
        if learn_weights:
            beta = mx.mean(mx.array(lif.beta, mx.float32)).item()
            self.agg_logits = init_weight_logits(self.k, beta)

    def lif_params(self) -> LIFParams:
        """The LIF parameters in use (with the learned per-channel beta ``[O]`` if any), as arrays."""
        return _lif_params(self.lif, self.get("beta_logit"))

    def agg_weights(self) -> mx.array:
        """Learned aggregation weights ``K * softmax(agg_logits)`` ``[K]`` (needs ``learn_weights``)."""
        if "agg_logits" not in self:
            raise ValueError("SpikingConv.agg_weights: the layer was built without learn_weights.")
        return self.k * mx.softmax(self["agg_logits"])

    def conv(self, x: mx.array) -> mx.array:
        """The linear operator: ``[N, H, W, C] -> [N, H, W, O]`` (plus bias if any)."""
        ks = self.kernel_size
        pad = ([(ks - 1) // 2] * 2, [ks // 2] * 2)  # XLA's 'SAME' for stride 1: extra row/col at the end
        y = mx.conv_general(x, self.weight.astype(x.dtype), padding=pad)
        if "bias" in self:
            y = y + self["bias"].astype(y.dtype)
        return y

    def conv_calls(self, num_steps: int) -> int:
        """Per-sample conv applications for an input of ``num_steps`` frames."""
        return conv_calls(num_steps, self.k, self.mode)

    def out_steps(self, num_steps: int) -> int:
        """Output time steps for ``num_steps`` input steps."""
        return math.ceil(num_steps / self.k) if self.mode == "tac" else num_steps

    def __call__(self, x: mx.array, *, return_membrane: bool = False):
        if x.ndim != 5 or x.shape[-1] != self.in_features:
            raise ValueError(f"SpikingConv: `x` must be [T, B, H, W, C] with C = {self.in_features}; "
                             f"got shape {tuple(x.shape)}.")
        params = self.lif_params()
        if self.mode == "baseline":
            t, b = x.shape[:2]
            cur = self.conv(x.reshape(t * b, *x.shape[2:]))
            cur = cur.reshape(t, b, *cur.shape[1:])
            spikes, mem = lif_scan(cur, params, surrogate=self.surrogate, return_membrane=return_membrane)
        else:
            if "agg_logits" in self:
                kw = dict(weights=self.agg_weights().astype(x.dtype))
            elif params.beta.ndim > 0:
                kw = dict(agg_beta=mx.mean(params.beta).astype(x.dtype))
            else:
                kw = {}
            if self.mode == "tac":
                spikes, mem = tac(x, self.conv, self.k, params, surrogate=self.surrogate,
                                  return_membrane=return_membrane, **kw)
            else:
                spikes, mem = tac_tp(x, self.conv, self.k, params, share=self.share,
                                     surrogate=self.surrogate, return_membrane=return_membrane, **kw)
        if self.pool is not None and self.pool > 1:
            spikes = max_pool_spikes(spikes, self.pool)
        return SpikesAndMembrane(spikes, mem) if return_membrane else spikes


class SpikingDense(mnn.Module):
    """Dense layer (weight ``[O, F]``, as ``mlx.nn.Linear``) + LIF over time (the readout).

    Args: as ``tacjax.nn.SpikingDense`` (``in_features``, ``out_features``, ``lif``, ``surrogate``,
    ``use_bias``, ``learn_beta``, ``kernel_init`` in the JAX layout ``(F, O)``), plus ``key``.

    Call: ``layer(x)`` with ``x`` ``[T, B, F]`` returns spikes ``[T, B, O]``; with
    ``return_membrane=True`` returns ``SpikesAndMembrane(spikes, membrane)``, the membrane before
    reset ``[T, B, O]``.
    """

    def __init__(self, in_features: int, out_features: int, *,
                 lif: LIFParams = LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, use_bias: bool = False, learn_beta: bool = False,
                 kernel_init=default_kernel_init, key: mx.array | None = None):
        super().__init__()
        fn = "SpikingDense"
        self.in_features, self.out_features = _check_sizes(fn, in_features=in_features,
                                                           out_features=out_features)
        _check_lif(lif, fn)
        self.lif = lif
        self.surrogate = check_callable(surrogate, fn, "surrogate", expected="a spike function (e.g. "
                                        "tacjax.mlx.fast_sigmoid or tacjax.mlx.get_surrogate('atan'))")
        check_callable(kernel_init, fn, "kernel_init")
        self.weight = kernel_init(key, (self.in_features, self.out_features), mx.float32).T
        if use_bias:
            self.bias = mx.zeros((self.out_features,))
        if learn_beta:
            self.beta_logit = _beta_logit(lif.beta, self.out_features, fn)

    def lif_params(self) -> LIFParams:
        """The LIF parameters in use (with the learned per-neuron beta ``[O]`` if any), as arrays."""
        return _lif_params(self.lif, self.get("beta_logit"))

    def __call__(self, x: mx.array, *, return_membrane: bool = False):
        if x.ndim != 3 or x.shape[-1] != self.in_features:
            raise ValueError(f"SpikingDense: `x` must be [T, B, F] with F = {self.in_features}; "
                             f"got shape {tuple(x.shape)}.")
        cur = x @ self.weight.T.astype(x.dtype)
        if "bias" in self:
            cur = cur + self["bias"].astype(cur.dtype)
        spikes, mem = lif_scan(cur, self.lif_params(), surrogate=self.surrogate,
                               return_membrane=return_membrane)
        return SpikesAndMembrane(spikes, mem) if return_membrane else spikes
