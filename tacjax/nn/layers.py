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
``learn_weights`` (aggregation weights ``K * softmax(agg_logits)``). LIF constants are static
(``lif_params()`` gives the ones in use). With ``return_membrane=True`` a layer returns
``SpikesAndMembrane(spikes, membrane)`` (``tacjax.common.outputs``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from tacjax._pool import max_pool
from tacjax.aggregate import MODES, conv_calls, init_weight_logits, tac, tac_tp
from tacjax.common.arguments import check_callable, check_choice, check_int
from tacjax.common.outputs import SpikesAndMembrane
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

    Args:
        x: at least 3-D ``[..., H, W, C]`` with ``H, W >= pool``.
        pool: window side and stride, an int >= 1.

    Returns ``[..., H // pool, W // pool, C]``.
    """
    pool = check_int(pool, "max_pool_spikes", "pool")
    if jnp.ndim(x) < 3 or min(x.shape[-3:-1]) < pool:
        raise ValueError(f"max_pool_spikes: `x` must be [..., H, W, C] with H, W >= pool = {pool}; "
                         f"got shape {jnp.shape(x)}.")
    return max_pool(jnp.asarray(x), pool)  # JAX's max gradient, cheaper backward (tacjax._pool)


def _tuples(a: np.ndarray):
    """A float for a 0-d array, else nested tuples of floats of the same shape."""
    return float(a) if a.ndim == 0 else tuple(_tuples(row) for row in a)


def _freeze(lif: LIFParams, fn: str) -> LIFParams:
    """A copy of ``lif`` whose ``beta``/``threshold`` are a float or nested tuples of floats (static
    module attributes hold no arrays); ``_thaw`` turns them back into arrays of the same shape."""
    if not isinstance(lif, LIFParams):
        raise TypeError(f"{fn}: `lif` must be a tacjax.LIFParams; got {type(lif).__name__}.")
    beta, threshold = (_tuples(np.asarray(v, np.float64)) for v in (lif.beta, lif.threshold))
    return LIFParams(beta, threshold, lif.reset, lif.detach_reset)


def _thaw(lif: LIFParams, beta_logit) -> LIFParams:
    """LIFParams with jnp fields; ``beta = sigmoid(beta_logit)`` when a learned logit is given."""
    b = jnp.asarray(lif.beta, jnp.float32) if beta_logit is None else jax.nn.sigmoid(beta_logit[...])
    return LIFParams(b, jnp.asarray(lif.threshold, jnp.float32), lif.reset, lif.detach_reset)


def _beta_logit(beta, out_features: int, fn: str) -> nnx.Param:
    """``beta_logit`` ``[O]`` with ``sigmoid(beta_logit) = beta``; every beta must lie in (0, 1)."""
    b = np.asarray(beta, np.float64)
    if b.ndim > 1 or (b.ndim == 1 and b.shape != (out_features,)) or not np.all((b > 0) & (b < 1)):
        raise ValueError(f"{fn}: learn_beta needs lif.beta a scalar or [{out_features}], each in (0, 1) "
                         f"(sigmoid parametrisation); got beta={b.tolist()}.")
    init = jnp.broadcast_to(jnp.asarray(b, jnp.float32), (out_features,))
    return nnx.Param(jnp.log(init / (1.0 - init)))


def _check_sizes(fn: str, **sizes) -> tuple[int, ...]:
    return tuple(check_int(v, fn, name) for name, v in sizes.items())


class SpikingConv(nnx.Module):
    """Spiking convolution block: conv ('SAME', stride 1, NHWC/HWIO) -> LIF -> max-pool.

    Args:
        in_features: input channels C (an int >= 1).
        out_features: output channels O (an int >= 1).
        kernel_size: square kernel side (an int >= 1).
        mode: "baseline", "tac" (collapse) or "tac_tp" (preserve).
        k: chunk length K for "tac"/"tac_tp"; static. For "baseline" it must still be an int >= 1
            and is stored as 1.
        lif: LIF parameters (``beta`` and ``threshold`` scalars or ``(O,)``, ``reset``).
        surrogate: spike function.
        pool: max-pool window (and stride) applied to the spikes; None or 1: no pooling.
        learn_beta: learn a per-channel ``beta = sigmoid(beta_logit)`` ``[O]``, initialised at
            ``lif.beta`` (a scalar or ``(O,)``, every value in ``(0, 1)``).
        learn_weights: ("tac"/"tac_tp") learn the aggregation weights ``K * softmax(agg_logits)``,
            logits initialised by ``tacjax.init_weight_logits(K, mean(lif.beta))``. The factor K
            keeps the current on the scale of the fixed "beta" weights (which sum to about K; a
            plain softmax sums to 1 and silenced the layer at init).
        use_bias: add a bias ``[O]`` after the conv (once per chunk under TAC; breaks exactness).
        share: ("tac_tp" only) each of a chunk's K LIF steps gets the chunk current ("repeat", as
            in the reference code) or the current / K ("mean").
        kernel_init: ``kernel_init(key, shape, dtype)`` for ``kernel`` (default ``default_kernel_init``).
        rngs: ``nnx.Rngs``.

    Without ``learn_weights``, a per-channel beta (``learn_beta`` or a ``(O,)`` ``lif.beta``) makes
    the aggregation, which acts on the *input* channels before the conv, use the mean of the
    output betas as its scalar decay.

    Call: ``layer(x)`` with ``x`` ``[T, B, H, W, C]`` returns spikes ``[T', B, H', W', O]`` with
    ``T' = ceil(T/K)`` for "tac" (else T), ``H' = H // pool``; ``return_membrane=True`` returns
    ``SpikesAndMembrane(spikes, membrane)`` with the membrane before reset ``[T', B, H, W, O]``
    (before pooling).
    """

    def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, *,
                 mode: str = "baseline", k: int = 1, lif: LIFParams = LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, pool: int | None = 2, learn_beta: bool = False,
                 learn_weights: bool = False, use_bias: bool = False, share: str = "repeat",
                 kernel_init=default_kernel_init, rngs: nnx.Rngs):
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
        self.lif = _freeze(lif, fn)
        self.surrogate = check_callable(surrogate, fn, "surrogate", expected="a spike function (e.g. "
                                        "tacjax.fast_sigmoid or tacjax.get_surrogate('atan'))")
        check_callable(kernel_init, fn, "kernel_init")
        shape = (self.kernel_size, self.kernel_size, self.in_features, self.out_features)
        self.kernel = nnx.Param(kernel_init(rngs.params(), shape, jnp.float32))
        self.bias = nnx.Param(jnp.zeros((self.out_features,), jnp.float32)) if use_bias else None
        self.beta_logit = _beta_logit(lif.beta, self.out_features, fn) if learn_beta else None
        if learn_weights:
            self.agg_logits = nnx.Param(init_weight_logits(self.k, float(np.mean(lif.beta))))
        else:
            self.agg_logits = None

    def lif_params(self) -> LIFParams:
        """The LIF parameters in use (with the learned per-channel beta ``[O]`` if any), as arrays."""
        return _thaw(self.lif, self.beta_logit)

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
        params = self.lif_params()
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
        return SpikesAndMembrane(spikes, mem) if return_membrane else spikes


class SpikingDense(nnx.Module):
    """Dense layer + LIF over time (the readout).

    Args:
        in_features: F (an int >= 1).
        out_features: O (an int >= 1).
        lif: LIF parameters (``beta`` and ``threshold`` scalars or ``(O,)``).
        surrogate: spike function.
        use_bias: add ``bias`` ``[O]``.
        learn_beta: learn a per-neuron ``beta = sigmoid(beta_logit)`` ``[O]``, initialised at
            ``lif.beta`` (every value in ``(0, 1)``).
        kernel_init: ``kernel_init(key, shape, dtype)`` for ``kernel`` ``[F, O]``.
        rngs: ``nnx.Rngs``.

    Call: ``layer(x)`` with ``x`` ``[T, B, F]`` returns spikes ``[T, B, O]``; with
    ``return_membrane=True`` returns ``SpikesAndMembrane(spikes, membrane)``, the membrane before
    reset ``[T, B, O]``.
    """

    def __init__(self, in_features: int, out_features: int, *, lif: LIFParams = LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, use_bias: bool = False, learn_beta: bool = False,
                 kernel_init=default_kernel_init, rngs: nnx.Rngs):
        fn = "SpikingDense"
        self.in_features, self.out_features = _check_sizes(fn, in_features=in_features,
                                                           out_features=out_features)
        self.lif = _freeze(lif, fn)
        self.surrogate = check_callable(surrogate, fn, "surrogate", expected="a spike function (e.g. "
                                        "tacjax.fast_sigmoid or tacjax.get_surrogate('atan'))")
        check_callable(kernel_init, fn, "kernel_init")
        self.kernel = nnx.Param(kernel_init(rngs.params(), (self.in_features, self.out_features),
                                            jnp.float32))
        self.bias = nnx.Param(jnp.zeros((self.out_features,), jnp.float32)) if use_bias else None
        self.beta_logit = _beta_logit(lif.beta, self.out_features, fn) if learn_beta else None

    def lif_params(self) -> LIFParams:
        """The LIF parameters in use (with the learned per-neuron beta ``[O]`` if any), as arrays."""
        return _thaw(self.lif, self.beta_logit)

    def __call__(self, x: jax.Array, *, return_membrane: bool = False):
        if x.ndim != 3 or x.shape[-1] != self.in_features:
            raise ValueError(f"SpikingDense: `x` must be [T, B, F] with F = {self.in_features}; "
                             f"got shape {x.shape}.")
        cur = x @ self.kernel[...].astype(x.dtype)
        if self.bias is not None:
            cur = cur + self.bias[...].astype(cur.dtype)
        spikes, mem = lif_scan(cur, self.lif_params(), surrogate=self.surrogate,
                               return_membrane=return_membrane)
        return SpikesAndMembrane(spikes, mem) if return_membrane else spikes
