"""The reuse forest is host planning in NumPy (no JAX), with clear errors on bad input."""

import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

from tacjax.sparse import bit_density, product_density, product_plan

FOREST = pathlib.Path(__file__).resolve().parents[2] / "tacjax" / "sparse" / "forest.py"


def test_forest_plans_without_jax():
    code = (
        "import importlib.util, sys\n"
        "for m in ('jax', 'jaxlib', 'flax', 'mlx'):\n"
        "    sys.modules[m] = None\n"
        f"spec = importlib.util.spec_from_file_location('forest', {str(FOREST)!r})\n"
        "f = sys.modules['forest'] = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(f)\n"
        "import numpy as np\n"
        "s = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1]], bool)\n"
        "print(f.product_plan(s, (4, 4)).prefix.tolist(), f.product_density(s, 10, (4, 4)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[[-1,", "0,", "0,", "-1]]", "0.25"]


def test_traced_input_is_refused_by_name():
    with pytest.raises(TypeError, match="product_plan: `s` must be concrete"):
        jax.jit(lambda s: product_plan(s).depth)(np.ones((4, 4), np.float32))


@pytest.mark.parametrize("tile", [(4,), (4, 0), (0, 4), (4, 64), (4.5, 4), "44", (True, 4)])
def test_bad_tile(tile):
    with pytest.raises(ValueError, match=r"product_plan: `tile` must be a pair of ints.*got"):
        product_plan(np.ones((4, 4), bool), tile)


@pytest.mark.parametrize("n_out", [0, -128, 2.5, [16, 0]])
def test_bad_n_out(n_out):
    s = [np.ones((4, 4), bool)] * (2 if isinstance(n_out, list) else 1)
    for fn in (bit_density, product_density):
        with pytest.raises(ValueError, match=rf"{fn.__name__}: `n_out` must hold positive ints.*got"):
            fn(s if isinstance(n_out, list) else s[0], n_out)


def test_empty_matrix_has_no_density():
    with pytest.raises(ValueError, match="bit_density: `s` holds no entries"):
        bit_density(np.zeros((0, 4), bool), 16)
    with pytest.raises(ValueError, match="product_density: `s` holds no entries"):
        product_density(np.zeros((3, 0), bool), 16)
