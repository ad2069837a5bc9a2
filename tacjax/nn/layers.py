"""Flax NNX spiking layers: thin wrappers that hold parameters and call the pure core.

``SpikingConv``: a 'SAME' NHWC convolution (weights HWIO in ``kernel``) followed by LIF
neurons and an optional max-pool, with the temporal mode a constructor argument:

* ``"baseline"``: one convolution per frame, T folded into the batch (one conv call of
  ``T*B`` frames), then ``lif_scan`` over T steps.
* ``"tac"`` (collapse): ``tacjax.tac``: K frames aggregated, one conv per chunk, one LIF step
  per chunk with leak ``beta**K``; output has ``ceil(T/K)`` steps.
* ``"tac_tp"`` (preserve): ``tacjax.tac_tp``: one conv per chunk, K LIF steps per chunk; output
  keeps T steps.

**Order of operations (the same everywhere in tacjax.models): conv -> LIF -> max-pool of the
spikes.** The reference (mlx-snn) Fashion-MNIST network pools the conv output before the LIF; max-pool is
not linear, so pooling there would sit inside TAC's aggregated operator and break the
statement that TAC with reset "none" equals the per-frame membrane at chunk ends. Pooling
the binary spikes afterwards keeps the TAC operator a pure (linear) convolution; on binary
spikes a 2x2 max-pool is a logical OR of the four neurons. The price: the LIF runs at the
conv's full resolution (4x more neurons than pool-before-LIF).

Parameters (the structure an MLX mirror reproduces):
``kernel`` ``[kh, kw, in, out]`` (HWIO), ``bias`` ``[out]`` if ``use_bias``, ``beta_logit``
``[out]`` if ``learn_beta`` (``beta = sigmoid(beta_logit)``), ``agg_logits`` ``[K]`` if
``learn_weights`` (aggregation weights ``K * softmax(agg_logits)``). LIF constants are static.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from tacjax.aggregate import MODES, conv_calls, init_weight_logits, tac, tac_tp
from tacjax.neurons import LIFParams, lif_scan
from tacjax.surrogate import SpikeFn, fast_sigmoid

__all__ = ["SpikingConv", "SpikingDense", "default_kernel_init", "max_pool_spikes"]


def default_kernel_init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
    """He (Kaiming) uniform ``U(-b, b)``, ``b = sqrt(6 / fan_in)``, fan_in = ``prod(shape[:-1])``.

    Chosen over PyTorch's ``b = 1/sqrt(fan_in)``, which left the deeper layers of the study's
    networks silent at initialisation on sparse event input (no spikes, no gradient signal).
    """
    bound = math.sqrt(6.0 / math.prod(shape[:-1]))
    return jax.random.uniform(key, shape, dtype, -bound, bound)


def max_pool_spikes(x: jax.Array, pool: int) -> jax.Array:
    """Non-overlapping ``pool x pool`` max-pool of ``[..., H, W, C]``; odd borders are dropped.

    Returns ``[..., H // pool, W // pool, C]``.
    """
    h, w, c = x.shape[-3:]
    ho, wo = h // pool, w // pool
    x = x[..., : ho * pool, : wo * pool, :]
    x = x.reshape(*x.shape[:-3], ho, pool, wo, pool, c)
    return x.max(axis=(-4, -2))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _freeze(lif: LIFParams) -> LIFParams:
    """A copy of ``lif`` with array fields as nested tuples (static module attributes hold no arrays)."""
    def f(v):
        a = jnp.asarray(v)
        return float(a) if a.ndim == 0 else tuple(map(float, a.reshape(-1))) if a.ndim == 1 else a.tolist()
    if not isinstance(lif, LIFParams):
        raise TypeError(f"`lif` must be a LIFParams; got {type(lif).__name__}.")
    return LIFParams(f(lif.beta), f(lif.threshold), lif.reset, lif.detach_reset)


def _thaw(lif: LIFParams, beta=None) -> LIFParams:
    """LIFParams with jnp fields (``beta`` overrides the stored decay when given)."""
    b = jnp.asarray(lif.beta, jnp.float32) if beta is None else beta
    return LIFParams(b, jnp.asarray(lif.threshold, jnp.float32), lif.reset, lif.detach_reset)


def _check_beta(beta, fn: str) -> None:
    b = jnp.asarray(beta)
    if b.ndim == 0 and not 0.0 < float(b) < 1.0:
        raise ValueError(f"{fn}: learn_beta needs 0 < lif.beta < 1 (sigmoid parametrisation); "
                         f"got beta={float(b)}.")


class SpikingConv(nnx.Module):
    """Spiking convolution block: conv ('SAME', stride 1, NHWC/HWIO) -> LIF -> max-pool.

    Args:
        in_features: input channels C.
        out_features: output channels O.
        kernel_size: square kernel side.
        mode: "baseline", "tac" (collapse) or "tac_tp" (preserve).
        k: chunk length K for "tac"/"tac_tp" (ignored for "baseline"); static.
        lif: LIF parameters (``beta`` scalar or ``(O,)``, ``threshold``, ``reset``).
        surrogate: spike function.
        pool: max-pool window (and stride) applied to the spikes, or None.
        learn_beta: learn a per-channel ``beta = sigmoid(beta_logit)`` ``[O]``, initialised at
            ``lif.beta`` (scalar in ``(0, 1)``).
        learn_weights: ("tac"/"tac_tp") learn the aggregation weights ``K * softmax(agg_logits)``,
            logits initialised by ``tacjax.init_weight_logits(K, beta)``. The factor K keeps the
            current on the scale of the fixed "beta" weights (which sum to about K; a plain
            softmax sums to 1 and silenced the layer at init).
        use_bias: add a bias ``[O]`` after the conv (once per chunk under TAC; breaks exactness).
        share: ("tac_tp" only) each of a chunk's K LIF steps gets the chunk current ("repeat", as
            in the reference code) or the current / K ("mean").
        kernel_init: initialiser for ``kernel`` (default ``default_kernel_init``).
        rngs: ``nnx.Rngs``.

    With ``learn_beta`` (or a per-channel ``lif.beta``) the aggregation, which acts on the
    *input* channels before the conv, uses the mean of the output betas as its scalar decay.

    Call: ``layer(x)`` with ``x`` ``[T, B, H, W, C]`` returns spikes ``[T', B, H', W', O]`` with
    ``T' = ceil(T/K)`` for "tac" (else T), ``H' = H // pool``; ``return_membrane=True`` also
    returns the membrane before reset ``[T', B, H, W, O]`` (before pooling).
    """

    def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, *,
                 mode: str = "baseline", k: int = 1, lif: LIFParams = LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, pool: int | None = 2, learn_beta: bool = False,
                 learn_weights: bool = False, use_bias: bool = False, share: str = "repeat",
                 kernel_init=default_kernel_init, rngs: nnx.Rngs):
        if mode not in MODES:
            raise ValueError(f"SpikingConv: unknown mode {mode!r}; expected one of {MODES}.")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"SpikingConv: `k` must be an int >= 1; got {k!r}.")
        if pool is not None and (not isinstance(pool, int) or pool < 1):
            raise ValueError(f"SpikingConv: `pool` must be a positive int or None; got {pool!r}.")
        if share not in ("repeat", "mean"):
            raise ValueError(f"SpikingConv: `share` must be 'repeat' or 'mean'; got {share!r}.")
        if learn_weights and mode == "baseline":
            raise ValueError("SpikingConv: learn_weights needs mode 'tac' or 'tac_tp'.")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.kernel_size, self.mode, self.k = int(kernel_size), mode, int(k) if mode != "baseline" else 1
        self.lif, self.surrogate, self.pool, self.share = _freeze(lif), surrogate, pool, share
        shape = (self.kernel_size, self.kernel_size, self.in_features, self.out_features)
        self.kernel = nnx.Param(kernel_init(rngs.params(), shape, jnp.float32))
        self.bias = nnx.Param(jnp.zeros((self.out_features,), jnp.float32)) if use_bias else None
        if learn_beta:
            _check_beta(lif.beta, "SpikingConv")
            init = jnp.broadcast_to(jnp.asarray(lif.beta, jnp.float32), (self.out_features,))
            self.beta_logit = nnx.Param(jnp.log(init / (1.0 - init)))
        else:
            self.beta_logit = None
        if learn_weights:
            self.agg_logits = nnx.Param(init_weight_logits(self.k, float(jnp.mean(jnp.asarray(lif.beta)))))
        else:
            self.agg_logits = None

    def params(self) -> LIFParams:
        """The LIF parameters in use (with the learned per-channel beta if any)."""
        if self.beta_logit is None:
            return _thaw(self.lif)
        return _thaw(self.lif, jax.nn.sigmoid(self.beta_logit[...]))

    def agg_weights(self) -> jax.Array:
        """Learned aggregation weights ``K * softmax(agg_logits)`` ``[K]`` (needs ``learn_weights``)."""
        if self.agg_logits is None:
            raise ValueError("SpikingConv.agg_weights: the layer was built without learn_weights.")
        return self.k * jax.nn.softmax(self.agg_logits[...])

    def conv(self, x: jax.Array) -> jax.Array:
        """The linear operator: ``[N, H, W, C] -> [N, H, W, O]`` (plus bias if any)."""
        y = jax.lax.conv_general_dilated(x, self.kernel[...].astype(x.dtype), (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        if self.bias is not None:
            y = y + self.bias[...].astype(y.dtype)
        return y

    def conv_calls(self, num_steps: int) -> int:
        """Per-sample conv applications for an input of ``num_steps`` frames."""
        return conv_calls(num_steps, self.k, self.mode)

    def out_steps(self, num_steps: int) -> int:
        """Output time steps for ``num_steps`` input steps."""
        return math.ceil(num_steps / self.k) if self.mode == "tac" else num_steps

    def __call__(self, x: jax.Array, *, return_membrane: bool = False):
        if x.ndim != 5 or x.shape[-1] != self.in_features:
            raise ValueError(f"SpikingConv: `x` must be [T, B, H, W, C] with C = {self.in_features}; "
                             f"got shape {x.shape}.")
        params = self.params()
        if self.mode == "baseline":
            t, b = x.shape[:2]
            cur = self.conv(x.reshape(t * b, *x.shape[2:]))
            cur = cur.reshape(t, b, *cur.shape[1:])
            spikes, mem = lif_scan(cur, params, surrogate=self.surrogate, return_membrane=return_membrane)
        else:
            if self.agg_logits is not None:
                kw = dict(weights=self.agg_weights().astype(x.dtype))
            elif jnp.ndim(params.beta) > 0:
                kw = dict(agg_beta=jnp.mean(jnp.asarray(params.beta)).astype(x.dtype))
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
        return (spikes, mem) if return_membrane else spikes


class SpikingDense(nnx.Module):
    """Dense layer + LIF over time (the readout).

    Args:
        in_features: F.
        out_features: O.
        lif: LIF parameters.
        surrogate: spike function.
        use_bias: add ``bias`` ``[O]``.
        learn_beta: learn a per-neuron ``beta = sigmoid(beta_logit)`` ``[O]``.
        kernel_init: initialiser for ``kernel`` ``[F, O]``.
        rngs: ``nnx.Rngs``.

    Call: ``layer(x)`` with ``x`` ``[T, B, F]`` returns spikes ``[T, B, O]``; with
    ``return_membrane=True`` returns ``(spikes, membrane)``, the membrane before reset ``[T, B, O]``.
    """

    def __init__(self, in_features: int, out_features: int, *, lif: LIFParams = LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, use_bias: bool = False, learn_beta: bool = False,
                 kernel_init=default_kernel_init, rngs: nnx.Rngs):
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.lif, self.surrogate = _freeze(lif), surrogate
        self.kernel = nnx.Param(kernel_init(rngs.params(), (self.in_features, self.out_features),
                                            jnp.float32))
        self.bias = nnx.Param(jnp.zeros((self.out_features,), jnp.float32)) if use_bias else None
        if learn_beta:
            _check_beta(lif.beta, "SpikingDense")
            init = jnp.broadcast_to(jnp.asarray(lif.beta, jnp.float32), (self.out_features,))
            self.beta_logit = nnx.Param(jnp.log(init / (1.0 - init)))
        else:
            self.beta_logit = None

    def params(self) -> LIFParams:
        """The LIF parameters in use."""
        if self.beta_logit is None:
            return _thaw(self.lif)
        return _thaw(self.lif, jax.nn.sigmoid(self.beta_logit[...]))

    def __call__(self, x: jax.Array, *, return_membrane: bool = False):
        if x.ndim != 3 or x.shape[-1] != self.in_features:
            raise ValueError(f"SpikingDense: `x` must be [T, B, F] with F = {self.in_features}; "
                             f"got shape {x.shape}.")
        cur = x @ self.kernel[...].astype(x.dtype)
        if self.bias is not None:
            cur = cur + self.bias[...].astype(cur.dtype)
        spikes, mem = lif_scan(cur, self.params(), surrogate=self.surrogate,
                               return_membrane=return_membrane)
        return (spikes, mem) if return_membrane else spikes
