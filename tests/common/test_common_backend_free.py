"""tacjax.common needs neither JAX nor MLX, the JAX core needs no MLX, and both backends share one text."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from tacjax.common import checks, docs, tac

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMMON = sorted(p.stem for p in (ROOT / "tacjax" / "common").glob("*.py") if p.stem != "__init__")

BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ModuleNotFoundError('blocked in this test: ' + name, name=name)
sys.meta_path.insert(0, Block())
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_common_imports_with_jax_flax_and_mlx_blocked():
    """Every tacjax.common module loads in a process where importing jax, flax or mlx fails."""
    assert {"checks", "docs", "neurons", "outputs", "parallel", "surrogates", "tac"} <= set(COMMON)
    code = BLOCKER.format(blocked={"jax", "jaxlib", "flax", "mlx"}) + (
        "import types\n"
        f"pkg = types.ModuleType('tacjax'); pkg.__path__ = [{str(ROOT / 'tacjax')!r}]\n"
        "sys.modules['tacjax'] = pkg  # the package root imports jax: load the subpackage alone\n"
        "import importlib\n"
        f"for name in {COMMON!r}:\n"
        "    importlib.import_module('tacjax.common.' + name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib', 'flax', 'mlx'))\n"
        "assert not bad, bad\n"
        "print('OK', len([m for m in sys.modules if m.startswith('tacjax.common.')]))\n"
    )
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"OK {len(COMMON)}"


def test_blocker_blocks():
    """The blocker above really makes importing jax fail (so the previous test can fail)."""
    out = _run(BLOCKER.format(blocked={"jax"}) + "import jax\n")
    assert out.returncode != 0 and "blocked in this test: jax" in out.stderr


def test_jax_core_imports_without_mlx():
    """With mlx blocked, `import tacjax` and every core module work; `tacjax.mlx` names the extra."""
    code = BLOCKER.format(blocked={"mlx"}) + (
        "import tacjax, tacjax.neurons, tacjax.neurons.lif, tacjax.aggregate, tacjax.dynamic\n"
        "import tacjax.parallel, tacjax.surrogate, tacjax.encoding, tacjax._checks\n"
        "import jax.numpy as jnp\n"
        "assert float(tacjax.lif_scan(jnp.ones((2, 1)))[0].sum()) == 2.0\n"
        "try:\n"
        "    import tacjax.mlx\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    )
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert "ERR" in out.stdout and "pip install 'tacjax[mlx]'" in out.stdout


def test_only_tacjax_mlx_imports_mlx():
    package = ROOT / "tacjax"
    offenders = [str(p.relative_to(package)) for p in package.rglob("*.py")
                 if p.relative_to(package).parts[0] != "mlx"
                 and any(line.lstrip().startswith(("import mlx", "from mlx"))
                         for line in p.read_text().splitlines())]
    assert not offenders, f"these modules import mlx outside tacjax/mlx: {offenders}"


def test_dtype_names_by_duck_typing():
    import jax.numpy as jnp

    assert checks.dtype_name(np.zeros(2, np.float32)) == "float32"
    assert checks.dtype_name(jnp.zeros(2, jnp.bfloat16)) == "bfloat16"
    assert [checks.dtype_name(v) for v in (1.5, 2, True)] == ["float", "int", "bool"]
    assert checks.is_floating_dtype(jnp.float16) and not checks.is_floating_dtype(jnp.int32)
    assert not checks.is_floating_dtype(None)
    mx = pytest.importorskip("mlx.core")
    assert checks.dtype_name(mx.zeros(2, mx.bfloat16)) == "bfloat16"
    assert checks.is_floating_dtype(mx.float16) and not checks.is_floating_dtype(mx.uint32)


def test_check_values_messages():
    checks.check_values(np.array([0.0, 1.0]), "beta", "f", low=0.0, high=1.0)  # bounds included
    with pytest.raises(ValueError, match=r"^f: `beta` must be finite and in \(0.0, 1.0\); got 1.0\.$"):
        checks.check_values(1.0, "beta", "f", low=0.0, high=1.0, low_open=True, high_open=True)
    with pytest.raises(ValueError, match=r"^f: `w` must be finite; got an array of shape \(3,\) \(2 of 3"):
        checks.check_values(np.array([1.0, np.nan, np.inf]), "w", "f")
    with pytest.raises(TypeError, match=r"^f: `p` must be a real number or a numeric array; got bool True"):
        checks.check_values(True, "p", "f")


def test_chunk_geometry_as_plain_numbers():
    assert tac.chunk_lengths(7, 3) == (3, 3, 1)
    np.testing.assert_array_equal(tac.weight_exponents(3), [2.0, 1.0, 0.0])
    np.testing.assert_array_equal(tac.constant_weights(4, "mean"), [0.25] * 4)
    np.testing.assert_allclose(tac.share_scales((3, 3, 1), "mean"), [1 / 3, 1 / 3, 1.0])
    assert tac.share_scales((3, 1), "repeat") is None
    np.testing.assert_allclose(tac.weight_logits(3, 0.5), [2 * np.log(0.5), np.log(0.5), 0.0])


@pytest.mark.parametrize("fragment,modules", [
    ("LIF", ["neurons.lif"]), ("PRECISION", ["neurons.lif"]), ("NEURON_CONVENTION", ["neurons"]),
    ("TAC", ["aggregate"]), ("DYNAMIC", ["dynamic"]), ("PSU", ["parallel"]),
])
def test_docstring_fragments_are_in_both_backends(fragment, modules):
    import importlib

    text = getattr(docs, fragment)
    for name in modules:
        assert text in importlib.import_module(f"tacjax.{name}").__doc__
    pytest.importorskip("mlx.core")
    for name in modules:
        assert text in importlib.import_module(f"tacjax.mlx.{name}").__doc__
