"""Short names of per-layer plans: one token per conv layer joined by ``-``.

``b`` is "baseline", ``tacK`` collapses K frames ("tac"), ``tpK`` aggregates K frames and keeps the
steps ("tac_tp"): ``plan_name(("baseline", "tac_tp", "tac"), (1, 16, 2)) == "b-tp16-tac2"``, and
``parse_plan_name`` reads it back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["parse_plan_name", "plan_name"]

_TOKEN = re.compile(r"^(b|tac(\d+)|tp(\d+))$")
_SHORT = {"baseline": "b", "tac": "tac", "tac_tp": "tp"}


def plan_name(modes: Sequence[str], ks: Sequence[int]) -> str:
    """``(modes, ks)`` -> ``"b-tp16-tac2"``; ValueError naming a mode outside "baseline", "tac", "tac_tp"."""
    if len(modes) != len(ks):
        raise ValueError(f"plan_name: `modes` and `ks` must have one entry per conv layer; got {len(modes)} "
                         f"modes and {len(ks)} ks.")
    out = []
    for m, k in zip(modes, ks, strict=True):
        if m not in _SHORT:
            raise ValueError(f"plan_name: mode {m!r}; expected one of {tuple(_SHORT)}.")
        out.append("b" if m == "baseline" else f"{_SHORT[m]}{int(k)}")
    return "-".join(out)


def parse_plan_name(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """``"b-tp16-tac2"`` -> ``(("baseline", "tac_tp", "tac"), (1, 16, 2))``; ValueError naming the token."""
    if not isinstance(text, str):
        raise TypeError(f"parse_plan_name: `text` must be a str such as 'b-tp16-tac2'; got "
                        f"{type(text).__name__}.")
    modes, ks = [], []
    for tok in text.split("-"):
        m = _TOKEN.match(tok)
        k = int(m.group(2) or m.group(3) or 1) if m else 0
        if not m or k < 1:
            raise ValueError(f"parse_plan_name: plan {text!r} has token {tok!r}; expected b, tacK or tpK "
                             "(K >= 1).")
        modes.append("baseline" if tok == "b" else "tac" if m.group(2) else "tac_tp")
        ks.append(k)
    return tuple(modes), tuple(ks)
