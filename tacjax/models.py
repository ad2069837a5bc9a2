"""Spiking conv networks of the TAC study (Flax NNX), with mode and K set per conv layer.

``ConvSNN`` is the general form: conv blocks ``conv1 .. convN`` (each ``SpikingConv``: 3x3
'SAME' conv -> LIF -> 2x2 max-pool of the spikes), flatten (H, W, C order), a dense readout
``fc`` (``SpikingDense``, LIF). ``MNISTNet`` and ``DVSGestureNet`` fix the paper's shapes.

Time axis through the net: layer i turns ``T_i`` steps into ``T_{i+1} = ceil(T_i / K_i)`` in
"tac" mode and keeps ``T_i`` otherwise; the readout sees ``T_out`` steps. So "collapse the
first layer, preserve later ones" is ``modes=("tac", "tac_tp")``; a later layer's K must
satisfy ``1 <= K <= T_i`` (checked at construction).

Parameter structure (what an MLX mirror reproduces; all float32):
``conv{i}.kernel`` ``[3, 3, C_in, C_out]`` (HWIO), ``conv{i}.bias`` ``[C_out]`` (if ``use_bias``),
``fc.kernel`` ``[H_f * W_f * C_last, num_classes]`` with inputs flattened in (H, W, C) order,
``fc.bias`` ``[num_classes]`` (if ``use_bias``); ``conv{i}.beta_logit``/``conv{i}.agg_logits``
only with ``learn_beta``/``learn_weights``.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from tacjax.aggregate import MODES
from tacjax.common.arguments import check_int
from tacjax.common.outputs import NetworkOutput
from tacjax.neurons import LIFParams
from tacjax.nn import SpikingConv, SpikingDense, default_kernel_init
from tacjax.surrogate import SpikeFn, fast_sigmoid

__all__ = ["ConvSNN", "DVSGestureNet", "MNISTNet", "spike_rates"]


def _per_layer(value, n: int, name: str, fn: str) -> tuple:
    if isinstance(value, str | int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n:
        raise ValueError(f"{fn}: `{name}` needs one entry per conv layer ({n}); got {value!r}.")
    return value


class ConvSNN(nnx.Module):
    """Conv spiking network: ``len(channels)`` conv blocks then a LIF readout.

    Args:
        num_steps: T of the input.
        in_size: input height = width.
        in_channels: input channels.
        channels: output channels of each conv block.
        num_classes: readout neurons.
        modes: per-layer mode ("baseline", "tac", "tac_tp"), or one string for all.
        ks: per-layer K (ignored where the mode is "baseline"), or one int for all.
        lif: LIF parameters of every layer.
        surrogate: spike function of every layer.
        pool: max-pool window after each conv block (None: no pooling).
        learn_beta, learn_weights, use_bias: passed to every ``SpikingConv``
            (``learn_weights`` only to the TAC layers; ``use_bias`` and ``learn_beta`` also to ``fc``).
        share: TAC-TP current sharing in every "tac_tp" layer: "repeat" (each of the K steps gets
            the chunk's current, as in the reference code) or "mean" (each gets current / K).
        kernel_init: initialiser of every ``kernel`` (default ``tacjax.nn.default_kernel_init``).
        rngs: ``nnx.Rngs``.

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
                 kernel_init=default_kernel_init, rngs: nnx.Rngs):
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
                                use_bias=use_bias, share=share, kernel_init=kernel_init, rngs=rngs)
            setattr(self, f"conv{i + 1}", layer)
            t = layer.out_steps(t)
            size = size // pool if pool else size
            if size < 1:
                raise ValueError(f"{name}: in_size {in_size} is too small for {n} pooled layers.")
            c_in = c
        self.out_steps = t
        self.flat_features = size * size * c_in
        self.fc = SpikingDense(self.flat_features, self.num_classes, lif=lif, surrogate=surrogate,
                               use_bias=use_bias, learn_beta=learn_beta, kernel_init=kernel_init, rngs=rngs)

    def convs(self) -> list[SpikingConv]:
        """The conv blocks in order."""
        return [getattr(self, f"conv{i + 1}") for i in range(self.num_layers)]

    def conv_calls(self) -> dict[str, int]:
        """Per-sample conv calls of each conv layer (``tacjax.conv_calls``) and their ``"total"``."""
        out, t = {}, self.num_steps
        for i, layer in enumerate(self.convs()):
            out[f"conv{i + 1}"] = layer.conv_calls(t)
            t = layer.out_steps(t)
        out["total"] = sum(out.values())
        return out

    def __call__(self, x: jax.Array, *, return_membrane: bool = False, return_stats: bool = False):
        want = (self.num_steps, self.in_size, self.in_size, self.in_channels)
        if x.ndim != 5 or (x.shape[0], *x.shape[2:]) != want:
            raise ValueError(f"{type(self).__name__}: `x` must be [T, B, H, W, C] = [{want[0]}, B, "
                             f"{want[1]}, {want[2]}, {want[3]}]; got shape {x.shape}.")
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
    dense 3136 -> 10, LIF readout. Input ``[T, B, 28, 28, 1]``; see ``ConvSNN`` for the call.

    ``in_size`` and ``channels`` may be changed (small test networks); defaults are the paper's.
    """

    def __init__(self, *, num_steps: int = 25, modes=("baseline", "baseline"), ks=(1, 1),
                 lif: LIFParams = LIFParams(), surrogate: SpikeFn = fast_sigmoid, in_size: int = 28,
                 channels: Sequence[int] = (32, 64), num_classes: int = 10, **kwargs):
        super().__init__(num_steps=num_steps, in_size=in_size, in_channels=1, channels=channels,
                         num_classes=num_classes, modes=modes, ks=ks, lif=lif, surrogate=surrogate,
                         **kwargs)


class DVSGestureNet(ConvSNN):
    """DVS128 Gesture net: conv 2->32->64->128 blocks (each conv, LIF, pool 2), dense -> 11.

    Input ``[T, B, in_size, in_size, 2]`` (ON/OFF polarity). With ``num_classes`` it also serves
    the synthetic event data (``tacjax.data.synthetic_events``).
    """

    def __init__(self, *, num_steps: int = 16, modes=("baseline",) * 3, ks=(1, 1, 1), in_size: int = 32,
                 lif: LIFParams = LIFParams(), surrogate: SpikeFn = fast_sigmoid,
                 channels: Sequence[int] = (32, 64, 128), num_classes: int = 11, **kwargs):
        super().__init__(num_steps=num_steps, in_size=in_size, in_channels=2, channels=channels,
                         num_classes=num_classes, modes=modes, ks=ks, lif=lif, surrogate=surrogate,
                         **kwargs)


def spike_rates(stats: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """Mean firing rate (spikes per neuron per step) of each entry of a ``NetworkOutput.stats`` dict."""
    return {name: jnp.mean(s) for name, s in stats.items()}
