"""``LIReadout``: a dense layer followed by a leaky integrator, the non-spiking readout."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from tacjax.common.arguments import check_bool
from tacjax.common.checks import shape_of
from tacjax.neurons import li_scan
from tacjax.nn._params import as_tuples, learned_param, unit_clip
from tacjax.nn._stream import StreamingLayer, check_batch_shape
from tacjax.nn.dense import dense_current, init_dense
from tacjax.nn.init import default_kernel_init

__all__ = ["LIReadout"]


class LIReadout(StreamingLayer):
    """Dense layer (``kernel`` ``[F, O]``, optional ``bias``) + leaky integrator: returns the membrane.

    ``v[t] = beta * v[t-1] + (x @ kernel + bias)[t]`` (``tacjax.neurons.li_scan``): no threshold,
    no spike, no reset, so the membrane ``[T, B, O]`` is the output, a smooth readout of spiking
    hidden layers. Feed it to ``tacjax.train.membrane_cross_entropy`` (``logits="mean"``: the time
    mean, or ``logits="last"``: the last step, the usual choice on audio such as SHD).

    Args:
        in_features: F (an int >= 1).
        out_features: O (an int >= 1).
        beta: decay per step in [0, 1], a scalar or ``[O]`` (``beta = 1``: a perfect integrator).
        learn_beta: learn ``beta`` ``[O]`` (used clipped to [0, 1], as in the spiking layers).
        use_bias: add ``bias`` ``[O]``.
        kernel_init: ``kernel_init(key, shape, dtype)`` for ``kernel``.
        rngs: ``nnx.Rngs``.

    Call: ``layer(x)`` with ``x`` ``[T, B, F]`` returns the membrane ``[T, B, O]``
    (``return_carry=True``: ``(v_final, membrane)``). Streaming: ``initialize_carry((B,))``,
    ``step(v, x_t)`` with ``x_t`` ``[B, F]`` returns ``(v, membrane_t)``.
    """

    emits_spikes = False

    def __init__(self, in_features: int, out_features: int, *, beta=0.9, learn_beta: bool = False,
                 use_bias: bool = False, kernel_init=default_kernel_init, rngs: nnx.Rngs):
        fn = "LIReadout"
        init_dense(self, in_features, out_features, use_bias, kernel_init, rngs, fn)
        b = np.asarray(beta, np.float64)
        if b.ndim > 1 or (b.ndim == 1 and b.shape != (self.out_features,)) or not np.all((b >= 0) & (b <= 1)):
            raise ValueError(f"{fn}: `beta` must be a number in [0, 1] or [{self.out_features}] of them; got "
                             f"{b.tolist()}.")
        self.fixed_beta = as_tuples(b)
        learn_beta = check_bool(learn_beta, fn, "learn_beta")
        self.beta = learned_param(b, self.out_features, fn, "beta", unit=True) if learn_beta else None

    def neuron_params(self):
        """The ``beta`` in use: the learned ``[O]`` (clipped to [0, 1]), or the fixed value."""
        if self.beta is not None:
            return unit_clip(self.beta[...])
        fixed = self.fixed_beta
        return jnp.asarray(fixed, jnp.float32) if isinstance(fixed, tuple) else fixed

    def _frame_rank(self) -> int:
        return 2

    def initialize_carry(self, batch_shape) -> jax.Array:
        """The membrane at rest ``[B, O]`` for ``batch_shape = (B,)``."""
        (b,) = check_batch_shape(batch_shape, 1, type(self).__name__, "(B,)")
        return jnp.zeros((b, self.out_features), jnp.float32)

    def _block(self, x, carry, *, return_membrane: bool, need_state: bool, short_ok: bool):
        fn = type(self).__name__
        current = dense_current(self, x, fn)
        want = current.shape[1:]
        if carry is not None and shape_of(carry) != want:
            raise ValueError(f"{fn}: `carry` must be the membrane [B, O] = {want}; got shape "
                             f"{shape_of(carry)}.")
        membrane, v = li_scan(current, self.neuron_params(), v0=carry)
        return v, membrane, membrane

    def step(self, carry, x):
        """``(v, membrane_t)`` for one frame ``x`` ``[B, F]``."""
        carry, y, _ = self._step(carry, x, return_membrane=False)
        return carry, y

    def __call__(self, x, *, carry=None, return_carry: bool = False):
        """The membrane ``[T, B, O]`` of ``x`` ``[T, B, F]``; ``return_carry``: ``(v_final, membrane)``."""
        carry, membrane, _ = self._block(x, carry, return_membrane=True, need_state=True, short_ok=False)
        return (carry, membrane) if return_carry else membrane
