"""``LIReadout`` in MLX: the twin of ``tacjax.nn.readout`` (dense layer + leaky integrator)."""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from tacjax.common.arguments import check_bool
from tacjax.common.checks import shape_of
from tacjax.mlx.neurons import li_scan
from tacjax.mlx.nn._params import as_tuples, learned_param, unit_clip
from tacjax.mlx.nn._stream import StreamingLayer, check_batch_shape
from tacjax.mlx.nn.dense import dense_current, init_dense
from tacjax.mlx.nn.init import default_kernel_init

__all__ = ["LIReadout"]


class LIReadout(StreamingLayer):
    """Dense layer (``weight`` ``[O, F]``, optional ``bias``) + leaky integrator: returns the membrane.

    Args: as ``tacjax.nn.LIReadout`` (``in_features``, ``out_features``, ``beta``, ``learn_beta``,
    ``use_bias``, ``kernel_init`` in the JAX layout), plus ``key`` instead of ``rngs``. Call,
    ``step`` and ``initialize_carry((B,))`` as there.
    """

    emits_spikes = False

    def __init__(self, in_features: int, out_features: int, *, beta=0.9, learn_beta: bool = False,
                 use_bias: bool = False, kernel_init=default_kernel_init, key: mx.array | None = None):
        super().__init__()
        fn = "LIReadout"
        init_dense(self, in_features, out_features, use_bias, kernel_init, key, fn)
        b = np.asarray(beta, np.float64)
        if b.ndim > 1 or (b.ndim == 1 and b.shape != (self.out_features,)) or not np.all((b >= 0) & (b <= 1)):
            raise ValueError(f"{fn}: `beta` must be a number in [0, 1] or [{self.out_features}] of them; got "
                             f"{b.tolist()}.")
        self.fixed_beta = as_tuples(b)
        if check_bool(learn_beta, fn, "learn_beta"):
            self.beta = learned_param(b, self.out_features, fn, "beta", unit=True)

    def neuron_params(self):
        """The ``beta`` in use: the learned ``[O]`` (clipped to [0, 1]), or the fixed value."""
        if "beta" in self:
            return unit_clip(self["beta"])
        fixed = self.fixed_beta
        return mx.array(np.asarray(fixed, np.float32)) if isinstance(fixed, tuple) else fixed

    def _frame_rank(self) -> int:
        return 2

    def initialize_carry(self, batch_shape) -> mx.array:
        """The membrane at rest ``[B, O]`` for ``batch_shape = (B,)``."""
        (b,) = check_batch_shape(batch_shape, 1, type(self).__name__, "(B,)")
        return mx.zeros((b, self.out_features))

    def _block(self, x, carry, *, return_membrane: bool, need_state: bool, short_ok: bool):
        fn = type(self).__name__
        current = dense_current(self, x, fn)
        want = tuple(current.shape[1:])
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
