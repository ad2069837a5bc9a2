"""``mlx.nn`` spiking conv networks mirroring ``tacjax.models``: ``ConvSNN``, ``MNISTNet``, ``DVSGestureNet``.

Same architecture, constructor arguments (``key`` instead of ``rngs``), time axis per layer,
call signature (``return_membrane``, ``return_stats``) and ``conv_calls()``. Parameters are
``conv{i}.weight`` ``[O, 3, 3, C]`` (OHWI), ``conv{i}.bias``, ``conv{i}.beta_logit``,
``conv{i}.agg_logits``, ``fc.weight`` ``[num_classes, H_f * W_f * C_last]`` (inputs flattened in
(H, W, C) order, like the JAX net) and ``fc.bias``, ``fc.beta_logit``. Use
``tacjax.mlx.convert.jax_to_mlx`` / ``mlx_to_jax`` to move trained weights between backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import mlx.core as mx
import mlx.nn as mnn

from tacjax.common.arguments import check_int
from tacjax.common.outputs import NetworkOutput
from tacjax.mlx.aggregate import MODES
from tacjax.mlx.neurons import LIFParams
from tacjax.mlx.nn import SpikingConv, SpikingDense, _split, default_kernel_init
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__all__ = ["ConvSNN", "DVSGestureNet", "MNISTNet", "spike_rates"]


def _per_layer(value, n: int, name: str, fn: str) -> tuple:
    if isinstance(value, str | int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n:
        raise ValueError(f"{fn}: `{name}` needs one entry per conv layer ({n}); got {value!r}.")
    return value


class ConvSNN(mnn.Module):
    """Conv spiking network: ``len(channels)`` conv blocks (conv -> LIF -> 2x2 max-pool), a LIF readout.

    Args: as ``tacjax.models.ConvSNN`` (``num_steps``, ``in_size``, ``in_channels``, ``channels``,
    ``num_classes``, ``modes``, ``ks``, ``lif``, ``surrogate``, ``pool``, ``learn_beta``,
    ``learn_weights``, ``use_bias``, ``share``, ``kernel_init``), plus ``key`` (optional MLX PRNG key)
    instead of ``rngs``.

    Call: ``model(x)`` with ``x`` ``[T, B, in_size, in_size, in_channels]`` returns the readout
    spikes ``[T_out, B, num_classes]`` alone. With ``return_membrane=True`` and/or
    ``return_stats=True`` it returns ``NetworkOutput(spikes, membrane, stats)``
    (``tacjax.common.outputs``): ``membrane`` the readout membrane before reset
    ``[T_out, B, num_classes]``, ``stats`` a dict layer name -> spike train (``"input"``,
    ``"conv1"`` .., ``"fc"``; the conv entries after pooling), each None when not asked for.
    """

    def __init__(self, *, num_steps: int, in_size: int, in_channels: int, channels: Sequence[int],
                 num_classes: int, modes="baseline", ks=1, lif: LIFParams = LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, pool: int | None = 2, learn_beta: bool = False,
                 learn_weights: bool = False, use_bias: bool = False, share: str = "repeat",
                 kernel_init=default_kernel_init, key: mx.array | None = None):
        super().__init__()
        name = type(self).__name__
        if isinstance(channels, str) or not isinstance(channels, Sequence) or not channels:
            raise TypeError(f"{name}: `channels` must be a non-empty sequence of ints; got {channels!r}.")
        channels = tuple(check_int(c, name, f"channels[{i}]") for i, c in enumerate(channels))
        n = len(channels)
        modes = _per_layer(modes, n, "modes", name)
        ks = _per_layer(ks, n, "ks", name)
        self.num_steps = check_int(num_steps, name, "num_steps")
        self.in_size, self.in_channels = check_int(in_size, name, "in_size"), check_int(in_channels, name,
                                                                                         "in_channels")
        self.num_classes, self.num_layers = check_int(num_classes, name, "num_classes"), n
        keys = _split(key, n + 1)
        t, size, c_in = self.num_steps, self.in_size, self.in_channels
        for i, (c, m, k) in enumerate(zip(channels, modes, ks, strict=True)):
            if m not in MODES:
                raise ValueError(f"{name}: modes[{i}] = {m!r}; expected one of {MODES}.")
            k = 1 if m == "baseline" else k
            if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= t:
                raise ValueError(f"{name}: ks[{i}] = {k!r} must be an int with 1 <= K <= T = {t} "
                                 f"(the steps reaching conv{i + 1}; modes={modes}, ks={ks}).")
            layer = SpikingConv(c_in, c, 3, mode=m, k=k, lif=lif, surrogate=surrogate, pool=pool,
                                learn_beta=learn_beta, learn_weights=learn_weights and m != "baseline",
                                use_bias=use_bias, share=share, kernel_init=kernel_init, key=keys[i])
            setattr(self, f"conv{i + 1}", layer)
            t = layer.out_steps(t)
            size = size // pool if pool else size
            if size < 1:
                raise ValueError(f"{name}: in_size {in_size} is too small for {n} pooled layers.")
            c_in = c
        self.out_steps = t
        self.flat_features = size * size * c_in
        self.fc = SpikingDense(self.flat_features, self.num_classes, lif=lif, surrogate=surrogate,
                               use_bias=use_bias, learn_beta=learn_beta, kernel_init=kernel_init,
                               key=keys[n])

    def convs(self) -> list[SpikingConv]:
        """The conv blocks in order."""
        return [getattr(self, f"conv{i + 1}") for i in range(self.num_layers)]

    def conv_calls(self) -> dict[str, int]:
        """Per-sample conv calls of each conv layer and their ``"total"``."""
        out, t = {}, self.num_steps
        for i, layer in enumerate(self.convs()):
            out[f"conv{i + 1}"] = layer.conv_calls(t)
            t = layer.out_steps(t)
        out["total"] = sum(out.values())
        return out

    def __call__(self, x: mx.array, *, return_membrane: bool = False, return_stats: bool = False):
        want = (self.num_steps, self.in_size, self.in_size, self.in_channels)
        if x.ndim != 5 or (x.shape[0], *x.shape[2:]) != want:
            raise ValueError(f"{type(self).__name__}: `x` must be [T, B, H, W, C] = [{want[0]}, B, "
                             f"{want[1]}, {want[2]}, {want[3]}]; got shape {tuple(x.shape)}.")
        stats = {"input": x}
        h = x
        for i, layer in enumerate(self.convs()):
            h = layer(h)
            stats[f"conv{i + 1}"] = h
        h = h.reshape(h.shape[0], h.shape[1], -1)
        if return_membrane:
            spikes, mem = self.fc(h, return_membrane=True)
        else:
            spikes, mem = self.fc(h), None
        stats["fc"] = spikes
        if not (return_membrane or return_stats):
            return spikes
        return NetworkOutput(spikes, mem, stats if return_stats else None)


class MNISTNet(ConvSNN):
    """Rate-coded MNIST / Fashion-MNIST net: conv 1->32, LIF, pool 2, conv 32->64, LIF, pool 2,
    dense 3136 -> 10, LIF readout. Input ``[T, B, 28, 28, 1]``; see ``ConvSNN`` for the call."""

    def __init__(self, *, num_steps: int = 25, modes=("baseline", "baseline"), ks=(1, 1),
                 lif: LIFParams = LIFParams(), surrogate: SpikeFn = fast_sigmoid,
                 in_size: int = 28, channels: Sequence[int] = (32, 64), num_classes: int = 10,
                 **kwargs):
        super().__init__(num_steps=num_steps, in_size=in_size, in_channels=1, channels=channels,
                         num_classes=num_classes, modes=modes, ks=ks, lif=lif, surrogate=surrogate,
                         **kwargs)


class DVSGestureNet(ConvSNN):
    """DVS128 Gesture net: conv 2->32->64->128 blocks (each conv, LIF, pool 2), dense -> 11.
    Input ``[T, B, in_size, in_size, 2]`` (ON/OFF polarity); see ``ConvSNN`` for the call."""

    def __init__(self, *, num_steps: int = 16, modes=("baseline",) * 3, ks=(1, 1, 1), in_size: int = 32,
                 lif: LIFParams = LIFParams(), surrogate: SpikeFn = fast_sigmoid,
                 channels: Sequence[int] = (32, 64, 128), num_classes: int = 11, **kwargs):
        super().__init__(num_steps=num_steps, in_size=in_size, in_channels=2, channels=channels,
                         num_classes=num_classes, modes=modes, ks=ks, lif=lif, surrogate=surrogate,
                         **kwargs)


def spike_rates(stats: dict[str, mx.array]) -> dict[str, mx.array]:
    """Mean firing rate (spikes per neuron per step) of each entry of a ``NetworkOutput.stats`` dict."""
    return {name: mx.mean(s) for name, s in stats.items()}
