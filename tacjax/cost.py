"""Hardware cost models of spiking layers: op and traffic counts, and three energy estimators.

A network is described by a list of ``LayerSpec`` (one per conv / fc layer, per sample), so
the models do not depend on any module library; ``mnist_specs`` and ``specs_from_model`` build
the list for ``tacjax.models.MNISTNet``.

Counts per layer and per sample (``R`` kernel, ``C`` in channels, ``K`` out channels, input
``H x W``, output ``E_h x E_w``, ``T_op`` conv calls, ``T_n`` neuron steps, ``r`` input rate):

* ``flops = R^2 E_h E_w C K`` (one full call; fc: ``C K``)
* binary input: ``accumulates = T_op r flops``; non-binary input (analog, or TAC's aggregated
  frames): ``macs = T_op r flops`` (``r`` = fraction of non-zero inputs)
* ``neuron_updates = T_n E_h E_w K``
* traffic, in words of ``word_bits``: ``weights = R^2 C K``, ``input = T_op C H W input_bits /
  word_bits``, ``membranes = T_n E_h E_w K``, ``psums = T_op E_h E_w K``

How TAC enters: a layer in "tac" mode with chunk K has ``T_op = T_n = ceil(T/K)`` and passes
``ceil(T/K)`` steps on; "tac_tp" has ``T_op = ceil(T/K)``, ``T_n = T``. The aggregated input of
a chunk is determined by its K spike bits, so ``input_bits = min(K, word_bits)``: the input
traffic does not shrink (``T/K`` chunks of K bits), the membrane/partial-sum terms and the
neuron updates do (divided by K), and accumulates become multiply-accumulates.

Estimators (constants are dataclass fields; pass your own instance to override):

* ``naive_energy``: ``4.6 pJ`` per MAC, ``0.9 pJ`` per accumulate (45 nm, 32 bit), nothing else.
* ``sata_energy``: SATA's analytic model (Bhattacharjee et al., arXiv 2309.03388), energies in
  SATA's units where a 16-bit MAC is 0.2779::

      E = e_ac N_AC + e_mac N_MAC + e_lif N_LIF + (b/16)(e_dram DRAM + e_glb GLB + e_spad SPAD)
      DRAM = W + T_n K E^2 + T_op C H^2 bits_in/b,   GLB = 2 DRAM,   SPAD = 2 (W + T_op C H^2 bits_in/b)

  With ``T_op = T_n = T`` and 1-bit spikes this is the paper's
  ``DRAM = K C R^2 + T (K E^2 + C H^2 / b)``.
* ``spikesim_energy``: SpikeSim crossbars, ``sum_l ceil(K/X) ceil(C/X) E_h E_w T_op E_PE``
  (sparsity-blind); non-binary inputs are applied bit-serially (``x input_bits``) unless
  ``bit_serial=False``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

__all__ = [
    "LayerCounts",
    "LayerSpec",
    "NaiveConstants",
    "SataConstants",
    "SpikeSimConstants",
    "counts",
    "mnist_specs",
    "naive_energy",
    "sata_energy",
    "sata_terms",
    "specs_from_model",
    "spikesim_energy",
]


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One conv or fc layer of a spiking network, per sample.

    Attributes:
        name: label.
        kind: "conv" or "fc" (fc: ``in_hw = out_hw = (1, 1)``, ``kernel = 1``).
        in_hw: input ``(H, W)``.
        c_in: input channels (fc: input features).
        out_hw: output ``(E_h, E_w)`` of the convolution (before any pooling).
        c_out: output channels (fc: output features).
        kernel: R (square kernel).
        op_steps: conv/matmul calls per sample (T, or ``ceil(T/K)`` under TAC).
        neuron_steps: LIF updates per output neuron per sample (0: no neuron after the layer).
        input_rate: fraction of non-zero input elements per call.
        binary_input: True for spikes (accumulates); False for analog or aggregated input (MACs).
        input_bits: bits per input element (1 for spikes).
    """

    name: str
    kind: str
    in_hw: tuple[int, int]
    c_in: int
    out_hw: tuple[int, int]
    c_out: int
    kernel: int
    op_steps: int
    neuron_steps: int
    input_rate: float
    binary_input: bool = True
    input_bits: int = 1

    def __post_init__(self):
        if self.kind not in ("conv", "fc"):
            raise ValueError(f"LayerSpec: `kind` must be 'conv' or 'fc'; got {self.kind!r}.")
        if not 0.0 <= float(self.input_rate) <= 1.0:
            raise ValueError(f"LayerSpec: `input_rate` must be in [0, 1]; got {self.input_rate!r}.")
        if self.op_steps < 0 or self.neuron_steps < 0 or self.input_bits < 1:
            raise ValueError(f"LayerSpec {self.name}: steps must be >= 0 and input_bits >= 1.")

    @property
    def flops(self) -> int:
        """Synaptic operations of one full call: ``R^2 E_h E_w C K``."""
        return self.kernel ** 2 * self.out_hw[0] * self.out_hw[1] * self.c_in * self.c_out


@dataclasses.dataclass(frozen=True)
class LayerCounts:
    """Per-sample counts of one layer (traffic in words of ``word_bits``)."""

    name: str
    macs: float
    accumulates: float
    neuron_updates: float
    weights: float
    input: float
    membranes: float
    psums: float


def counts(spec: LayerSpec, word_bits: int = 16) -> LayerCounts:
    """Op and traffic counts of ``spec`` (formulas in the module doc)."""
    ops = spec.op_steps * spec.input_rate * spec.flops
    out = spec.out_hw[0] * spec.out_hw[1] * spec.c_out
    return LayerCounts(
        name=spec.name,
        macs=0.0 if spec.binary_input else ops,
        accumulates=ops if spec.binary_input else 0.0,
        neuron_updates=float(spec.neuron_steps * out),
        weights=float(spec.kernel ** 2 * spec.c_in * spec.c_out),
        input=spec.op_steps * spec.in_hw[0] * spec.in_hw[1] * spec.c_in * spec.input_bits / word_bits,
        membranes=float(spec.neuron_steps * out),
        psums=float(spec.op_steps * out),
    )


@dataclasses.dataclass(frozen=True)
class NaiveConstants:
    """Energy per operation in pJ (45 nm, 32-bit; Horowitz's numbers as used by SNN papers)."""

    e_mac: float = 4.6
    e_ac: float = 0.9


@dataclasses.dataclass(frozen=True)
class SataConstants:
    """SATA's per-access energies (units where one 16-bit MAC costs 0.2779) and word width ``bits``."""

    e_mac: float = 0.2779
    e_ac: float = 0.0397
    e_lif: float = 0.1125
    e_dram: float = 55.58
    e_glb: float = 1.95
    e_spad: float = 0.2779
    bits: int = 16


@dataclasses.dataclass(frozen=True)
class SpikeSimConstants:
    """SpikeSim crossbar size X and energy per processing element (pJ, RRAM, X = 64, k = 3)."""

    xbar: int = 64
    e_pe: float = 828.5
    bit_serial: bool = True


def naive_energy(specs: Sequence[LayerSpec], const: NaiveConstants = NaiveConstants()) -> dict[str, float]:
    """Synaptic-op estimate per layer (pJ per sample): ``e_mac MACs + e_ac accumulates``; plus ``"total"``."""
    out = {}
    for s in specs:
        c = counts(s)
        out[s.name] = const.e_mac * c.macs + const.e_ac * c.accumulates
    out["total"] = sum(out.values())
    return out


def sata_terms(spec: LayerSpec, const: SataConstants = SataConstants()) -> dict[str, float]:
    """SATA's energy split of one layer: compute, lif, dram, glb, spad (SATA units per sample)."""
    c = counts(spec, const.bits)
    dram = c.weights + c.membranes + c.input
    scale = const.bits / 16
    return {
        "compute": const.e_ac * c.accumulates + const.e_mac * c.macs,
        "lif": const.e_lif * c.neuron_updates,
        "dram": scale * const.e_dram * dram,
        "glb": scale * const.e_glb * 2 * dram,
        "spad": scale * const.e_spad * 2 * (c.weights + c.input),
    }


def sata_energy(specs: Sequence[LayerSpec], const: SataConstants = SataConstants()) -> dict[str, float]:
    """SATA analytic energy per layer (sum of ``sata_terms``), plus ``"total"``."""
    out = {s.name: sum(sata_terms(s, const).values()) for s in specs}
    out["total"] = sum(out.values())
    return out


def spikesim_energy(specs: Sequence[LayerSpec],
                    const: SpikeSimConstants = SpikeSimConstants()) -> dict[str, float]:
    """SpikeSim crossbar energy per layer (pJ per sample), plus ``"total"``."""
    out = {}
    for s in specs:
        passes = 1 if (s.binary_input or not const.bit_serial) else s.input_bits
        out[s.name] = (math.ceil(s.c_out / const.xbar) * math.ceil(s.c_in / const.xbar)
                       * s.out_hw[0] * s.out_hw[1] * s.op_steps * passes * const.e_pe)
    out["total"] = sum(out.values())
    return out


def _agg_rate(rate: float, k: int) -> float:
    """Non-zero fraction of a sum of K i.i.d. frames with spike rate ``rate``."""
    return 1.0 - (1.0 - rate) ** k


def mnist_specs(num_steps: int = 16, modes: Sequence[str] = ("baseline", "baseline"),
                ks: Sequence[int] = (1, 1), rates: dict[str, float] | None = None, *, in_size: int = 28,
                channels: Sequence[int] = (32, 64), num_classes: int = 10, pool: int = 2,
                in_channels: int = 1, word_bits: int = 16) -> list[LayerSpec]:
    """Layer specs of ``MNISTNet`` (3x3 'SAME' conv, LIF, pool per block; dense readout with LIF).

    Args:
        num_steps: T.
        modes, ks: per conv layer, as in ``MNISTNet`` (the readout follows the last step count).
        rates: measured input spike rates ``{"conv1": r_in, "conv2": ..., "fc": ...}`` (rate of the
            binary spikes entering each layer, per step); missing entries default to 0.1. For a TAC
            layer the non-zero rate of the aggregated input is ``1 - (1 - r)^K`` unless an
            ``"<name>_agg"`` entry gives the measured one.
        in_size, channels, num_classes, pool, in_channels: architecture.
        word_bits: word width for the aggregated inputs' bit cap.

    Returns:
        ``[conv1, conv2, ..., fc]`` specs.
    """
    rates = dict(rates or {})
    specs, t, size, c_in = [], int(num_steps), int(in_size), int(in_channels)
    for i, (c, m, k) in enumerate(zip(channels, modes, ks, strict=True)):
        name = f"conv{i + 1}"
        r = float(rates.get(name, 0.1))
        if m == "baseline":
            specs.append(LayerSpec(name, "conv", (size, size), c_in, (size, size), c, 3, t, t, r))
        else:
            k = int(k)
            chunks = math.ceil(t / k)
            agg = float(rates.get(f"{name}_agg", _agg_rate(r, k)))
            specs.append(LayerSpec(name, "conv", (size, size), c_in, (size, size), c, 3, chunks,
                                   chunks if m == "tac" else t, agg, binary_input=k == 1,
                                   input_bits=min(k, word_bits)))
            t = chunks if m == "tac" else t
        size, c_in = size // pool, c
    feats = size * size * c_in
    specs.append(LayerSpec("fc", "fc", (1, 1), feats, (1, 1), num_classes, 1, t, t,
                           float(rates.get("fc", 0.1))))
    return specs


def specs_from_model(model, x) -> list[LayerSpec]:
    """Specs of a ``tacjax.models.ConvSNN`` (e.g. ``MNISTNet``) with rates measured on input ``x``.

    Shapes and the input spike rates of each layer (``"input"``, ``"conv1"`` .. after pooling) come
    from one jitted forward pass on ``x`` ``[T, B, H, W, C]``.
    """
    import jax.numpy as jnp

    from tacjax.models import _stats_jitted

    stats = _stats_jitted(model, x)
    names = ["input"] + [f"conv{i + 1}" for i in range(model.num_layers)]
    rates = {}
    for i in range(model.num_layers):
        rates[f"conv{i + 1}"] = float(jnp.mean(stats[names[i]]))
    rates["fc"] = float(jnp.mean(stats[names[-1]]))
    last = stats[names[-1]].shape
    pool = model.in_size // stats["conv1"].shape[2] if model.num_layers else 1
    specs = mnist_specs(x.shape[0], [c.mode for c in model.convs()], [c.k for c in model.convs()],
                        rates, in_size=model.in_size, channels=[c.out_features for c in model.convs()],
                        num_classes=model.num_classes, pool=pool, in_channels=model.in_channels)
    if specs[-1].c_in != last[2] * last[3] * last[4]:
        raise ValueError(f"specs_from_model: readout input {last} does not match the specs ({specs[-1]}).")
    return specs
