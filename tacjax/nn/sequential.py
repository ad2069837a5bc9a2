"""``SpikingSequential``: layers in a chain, one sequence call or a stream, with a tuple of carries.

The chain helpers (``chain_step_frames``, ``run_chain``, ``initialize_chain``) are shared with
``tacjax.models``, whose networks are fixed chains of the same layers.

Streaming a chain: its ``step_frames`` U is the smallest number of input frames that gives every
layer whole chunks (a chain of per-frame layers has U = 1; TAC layers raise it: e.g. collapse
K = 2 followed by preserve K = 2 needs U = 4). ``step`` takes one frame ``[B, ...]`` when U = 1
and otherwise a block ``[L, B, ...]`` of ``1 <= L <= U`` frames (``L < U`` only at the end of a
stream), returning that block's outputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from flax import nnx

from tacjax.common.outputs import NetworkOutput
from tacjax.nn._stream import StreamingLayer

__all__ = ["SpikingSequential", "chain_step_frames", "initialize_chain", "run_chain"]


def chain_step_frames(layers: Sequence[StreamingLayer]) -> int:
    """The smallest number of input frames that gives every layer of the chain whole chunks."""
    need = 1
    for layer in reversed(layers):
        m = layer.step_frames
        while layer.out_steps(m) % need:
            m += layer.step_frames
        need = m
    return need


def initialize_chain(layers: Sequence[StreamingLayer], batch_shape) -> tuple:
    """Each layer's carry at rest, threading ``batch_shape`` through ``output_batch_shape``."""
    carries = []
    for layer in layers:
        carries.append(layer.initialize_carry(batch_shape))
        batch_shape = layer.output_batch_shape(batch_shape)
    return tuple(carries)


def _check_carries(carries, n: int, fn: str) -> None:
    if carries is not None and (not isinstance(carries, tuple) or len(carries) != n):
        raise TypeError(f"{fn}: `carry` must be a tuple of {n} carries, one per layer (initialize_carry() "
                        f"gives it); got {type(carries).__name__}"
                        f"{f' of length {len(carries)}' if isinstance(carries, tuple) else ''}.")


def run_chain(layers: Sequence[StreamingLayer], names: Sequence[str | None], x, carries, *, fn: str,
              return_membrane: bool, return_stats: bool, need_state: bool, short_ok: bool):
    """Run ``x`` through the chain from ``carries`` (None: every layer at rest).

    Returns ``(carries, output, membrane of the last layer or None, stats or None)``; ``stats``
    maps ``"input"`` and every named layer to its output (layers named None are not recorded).
    """
    _check_carries(carries, len(layers), fn)
    stats = {"input": x} if return_stats else None
    new, membrane, h = [], None, x
    for i, (layer, name) in enumerate(zip(layers, names, strict=True)):
        last = i == len(layers) - 1
        carry = None if carries is None else carries[i]
        carry, h, membrane = layer._block(h, carry, return_membrane=return_membrane and last,
                                          need_state=need_state, short_ok=short_ok)
        new.append(carry)
        if stats is not None and name is not None:
            stats[name] = h
    return tuple(new), h, membrane, stats


def chain_output(layers, y, membrane, stats, *, return_membrane: bool, return_stats: bool):
    """``y`` alone, or ``NetworkOutput(spikes, membrane, stats)`` when either flag is set (``spikes``
    is None when the last layer is a non-spiking readout)."""
    if not (return_membrane or return_stats):
        return y
    spikes = y if getattr(layers[-1], "emits_spikes", True) else None
    return NetworkOutput(spikes, membrane if return_membrane else None, stats)


class SpikingSequential(StreamingLayer):
    """A chain of ``tacjax.nn`` layers (spiking layers, readouts, pooling, flatten, dropout).

    Args:
        *layers: the layers in order (at least one), each a ``tacjax.nn`` layer.

    Call: ``model(x)`` returns the last layer's output (spikes, or the membrane of an
    ``LIReadout``). With ``return_membrane=True`` and/or ``return_stats=True`` it returns
    ``NetworkOutput(spikes, membrane, stats)``: the last layer's membrane, and ``stats`` a dict
    ``"input"``, ``"0"``, ``"1"``, ... -> each layer's output. ``carry`` (a tuple with one carry per
    layer, from ``initialize_carry``) continues a stream; ``return_carry=True`` returns
    ``(carry, output)``.

    Streaming: ``initialize_carry(batch_shape)`` (the first layer's ``batch_shape``, e.g.
    ``(B,)`` for a dense first layer, ``(B, H, W)`` for a conv), ``step(carry, x)`` with the
    frame or block given by ``step_frames`` (module docstring).
    """

    def __init__(self, *layers: StreamingLayer):
        if not layers:
            raise ValueError("SpikingSequential: needs at least one layer; got none.")
        for i, layer in enumerate(layers):
            if not isinstance(layer, StreamingLayer):
                raise TypeError(f"SpikingSequential: `layers[{i}]` must be a tacjax.nn layer (with "
                                f"initialize_carry/step); got {type(layer).__name__}.")
        self.layers = nnx.List(layers)

    def _chain(self) -> tuple[list[StreamingLayer], list[str | None]]:
        """The layers in order and the names their outputs get in ``stats``."""
        return list(self.layers), [str(i) for i in range(len(self.layers))]

    def _check_input(self, x, short_ok: bool):
        """Hook for a fixed chain (``tacjax.models``) to check the input; layers check their own."""
        return x

    @property
    def emits_spikes(self) -> bool:
        """False when the last layer is a non-spiking readout."""
        return getattr(self._chain()[0][-1], "emits_spikes", True)

    @property
    def step_frames(self) -> int:
        """Input frames per ``step`` (``chain_step_frames``)."""
        return chain_step_frames(self._chain()[0])

    def out_steps(self, num_steps: int) -> int:
        """Output time steps for ``num_steps`` input steps."""
        for layer in self._chain()[0]:
            num_steps = layer.out_steps(num_steps)
        return num_steps

    def output_batch_shape(self, batch_shape) -> tuple[int, ...]:
        """The last layer's output ``batch_shape``."""
        for layer in self._chain()[0]:
            batch_shape = layer.output_batch_shape(batch_shape)
        return tuple(batch_shape)

    def initialize_carry(self, batch_shape) -> tuple:
        """One carry per layer, at rest, for inputs of ``batch_shape``."""
        return initialize_chain(self._chain()[0], batch_shape)

    def _run(self, x, carry, *, return_membrane: bool, return_stats: bool, need_state: bool, short_ok: bool):
        x = self._check_input(x, short_ok)
        layers, names = self._chain()
        return run_chain(layers, names, x, carry, fn=type(self).__name__, return_membrane=return_membrane,
                         return_stats=return_stats, need_state=need_state, short_ok=short_ok)

    def _block(self, x, carry, *, return_membrane: bool, need_state: bool, short_ok: bool):
        return self._run(x, carry, return_membrane=return_membrane, return_stats=False, need_state=need_state,
                         short_ok=short_ok)[:3]

    def step(self, carry, x, *, return_membrane: bool = False):
        """``(carry, y)`` for one frame (or block, see ``step_frames``); ``return_membrane=True`` gives
        ``(carry, NetworkOutput(spikes, membrane, None))``."""
        carry, y, membrane = self._step(carry, x, return_membrane=return_membrane)
        return carry, chain_output(self._chain()[0], y, membrane, None, return_membrane=return_membrane,
                                   return_stats=False)

    def __call__(self, x, *, carry=None, return_membrane: bool = False, return_stats: bool = False,
                 return_carry: bool = False):
        """The chain on ``[T, B, ...]`` (see the class docstring for the outputs)."""
        carry, y, membrane, stats = self._run(x, carry, return_membrane=return_membrane,
                                              return_stats=return_stats, need_state=return_carry,
                                              short_ok=False)
        out = chain_output(self._chain()[0], y, membrane, stats, return_membrane=return_membrane,
                           return_stats=return_stats)
        return (carry, out) if return_carry else out
