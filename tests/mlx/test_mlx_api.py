"""The MLX mirror exposes the JAX public API (names and signatures), and stays optional."""

import inspect
import pathlib
import subprocess
import sys

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402

# Names of tacjax.__all__ that tacjax.mlx deliberately lacks, each with the reason.
# Currently empty: everything in the JAX core has an MLX equivalent. In particular the traced-K
# forms (``*_dynamic``, ``chunk_mask``) are mirrored: MLX has no tracing, so they are computed with
# the same masks for a concrete K and give the same full-length row layout as JAX.
EXEMPT: dict[str, str] = {}

ROOT = pathlib.Path(tacjax.__file__).resolve().parent


def test_every_public_jax_name_is_mirrored():
    missing = sorted(set(tacjax.__all__) - set(tm.__all__) - set(EXEMPT))
    assert not missing, f"tacjax.mlx lacks {missing}: mirror them or add them to EXEMPT with a reason"
    for name in tm.__all__:
        assert hasattr(tm, name), name
    assert not set(EXEMPT) - set(tacjax.__all__), "stale EXEMPT entries"


def _comparable(default):
    if default is inspect.Parameter.empty or isinstance(default, str | int | float | bool | type(None)):
        return default
    if type(default).__name__ == "LIFParams":
        return ("LIFParams", default.beta, default.threshold, default.reset, default.detach_reset)
    if callable(default):
        return getattr(default, "__name__", repr(default))
    return str(default).split(".")[-1]  # dtypes: jnp.float32 vs mx.float32 -> "float32"


@pytest.mark.parametrize("name", [n for n in tacjax.__all__ if callable(getattr(tacjax, n))
                                  and not isinstance(getattr(tacjax, n), type)
                                  and n not in EXEMPT and n != "SpikeFn"])
def test_same_signature(name):
    sj = inspect.signature(getattr(tacjax, name))
    sm = inspect.signature(getattr(tm, name))
    pj = [(p.name, p.kind, _comparable(p.default)) for p in sj.parameters.values()]
    pm = [(p.name, p.kind, _comparable(p.default)) for p in sm.parameters.values()]
    assert pm == pj


def test_constants_equal():
    assert tm.RESETS == tacjax.RESETS and tm.WEIGHTS == tacjax.WEIGHTS
    assert tuple(tm.SURROGATES) == tuple(tacjax.SURROGATES)


def test_only_tacjax_mlx_imports_mlx():
    offenders = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                 if "mlx" not in p.relative_to(ROOT).parts[:1]
                 and any(line.lstrip().startswith(("import mlx", "from mlx"))
                         for line in p.read_text().splitlines())]
    assert not offenders, f"these modules import mlx outside tacjax/mlx: {offenders}"


def test_import_without_mlx_gives_clear_error():
    """With mlx hidden, `import tacjax` works and `import tacjax.mlx` names the extra to install."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'mlx' or name.startswith('mlx.'):\n"
        "            raise ImportError('No module named ' + repr(name))\n"
        "sys.meta_path.insert(0, Block())\n"
        "import tacjax\n"
        "assert tacjax.tac is not None\n"
        "try:\n"
        "    import tacjax.mlx\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ERR" in out.stdout and "pip install 'tacjax[mlx]'" in out.stdout
