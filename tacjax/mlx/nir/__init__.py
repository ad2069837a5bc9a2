"""NIR interop in MLX: ``from_nir`` loads a NIR graph as an MLX network (the twin of ``tacjax.nir``).

Needs the optional ``nir`` package (``pip install 'tacjax[nir]'``) and MLX. The semantics, the
checks and the errors are those of ``tacjax.nir`` (one plan, built by ``tacjax.nir.graph``);
``tacjax.mlx.nir.NIRNetwork`` differs from the JAX network only in its weight layouts (``weight``
``[out, in]`` / ``(out, *k, in/groups)``) and in running ``apply`` as a Python loop over T.
"""

from __future__ import annotations

import importlib

__all__ = ["NIRNetwork", "from_nir"]

_LAZY = {"from_nir": "tacjax.mlx.nir.loader", "NIRNetwork": "tacjax.mlx.nir.loader"}


def __getattr__(name: str):
    if name in _LAZY:
        from tacjax.nir._compat import require_nir

        require_nir()
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tacjax.mlx.nir' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
