"""The reference strategy: XLA's convolution, and the dense (fully connected) layer as its 1x1 case.

**Dense layers.** Every strategy in ``tacjax.sparse.STRATEGIES`` takes a convolution's arguments.
A fully connected layer ``x [N, I] @ w [I, O]`` is the special case of a 1x1 image and a 1x1
kernel: ``spikes [N, 1, 1, I]`` and ``w [1, 1, I, O]``. ``as_fc`` turns any strategy into a dense
layer that way, so the strategies are compared on dense layers with no second code path.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.sparse._common import Padding, check_conv_args, geometry

__all__ = ["as_fc", "conv"]


def conv(spikes: jax.Array, w: jax.Array, *, stride=1, padding: Padding = "SAME") -> jax.Array:
    """Dense 2-D convolution (``lax.conv_general_dilated``, NHWC / HWIO): the reference.

    Args:
        spikes: input ``[N, H, W, C]`` (any values; binary spikes are not required).
        w: weights ``[kh, kw, C, O]``.
        stride: int or ``(sh, sw)``.
        padding: "SAME", "VALID", an int, or ``((top, bottom), (left, right))``.

    Returns:
        ``[N, Ho, Wo, O]`` in ``w.dtype``.
    """
    spikes, w = check_conv_args(spikes, w, "conv")
    s, p, _ = geometry(spikes.shape, w.shape, stride, padding, "conv")
    return jax.lax.conv_general_dilated(spikes, w, s, p, dimension_numbers=("NHWC", "HWIO", "NHWC"))


def as_fc(strategy: Callable[..., jax.Array]) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """Turn a conv strategy into a dense layer ``f(x [N, I], w [I, O]) -> [N, O]`` (1x1 case).

    Extra keyword arguments of the returned function are passed to ``strategy``.
    """

    def fc(x: jax.Array, w: jax.Array, **kwargs) -> jax.Array:
        x = jnp.asarray(x)
        w = jnp.asarray(w)
        _checks.check_rank(x, 2, "x", "fc", "[N, I]")
        _checks.check_rank(w, 2, "w", "fc", "[I, O]")
        if x.shape[1] != w.shape[0]:
            raise ValueError(f"fc: `x` has I = {x.shape[1]} features (shape {x.shape}) but `w` has shape "
                             f"{w.shape}; expected [{x.shape[1]}, O].")
        out = strategy(x[:, None, None, :], w[None, None], stride=1, padding="VALID", **kwargs)
        return out[:, 0, 0, :]

    fc.__name__ = f"fc_{getattr(strategy, '__name__', 'strategy')}"
    fc.__doc__ = f"Dense layer ``[N, I] @ [I, O]`` computed by ``{fc.__name__[3:]}`` as a 1x1 convolution."
    return fc
