"""The optional ``nir`` dependency: import it with an error that names the extra to install."""

from __future__ import annotations

__all__ = ["NIR_EXTRA", "require_nir"]

NIR_EXTRA = "pip install 'tacjax[nir]'"


def require_nir():
    """The ``nir`` module (NIR 1.0.x), or an ImportError that says how to install it."""
    try:
        import nir

        nir.NIRGraph  # noqa: B018  (a folder named nir on sys.path imports as an empty namespace)
    except (ImportError, AttributeError) as e:
        raise ImportError(
            "tacjax.nir needs the `nir` package (the Neuromorphic Intermediate Representation, "
            f"1.0.x; numpy and h5py only), which is not installed. Install it with `{NIR_EXTRA}` "
            "(or `pip install 'nir>=1.0,<1.1'`). The rest of tacjax works without it."
        ) from e
    return nir
