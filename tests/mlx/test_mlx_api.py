"""The MLX mirror has the public names and signatures of the JAX API, up to a short documented allow-list.

For every mirrored module pair this lists the public names (``__all__``) of both backends and,
for each name, its signature: parameter names, kinds and defaults of functions, of class
constructors and of the methods a class defines, the fields of dataclasses, and the values of
constants. Any difference fails unless ``ALLOWED`` lists it with its reason.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

PAIRS = ["", "neurons", "parallel", "sparse", "nn", "models", "pooling"]  # tacjax.<x> against tacjax.mlx.<x>

_NO_SPARSE_FORMATS = "MLX has no sparse array formats (no BCOO/BCSR)"
_PRODUCT = "host-planned product sparsity (Prosperity) is JAX-specific code, not mirrored yet"
_KEY = "MLX layers take an MLX PRNG key (`key`) where the NNX layers take `nnx.Rngs` (`rngs`)"
_DROP = ("MLX dropout draws from one `key` (or MLX's global PRNG) where NNX takes `rngs` and the name of "
         "its `rng_collection` stream")
ALLOWED: dict[str, str] = {
    "sparse: missing in mlx: bcoo_conv": _NO_SPARSE_FORMATS,
    "sparse: missing in mlx: bcsr_conv": _NO_SPARSE_FORMATS,
    "sparse: missing in mlx: HOST_PLANNED": _PRODUCT,
    "sparse: missing in mlx: ProductPlan": _PRODUCT,
    "sparse: missing in mlx: bit_density": _PRODUCT,
    "sparse: missing in mlx: execute_plan": _PRODUCT,
    "sparse: missing in mlx: plan_arrays": _PRODUCT,
    "sparse: missing in mlx: product_conv": _PRODUCT,
    "sparse: missing in mlx: product_density": _PRODUCT,
    "sparse: missing in mlx: product_matmul": _PRODUCT,
    "sparse: missing in mlx: product_plan": _PRODUCT,
    "sparse: missing in mlx: run_plan": _PRODUCT,
    "sparse: STRATEGIES: keys ('bcoo', 'bcsr', 'product') only in jax": _NO_SPARSE_FORMATS + "; " + _PRODUCT,
    "sparse: BINARY_ONLY: values differ": "a tuple of strategy names: MLX lacks bcoo/bcsr/product",
    "sparse: WITH_CAPACITY: values differ": "a tuple of strategy names: MLX lacks bcoo/bcsr",
    "nn: SpikingConv.__init__: rngs (KEYWORD_ONLY, required) vs key (KEYWORD_ONLY, None)": _KEY,
    "nn: SpikingDense.__init__: rngs (KEYWORD_ONLY, required) vs key (KEYWORD_ONLY, None)": _KEY,
    "nn: SpikingConv1D.__init__: rngs (KEYWORD_ONLY, required) vs key (KEYWORD_ONLY, None)": _KEY,
    "nn: SpikingRecurrentDense.__init__: rngs (KEYWORD_ONLY, required) vs key (KEYWORD_ONLY, None)": _KEY,
    "nn: LIReadout.__init__: rngs (KEYWORD_ONLY, required) vs key (KEYWORD_ONLY, None)": _KEY,
    "nn: SpikingDropout.__init__: rng_collection (KEYWORD_ONLY, 'dropout') vs key (KEYWORD_ONLY, None)":
        _DROP,
    "nn: SpikingDropout.__init__: 5 parameters vs 4": _DROP,
    "models: ConvSNN.__init__: rngs (KEYWORD_ONLY, required) vs key (KEYWORD_ONLY, None)": _KEY,
}


def _modules(name: str):
    jax_mod = importlib.import_module("tacjax" + (f".{name}" if name else ""))
    mlx_mod = importlib.import_module("tacjax.mlx" + (f".{name}" if name else ""))
    return jax_mod, mlx_mod


def _default(d):
    """A default comparable across backends: dtypes by name, functions by name, dataclasses by fields."""
    if d is inspect.Parameter.empty:
        return "required"
    if d is None or isinstance(d, str | int | float | bool | tuple):
        return repr(d)
    if dataclasses.is_dataclass(d):
        return f"{type(d).__name__}{dataclasses.astuple(d)!r}"
    if callable(d) and hasattr(d, "__name__"):
        return d.__name__
    return str(d).rsplit(".", 1)[-1]  # jnp.float32 / mx.float32 -> "float32"


def _params(fn) -> list[str]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ["<no signature>"]
    return [f"{p.name} ({p.kind.name}, {_default(p.default)})" for p in sig.parameters.values()
            if p.name != "self"]


def _compare_params(where: str, pj: list[str], pm: list[str]) -> list[str]:
    diffs = [f"{where}: {a} vs {b}" for a, b in zip(pj, pm, strict=False) if a != b]
    if len(pj) != len(pm):
        diffs.append(f"{where}: {len(pj)} parameters vs {len(pm)}")
    return diffs


def _own_methods(cls) -> dict:
    """Public methods a class defines itself or inherits from tacjax classes (not from the framework)."""
    out = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("tacjax"):
            out.update({n: f for n, f in vars(klass).items()
                        if callable(f) and (not n.startswith("_") or n in ("__init__", "__call__"))})
    return out


def _compare(obj_j, obj_m, where: str) -> list[str]:
    if inspect.isclass(obj_j) and inspect.isclass(obj_m):
        diffs = []
        if dataclasses.is_dataclass(obj_j) or dataclasses.is_dataclass(obj_m):
            fj = [(f.name, _default(f.default)) for f in dataclasses.fields(obj_j)]
            fm = [(f.name, _default(f.default)) for f in dataclasses.fields(obj_m)]
            if fj != fm:
                diffs.append(f"{where}: fields {fj} vs {fm}")
        if issubclass(obj_j, tuple) and hasattr(obj_j, "_fields"):
            if obj_j._fields != getattr(obj_m, "_fields", None):
                diffs.append(f"{where}: NamedTuple fields differ")
        mj, mm = _own_methods(obj_j), _own_methods(obj_m)
        for n in sorted(set(mj) | set(mm)):
            if n not in mj or n not in mm:
                diffs.append(f"{where}.{n}: only in {'jax' if n in mj else 'mlx'}")
            else:
                diffs += _compare_params(f"{where}.{n}", _params(mj[n]), _params(mm[n]))
        return diffs
    if callable(obj_j) and callable(obj_m):
        return _compare_params(where, _params(obj_j), _params(obj_m))
    if isinstance(obj_j, dict) and isinstance(obj_m, dict):
        only = tuple(k for k in obj_j if k not in obj_m)
        extra = tuple(k for k in obj_m if k not in obj_j)
        return ([f"{where}: keys {only} only in jax"] if only else []) + \
            ([f"{where}: keys {extra} only in mlx"] if extra else [])
    if obj_j != obj_m:
        return [f"{where}: values differ"]
    return []


def _differences(pair: str) -> list[str]:
    jax_mod, mlx_mod = _modules(pair)
    label = pair or "tacjax"
    nj, nm = set(jax_mod.__all__), set(mlx_mod.__all__)
    diffs = [f"{label}: missing in mlx: {n}" for n in sorted(nj - nm)]
    diffs += [f"{label}: only in mlx: {n}" for n in sorted(nm - nj)]
    for n in sorted(nj & nm):
        diffs += [f"{label}: {d}" for d in _compare(getattr(jax_mod, n), getattr(mlx_mod, n), n)]
    return diffs


def test_every_exported_name_exists():
    for pair in PAIRS:
        for mod in _modules(pair):
            missing = [n for n in mod.__all__ if not hasattr(mod, n)]
            assert not missing, f"{mod.__name__}.__all__ lists missing names {missing}"


@pytest.mark.parametrize("pair", PAIRS, ids=[p or "top" for p in PAIRS])
def test_names_and_signatures_match(pair):
    """Fails on any difference between the backends that ALLOWED does not list with a reason."""
    unexpected = [d for d in _differences(pair) if d not in ALLOWED]
    assert not unexpected, "differences not in ALLOWED:\n" + "\n".join(unexpected)


def test_allow_list_is_current():
    """Every ALLOWED entry still occurs (a fixed difference must leave the list)."""
    found = {d for pair in PAIRS for d in _differences(pair)}
    stale = sorted(set(ALLOWED) - found)
    assert not stale, f"stale ALLOWED entries: {stale}"


def test_the_comparison_can_fail():
    """A changed default, a renamed parameter and a missing method are all reported."""

    def f(x, k=1, *, share="repeat"):
        pass

    def g(x, k=2, *, share="repeat"):
        pass

    def h(x, kk=1, *, share="repeat"):
        pass

    assert _compare(f, g, "f") == ["f: k (POSITIONAL_OR_KEYWORD, 1) vs k (POSITIONAL_OR_KEYWORD, 2)"]
    assert _compare(f, h, "f")[0].startswith("f: k (POSITIONAL_OR_KEYWORD, 1) vs kk")
    assert _compare((1, 2), (1, 3), "c") == ["c: values differ"]
