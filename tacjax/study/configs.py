"""The study's configurations: a (kind, K) point of the grid -> per-layer modes and K of a network.

Kinds (``KINDS``; a network with ``n`` conv layers):

==========  ===================================  =====================================================
kind        modes                                ks
==========  ===================================  =====================================================
baseline    ``("baseline",) * n``                ``(1,) * n``: every conv layer one call per frame
tac         ``("tac",) * n``                     ``(K, 1, ..., 1)``: the first conv collapses K frames,
                                                 so the whole network runs ``ceil(T/K)`` steps
tac_tp      ``("tac_tp",) * n``                  ``(K,) * n``: every conv layer aggregates K frames
                                                 and preserves the T steps
==========  ===================================  =====================================================

A configuration of another kind (a per-layer plan, say) is a ``Config`` built directly with its own
``modes`` and ``ks``; the study trains, times and reports it like any other (``run_study``'s
``extra_configs``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

__all__ = ["KINDS", "Config", "grid", "make_config"]


def _baseline(k: int, n: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    return ("baseline",) * n, (1,) * n


def _tac(k: int, n: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    return ("tac",) * n, (k,) + (1,) * (n - 1)


def _tac_tp(k: int, n: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    return ("tac_tp",) * n, (k,) * n


#: kind -> ``(K, n_layers) -> (modes, ks)``.
KINDS: dict[str, Callable[[int, int], tuple[tuple[str, ...], tuple[int, ...]]]] = {
    "baseline": _baseline,
    "tac": _tac,
    "tac_tp": _tac_tp,
}


@dataclasses.dataclass(frozen=True)
class Config:
    """One network configuration of the study.

    Attributes:
        label: unique within a data set; names the per-run metrics files and the table row
            (``"tac_K4"``, or ``"T16_tac_K4"`` where a data set has several T).
        mode: the kind (``"baseline"``, ``"tac"``, ``"tac_tp"``, or another for a custom plan);
            rows and plots group by it.
        k: the grid's K (1 for the baseline; None for a configuration without one K).
        num_steps: T of the network's input.
        modes: mode of each conv layer.
        ks: K of each conv layer.
    """

    label: str
    mode: str
    k: int | None
    num_steps: int
    modes: tuple[str, ...]
    ks: tuple[int, ...]


def _check_k(k, num_steps: int, kind: str, fn: str) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= num_steps:
        raise ValueError(f"{fn}: K = {k!r} for {kind!r} must be an int with 1 <= K <= T = {num_steps}.")
    return k


def make_config(kind: str, k: int, num_steps: int, n_layers: int, *, prefix: str = "") -> Config:
    """The ``Config`` of grid point (``kind``, ``k``) for a network of ``n_layers`` conv layers.

    Args:
        kind: a key of ``KINDS``.
        k: K, ``1 <= K <= num_steps`` (ignored, and recorded as 1, for the baseline).
        num_steps: T of the input (>= 1).
        n_layers: conv layers of the network (>= 1).
        prefix: put before the label (e.g. ``"T16_"``).

    Returns:
        ``Config(label=prefix + ("baseline" | f"{kind}_K{k}"), ...)``.
    """
    fn = "make_config"
    if kind not in KINDS:
        raise ValueError(f"{fn}: `kind` must be one of {tuple(KINDS)}; got {kind!r}.")
    for name, v in (("num_steps", num_steps), ("n_layers", n_layers)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{fn}: `{name}` must be an int >= 1; got {v!r}.")
    k = 1 if kind == "baseline" else _check_k(k, num_steps, kind, fn)
    modes, ks = KINDS[kind](k, n_layers)
    label = "baseline" if kind == "baseline" else f"{kind}_K{k}"
    return Config(prefix + label, kind, k, num_steps, modes, ks)


def grid(num_steps: int, ks: Sequence[int], tp_ks: Sequence[int], n_layers: int, *,
         prefix: str = "") -> list[Config]:
    """The baseline, then TAC for each of ``ks``, then TAC-TP for each of ``tp_ks``, all at T = ``num_steps``.

    Args:
        num_steps: T.
        ks: K values of the "tac" kind, each in ``1..T``.
        tp_ks: K values of the "tac_tp" kind, each in ``1..T``.
        n_layers: conv layers of the network.
        prefix: put before every label.

    Returns:
        ``1 + len(ks) + len(tp_ks)`` configurations.

    Raises:
        ValueError: a K outside ``1..T`` (the message names the kind, K and T), or a K repeated
            within a kind (it would overwrite the other's metrics).
    """
    for kind, values in (("tac", ks), ("tac_tp", tp_ks)):
        if len(set(values)) != len(values):
            raise ValueError(f"grid: the {kind!r} K values {tuple(values)} repeat a K.")
    out = [make_config("baseline", 1, num_steps, n_layers, prefix=prefix)]
    out += [make_config("tac", k, num_steps, n_layers, prefix=prefix) for k in ks]
    out += [make_config("tac_tp", k, num_steps, n_layers, prefix=prefix) for k in tp_ks]
    return out
