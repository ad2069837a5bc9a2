"""Names, default slopes and gradient formulas of the surrogate spike functions (backend-free).

Both backends build their surrogates from this table, so the names, defaults and documented
formulas cannot drift apart.
"""

from __future__ import annotations

from tacjax.common.checks import POSITIVE, one_of

__all__ = ["SLOPE_RULE", "SURROGATE_TABLE", "check_surrogate_name"]

SURROGATE_TABLE: dict[str, tuple[float, str]] = {
    "fast_sigmoid": (25.0, "``1 / (1 + slope*|x|)**2`` (snnTorch)"),
    "atan": (2.0, "``(slope/2) / (1 + (pi/2 * slope * x)**2)`` (SpikingJelly)"),
    "sigmoid": (4.0, "``slope * s * (1 - s)`` with ``s = sigmoid(slope*x)``"),
    "triangle": (1.0, "``slope * max(0, 1 - slope*|x|)`` (unit area)"),
    "straight_through": (1.0, "``slope`` everywhere (identity gradient, scaled)"),
}
"""name -> (default slope, gradient ``g(x, slope)``), in the order of ``SURROGATES``."""

SLOPE_RULE = POSITIVE
"""A slope must be finite and > 0 (a negative slope would flip the gradient's sign)."""


def check_surrogate_name(name, fn: str) -> str:
    """Raise unless ``name`` names a surrogate."""
    return one_of(name, tuple(SURROGATE_TABLE), "surrogate", fn)

