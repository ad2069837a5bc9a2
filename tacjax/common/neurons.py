"""Names, parameter rules and static checks of the neurons (backend-free: stdlib + NumPy).

A rule maps each array parameter (a pytree leaf in JAX) to the interval its values must lie in;
the backends check the values against it whenever they are concrete (see ``tacjax.common.docs``).
"""

from __future__ import annotations

from tacjax.common.checks import describe, one_of

__all__ = ["LIF_RULES", "RESETS", "check_detach", "check_reset"]

RESETS = ("subtract", "zero", "none")
"""Reset rules after a spike: ``h - threshold`` (soft), ``v_reset`` (hard), or none."""

ANY_FINITE: dict = {}
UNIT_INTERVAL = {"low": 0.0, "high": 1.0}

LIF_RULES: dict[str, dict] = {
    "beta": UNIT_INTERVAL,  # a leak factor: 0 forgets at once, 1 is IF
    "threshold": ANY_FINITE,
    "v_leak": ANY_FINITE,
    "v_reset": ANY_FINITE,
}
"""``LIFParams`` leaf -> the interval of its values (``check_values`` keywords; {} = finite)."""


def check_reset(reset, fn: str) -> str:
    """Raise unless ``reset`` is one of ``RESETS``."""
    return one_of(reset, RESETS, "reset", fn)


def check_detach(detach, fn: str) -> bool:
    """Raise TypeError unless ``detach_reset`` is a bool."""
    if not isinstance(detach, bool):
        raise TypeError(f"{fn}: `detach_reset` must be a bool; got {describe(detach)}.")
    return detach
