"""Spiking conv networks of the TAC study (Flax NNX), with mode and K set per conv layer.

``ConvSNN`` is the general form: conv blocks ``conv1 .. convN`` (each ``SpikingConv``: 3x3
'SAME' conv -> neuron -> 2x2 max-pool of the spikes), flatten (H, W, C order), a dense readout
``fc`` (``SpikingDense``). ``MNISTNet`` and ``DVSGestureNet`` fix the paper's shapes. T is read
from the input at every call; only the chunk lengths K are fixed at construction.

Time axis through the net: layer i turns ``T_i`` steps into ``T_{i+1} = ceil(T_i / K_i)`` in
"tac" mode and keeps ``T_i`` otherwise (a K that does not divide ``T_i`` gives a short last
chunk, ``tacjax.tac``'s rule); the readout sees ``T_out`` steps. So "collapse the first layer,
preserve later ones" is ``modes=("tac", "tac_tp")``. Every K must satisfy ``K_i <= T_i`` for the
input's T: ``out_steps(T)`` checks it (the call does too) and names the layer that fails.

Streaming: ``initialize_carry((B,))``, then ``step(carry, x)`` with one frame ``[B, H, W, C]``
when ``step_frames`` is 1, or a block of up to ``step_frames`` frames (``tacjax.nn.sequential``).

Parameter structure (what an MLX mirror reproduces; all float32):
``conv{i}.kernel`` ``[3, 3, C_in, C_out]`` (HWIO), ``conv{i}.bias`` ``[C_out]`` (if ``use_bias``),
``fc.kernel`` ``[H_f * W_f * C_last, num_classes]`` with inputs flattened in (H, W, C) order,
``fc.bias`` ``[num_classes]`` (if ``use_bias``); ``conv{i}.beta``/``conv{i}.threshold``/
``conv{i}.agg_logits`` (and ``fc.beta``/``fc.threshold``) only with ``learn_beta``/
``learn_threshold``/``learn_weights``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from tacjax.aggregate import MODES
from tacjax.common.arguments import check_int
from tacjax.neurons import LIFParams
from tacjax.nn import Flatten, SpikingConv, SpikingDense, default_kernel_init
from tacjax.nn._stream import check_batch_shape
from tacjax.nn.sequential import SpikingSequential, initialize_chain
from tacjax.surrogate import SpikeFn, fast_sigmoid

__all__ = ["ConvSNN", "DVSGestureNet", "MNISTNet", "spike_rates"]


def _per_layer(value, n: int, name: str, fn: str) -> tuple:
    if isinstance(value, str | int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n:
        raise ValueError(f"{fn}: `{name}` needs one entry per conv layer ({n}); got {value!r}.")
    return value


class ConvSNN(SpikingSequential):
    """Conv spiking network: ``len(channels)`` conv blocks then a spiking dense readout.

    Args:
        in_size: input height = width.
        in_channels: input channels.
        channels: output channels of each conv block.
        num_classes: readout neurons.
        modes: per-layer mode ("baseline", "tac", "tac_tp"), or one string for all.
        ks: per-layer K (ignored where the mode is "baseline"), or one int for all.
        neuron: neuron parameters of every layer (default ``LIFParams()``; see ``tacjax.nn``).
        surrogate: spike function of every layer.
        pool: max-pool window after each conv block (None: no pooling).
        learn_beta, learn_threshold, learn_weights, use_bias: passed to every ``SpikingConv``
            (``learn_weights`` only to the TAC layers; the others also to ``fc``).
        share: TAC-TP current sharing in every "tac_tp" layer: "mean" (default, the study's:
            each of a chunk's L steps gets current / L) or "repeat" (the whole current each step,
            as the reference code; it saturated the neurons in the study's runs).
        kernel_init: initialiser of every ``kernel`` (default ``tacjax.nn.default_kernel_init``).
        rngs: ``nnx.Rngs``.

    Call: ``model(x)`` with ``x`` ``[T, B, in_size, in_size, in_channels]`` (any T) returns the
    readout spikes ``[T_out, B, num_classes]`` alone. With ``return_membrane=True`` and/or
    ``return_stats=True`` it returns ``NetworkOutput(spikes, membrane, stats)``
    (``tacjax.common.outputs``): ``membrane`` the readout membrane before reset
    ``[T_out, B, num_classes]``, ``stats`` a dict layer name -> spike train (``"input"``,
    ``"conv1"`` .., ``"fc"``; the conv entries after pooling), each None when not asked for.
    ``carry=`` (from ``initialize_carry``) continues a stream; ``return_carry=True`` returns
    ``(carry, output)``.
    """

    def __init__(self, *, in_size: int, in_channels: int, channels: Sequence[int], num_classes: int,
                 modes="baseline", ks=1, neuron=LIFParams(), surrogate: SpikeFn = fast_sigmoid,
                 pool: int | None = 2, learn_beta: bool = False, learn_threshold: bool = False,
                 learn_weights: bool = False, use_bias: bool = False, share: str = "mean",
                 kernel_init=default_kernel_init, rngs: nnx.Rngs):
        name = type(self).__name__
        if isinstance(channels, str) or not isinstance(channels, Sequence) or not channels:
            raise TypeError(f"{name}: `channels` must be a non-empty sequence of ints; got {channels!r}.")
        channels = tuple(check_int(c, name, f"channels[{i}]") for i, c in enumerate(channels))
        n = len(channels)
        modes, ks = _per_layer(modes, n, "modes", name), _per_layer(ks, n, "ks", name)
        self.in_size, self.in_channels = check_int(in_size, name, "in_size"), check_int(in_channels, name,
                                                                                         "in_channels")
        self.num_classes, self.num_layers = check_int(num_classes, name, "num_classes"), n
        size, c_in = self.in_size, self.in_channels
        for i, (c, m, k) in enumerate(zip(channels, modes, ks, strict=True)):
            if m not in MODES:
                raise ValueError(f"{name}: modes[{i}] = {m!r}; expected one of {MODES}.")
            k = 1 if m == "baseline" else check_int(k, name, f"ks[{i}]")
            layer = SpikingConv(c_in, c, 3, mode=m, k=k, neuron=neuron, surrogate=surrogate, pool=pool,
                                learn_beta=learn_beta, learn_threshold=learn_threshold,
                                learn_weights=learn_weights and m != "baseline", use_bias=use_bias,
                                share=share,
                                kernel_init=kernel_init, rngs=rngs)
            setattr(self, f"conv{i + 1}", layer)
            size = size // pool if pool else size
            if size < 1:
                raise ValueError(f"{name}: in_size {in_size} is too small for {n} pooled layers.")
            c_in = c
        self.flat_features = size * size * c_in
        self.flatten = Flatten()
        self.fc = SpikingDense(self.flat_features, self.num_classes, neuron=neuron, surrogate=surrogate,
                               use_bias=use_bias, learn_beta=learn_beta, learn_threshold=learn_threshold,
                               kernel_init=kernel_init, rngs=rngs)

    def convs(self) -> list[SpikingConv]:
        """The conv blocks in order."""
        return [getattr(self, f"conv{i + 1}") for i in range(self.num_layers)]

    def _chain(self) -> tuple[list, list]:
        layers = [*self.convs(), self.flatten, self.fc]
        return layers, [f"conv{i + 1}" for i in range(self.num_layers)] + [None, "fc"]

    def out_steps(self, num_steps: int) -> int:
        """Readout steps for an input of ``num_steps`` frames; ValueError naming the layer whose K
        exceeds the steps that reach it."""
        name, t = type(self).__name__, check_int(num_steps, type(self).__name__, "num_steps")
        for i, layer in enumerate(self.convs()):
            if layer.k > t:
                raise ValueError(
                    f"{name}: ks[{i}] = {layer.k} must be an int with 1 <= K <= T = {t} (the steps reaching "
                    f"conv{i + 1} for an input of T = {num_steps}; modes={[c.mode for c in self.convs()]}, "
                    f"ks={[c.k for c in self.convs()]}).")
            t = layer.out_steps(t)
        return t

    def conv_calls(self, num_steps: int) -> dict[str, int]:
        """Per-sample conv calls of each conv layer for ``num_steps`` input frames, and their ``"total"``."""
        self.out_steps(num_steps)
        out, t = {}, num_steps
        for i, layer in enumerate(self.convs()):
            out[f"conv{i + 1}"] = layer.conv_calls(t)
            t = layer.out_steps(t)
        out["total"] = sum(out.values())
        return out

    def output_batch_shape(self, batch_shape) -> tuple[int, ...]:
        """``(B,)``: the readout's."""
        return tuple(batch_shape)[:1]

    def initialize_carry(self, batch_shape) -> tuple:
        """One carry per layer (conv blocks, flatten, readout) at rest; ``batch_shape`` is ``(B,)``."""
        (b,) = check_batch_shape(batch_shape, 1, type(self).__name__, "(B,)")
        return initialize_chain(self._chain()[0], (b, self.in_size, self.in_size))

    def _frame_rank(self) -> int:
        return 4

    def _check_input(self, x, short_ok: bool) -> jax.Array:
        """``x`` ``[T, B, in_size, in_size, in_channels]``; outside a stream every K must fit T."""
        x = jnp.asarray(x)
        want = (self.in_size, self.in_size, self.in_channels)
        if x.ndim != 5 or x.shape[-3:] != want:
            raise ValueError(f"{type(self).__name__}: `x` must be [T, B, H, W, C] = [T, B, {want[0]}, "
                             f"{want[1]}, {want[2]}]; got shape {x.shape}.")
        if not short_ok:
            self.out_steps(x.shape[0])
        return x


class MNISTNet(ConvSNN):
    """Rate-coded MNIST / Fashion-MNIST net: conv 1->32, neuron, pool 2, conv 32->64, neuron, pool 2,
    dense 3136 -> 10, spiking readout. Input ``[T, B, 28, 28, 1]``; see ``ConvSNN`` for the call.

    ``in_size`` and ``channels`` may be changed (small test networks); defaults are the paper's.
    """

    def __init__(self, *, modes=("baseline", "baseline"), ks=(1, 1), neuron=LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, in_size: int = 28, channels: Sequence[int] = (32, 64),
                 num_classes: int = 10, **kwargs):
        super().__init__(in_size=in_size, in_channels=1, channels=channels, num_classes=num_classes,
                         modes=modes, ks=ks, neuron=neuron, surrogate=surrogate, **kwargs)


class DVSGestureNet(ConvSNN):
    """DVS128 Gesture net: conv 2->32->64->128 blocks (each conv, neuron, pool 2), dense -> 11.

    Input ``[T, B, in_size, in_size, 2]`` (ON/OFF polarity). With ``num_classes`` it also serves
    the synthetic event data (``tacjax.data.synthetic_events``).
    """

    def __init__(self, *, modes=("baseline",) * 3, ks=(1, 1, 1), in_size: int = 32, neuron=LIFParams(),
                 surrogate: SpikeFn = fast_sigmoid, channels: Sequence[int] = (32, 64, 128),
                 num_classes: int = 11, **kwargs):
        super().__init__(in_size=in_size, in_channels=2, channels=channels, num_classes=num_classes,
                         modes=modes, ks=ks, neuron=neuron, surrogate=surrogate, **kwargs)


def spike_rates(stats: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """Mean firing rate (spikes per neuron per step) of each entry of a ``NetworkOutput.stats`` dict."""
    return {name: jnp.mean(s) for name, s in stats.items()}


def _stats_jitted(model: ConvSNN, x) -> dict[str, jax.Array]:
    """``model(x, return_stats=True).stats`` from one jitted forward pass (compiled once per network
    structure and input shape). Run eagerly, the same pass compiles every operation on its own: about
    8 s against 0.5 s for a 3-layer test network on a 2-core CPU. Used where tacjax runs a network once
    to read its spike trains (``tacjax.plan.order_profile``, ``tacjax.cost.specs_from_model``, the
    study's raster plot). Input checks still raise at trace time.

    Args:
        model: a ``ConvSNN`` (its state is read, not updated).
        x: ``[T, B, in_size, in_size, in_channels]``.

    Returns:
        layer name -> spike train (``"input"``, ``"conv1"`` .. after pooling, ``"fc"``).
    """
    graphdef, state = nnx.split(model)
    return _merged_stats(graphdef, state, x)


@functools.partial(jax.jit, static_argnums=0)
def _merged_stats(graphdef, state, x) -> dict[str, jax.Array]:
    return nnx.merge(graphdef, state)(x, return_stats=True).stats
