"""tacjax.mlx.nir.from_nir against the JAX loader: same graph -> same outputs and gradients."""

import pathlib
import sys

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")
pytest.importorskip("nir.ir", reason="needs the optional `nir` package (pip install 'tacjax[nir]')")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "nir"))  # the graphs of tests/nir

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import nir_graphs as G  # noqa: E402
import numpy as np  # noqa: E402
from nir_reference import channels_last  # noqa: E402
from xbackend import assert_forward, assert_grad  # noqa: E402

from tacjax.mlx.nir import from_nir as from_nir_mlx  # noqa: E402
from tacjax.nir import from_nir as from_nir_jax  # noqa: E402


def _jax_layout(name, a):
    """An MLX loader parameter in the JAX loader's name and layout."""
    a = np.array(a)
    return ("kernel", np.moveaxis(a, 0, -1)) if name == "weight" else (name, a)


def _as_jax_tree(params):
    return {node: dict(_jax_layout(k, v) for k, v in p.items()) for node, p in params.items()}


@pytest.mark.parametrize("name", sorted(G.ALL))
def test_same_outputs_and_gradients(name):
    case = G.ALL[name]()
    jnet, mnet = from_nir_jax(case.graph, dt=case.dt), from_nir_mlx(case.graph, dt=case.dt)
    assert mnet.input_shape == jnet.input_shape and mnet.output_shape == jnet.output_shape
    assert mnet.notes == jnet.notes
    for node, p in _as_jax_tree(mnet.params).items():
        for k, v in p.items():
            np.testing.assert_array_equal(v, np.asarray(jnet.params[node][k]), err_msg=f"{node}.{k}")
    x = channels_last(case.x).astype(np.float32)
    yj, sj = jnet.apply(jnet.params, jnp.asarray(x))
    ym, sm = mnet.apply(mnet.params, mx.array(x))
    assert_forward(ym, yj, what=f"{name} output")
    assert np.asarray(yj).any()
    for a, b in zip(jax.tree.leaves(sm), jax.tree.leaves(sj), strict=True):
        assert_forward(a, b, what=f"{name} final state")

    probe = np.random.default_rng(0).normal(size=np.shape(yj)).astype(np.float32)

    def loss_j(params):
        return jnp.sum(jnet.apply(params, jnp.asarray(x))[0] * probe)

    def loss_m(params):
        return mx.sum(mnet.apply(params, mx.array(x))[0] * mx.array(probe))

    gj, gm = jax.grad(loss_j)(jnet.params), _as_jax_tree(mx.grad(loss_m)(mnet.params))
    nonzero = 0
    for node, p in gm.items():
        for k, v in p.items():
            assert_grad(v, gj[node][k], what=f"{name} d/d {node}.{k}")
            nonzero += int(np.abs(v).max() > 0)
    assert nonzero > 0


def test_step_by_step_equals_apply():
    case = G.recurrent()
    net = from_nir_mlx(case.graph, dt=case.dt)
    x = mx.array(case.x.astype(np.float32))
    y_all, _ = net.apply(net.params, x)
    state, ys = net.init_state(x.shape[1]), []
    for t in range(x.shape[0]):
        state, y = net.step(net.params, state, x[t])
        ys.append(y)
    np.testing.assert_array_equal(np.array(mx.stack(ys)), np.array(y_all))


def test_same_errors_as_jax():
    net = from_nir_mlx(G.feedforward().graph, dt=0.5)
    with pytest.raises(ValueError, match=r"NIRNetwork.apply: `x` must be \[T, B, \*input_shape\]"):
        net.apply(net.params, mx.zeros((4, 2, 5)))
    with pytest.raises(ValueError, match="`state` must have the structure and shapes"):
        net.apply(net.params, mx.zeros((4, 2, 3)), net.init_state(5))
    with pytest.raises(ValueError, match=r"'lif1' \(LIF\).*`tau` has values below dt"):
        from_nir_mlx(G.feedforward().graph, dt=5.0)


def test_same_public_api():
    import inspect

    import tacjax.mlx.nir as mlx_nir
    import tacjax.nir as jax_nir

    def params(fn):
        return [(p.name, p.kind, getattr(p.default, "__name__", p.default))
                for p in inspect.signature(fn).parameters.values()]

    assert mlx_nir.__all__ == ["NIRNetwork", "from_nir"]  # the loader (exporting is JAX-side)
    assert set(mlx_nir.__all__) <= set(jax_nir.__all__)
    assert params(jax_nir.from_nir) == params(mlx_nir.from_nir)
    for method in ("apply", "step", "init_state", "__call__"):
        assert params(getattr(jax_nir.NIRNetwork, method)) == params(getattr(mlx_nir.NIRNetwork, method))
