"""The MLX mirror exposes the JAX public API (names and signatures), and stays optional."""

import inspect
import pathlib
import subprocess
import sys

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402
import tacjax.mlx.sparse  # noqa: E402
import tacjax.sparse  # noqa: E402

# Public names of the JAX modules that the MLX mirror deliberately lacks, each with the reason.
# The traced-K forms (``*_dynamic``, ``chunk_mask``) are NOT exempt: MLX has no tracing, so they are
# computed with the same masks for a concrete K and keep JAX's full-length row layout.
_NO_SPARSE_FORMATS = "MLX has no sparse array formats (no BCOO/BCSR)"
_PRODUCT = "host-planned product sparsity (Prosperity) is JAX-specific code, not mirrored yet"
EXEMPT: dict[str, str] = {
    "bcoo_conv": _NO_SPARSE_FORMATS,
    "bcsr_conv": _NO_SPARSE_FORMATS,
    "HOST_PLANNED": _PRODUCT,
    "ProductPlan": _PRODUCT,
    "bit_density": _PRODUCT,
    "execute_plan": _PRODUCT,
    "plan_arrays": _PRODUCT,
    "product_conv": _PRODUCT,
    "product_density": _PRODUCT,
    "product_matmul": _PRODUCT,
    "product_plan": _PRODUCT,
    "run_plan": _PRODUCT,
}

ROOT = pathlib.Path(tacjax.__file__).resolve().parent


def _pairs():
    """(JAX module, MLX module) pairs whose ``__all__`` must agree."""
    import tacjax.mlx.models
    import tacjax.mlx.nn
    import tacjax.mlx.sparse
    import tacjax.models
    import tacjax.nn
    import tacjax.sparse

    return [(tacjax, tm), (tacjax.parallel, tm.parallel), (tacjax.sparse, tacjax.mlx.sparse),
            (tacjax.nn, tacjax.mlx.nn), (tacjax.models, tacjax.mlx.models)]


def test_every_public_jax_name_is_mirrored():
    for jmod, mmod in _pairs():
        missing = sorted(set(jmod.__all__) - set(mmod.__all__) - set(EXEMPT))
        assert not missing, (f"{mmod.__name__} lacks {missing} of {jmod.__name__}: mirror them or "
                             f"add them to EXEMPT with a reason")
        for name in mmod.__all__:
            assert hasattr(mmod, name), name
    all_jax = set().union(*(set(jmod.__all__) for jmod, _ in _pairs()))
    assert not set(EXEMPT) - all_jax, "stale EXEMPT entries"


def _comparable(default):
    if default is inspect.Parameter.empty or isinstance(default, str | int | float | bool | type(None)):
        return default
    if type(default).__name__ == "LIFParams":
        return ("LIFParams", default.beta, default.threshold, default.reset, default.detach_reset)
    if callable(default):
        return getattr(default, "__name__", repr(default))
    return str(default).split(".")[-1]  # dtypes: jnp.float32 vs mx.float32 -> "float32"


def _functions(mod):
    return [n for n in mod.__all__ if callable(getattr(mod, n)) and not isinstance(getattr(mod, n), type)
            and n not in EXEMPT and n != "SpikeFn"]


@pytest.mark.parametrize("mod,name", [(0, n) for n in _functions(tacjax)]
                         + [(1, n) for n in _functions(tacjax.parallel)]
                         + [(2, n) for n in _functions(tacjax.sparse)])
def test_same_signature(mod, name):
    """Functions: same parameter names, kinds and defaults (classes differ only in rngs vs key)."""
    jmod, mmod = _pairs()[mod]
    sj = inspect.signature(getattr(jmod, name))
    sm = inspect.signature(getattr(mmod, name))
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
        "            raise ModuleNotFoundError('No module named ' + repr(name), name=name)\n"
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


@pytest.mark.parametrize("name", ["SpikingConv", "SpikingDense", "ConvSNN", "MNISTNet", "DVSGestureNet"])
def test_module_constructor_arguments_match(name):
    """mlx.nn twins take the NNX constructor arguments, with ``key`` in place of ``rngs``."""
    jmod = mmod = None
    for jm_, mm_ in _pairs()[3:]:
        if name in jm_.__all__:
            jmod, mmod = jm_, mm_
    pj = [(p.name, p.kind, _comparable(p.default))
          for p in inspect.signature(getattr(jmod, name).__init__).parameters.values() if p.name != "rngs"]
    pm = [(p.name, p.kind, _comparable(p.default))
          for p in inspect.signature(getattr(mmod, name).__init__).parameters.values() if p.name != "key"]
    assert pm == pj
