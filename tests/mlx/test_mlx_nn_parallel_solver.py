"""MLX layers with ``solver="parallel"`` (``tacjax.mlx.neurons.lif_parallel``) against the NNX layers
with the same solver and weights: spikes, membrane and kernel gradient; the same errors."""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402
from xbackend import assert_forward, assert_grad, assert_spikes_match  # noqa: E402

import tacjax  # noqa: E402
from tacjax import nn as jn  # noqa: E402
from tacjax.mlx import nn as mn  # noqa: E402
from tacjax.mlx.convert import jax_to_mlx  # noqa: E402

T, B = 10, 2


@pytest.mark.parametrize("kind,reset", [("dense", "subtract"), ("conv", "zero"), ("conv_tac_tp", "subtract")])
def test_parallel_solver_layers_match_jax(kind, reset):
    lif = tacjax.LIFParams(beta=0.85, threshold=0.8, reset=reset, v_reset=-0.1)
    if kind == "dense":
        jlayer, shape = jn.SpikingDense(6, 4, neuron=lif, solver="parallel", rngs=nnx.Rngs(0)), (T, B, 6)
    else:
        mode = "tac_tp" if kind == "conv_tac_tp" else "baseline"
        jlayer = jn.SpikingConv(2, 3, 3, mode=mode, k=3, pool=None, neuron=lif, solver="parallel",
                                rngs=nnx.Rngs(0))
        shape = (T, B, 5, 5, 2)
    mlayer = jax_to_mlx(jlayer)
    assert mlayer.solver == "parallel"
    x = (np.random.default_rng(1).normal(0.4, 0.8, shape)).astype(np.float32)
    sj, hj = jlayer(jnp.asarray(x), return_membrane=True)
    sm, hm = mlayer(mx.array(x), return_membrane=True)
    assert float(np.asarray(sj).mean()) > 0.05
    assert_spikes_match(sm, sj, hm, hj, 0.8)
    assert_forward(hm, hj, atol=2e-5, what="membrane")
    r = np.random.default_rng(2).normal(size=sj.shape).astype(np.float32)
    gj = nnx.grad(lambda m: jnp.sum(m(jnp.asarray(x)) * r))(jlayer).kernel[...]

    def loss_m(weight):
        mlayer.weight = weight
        return mx.sum(mlayer(mx.array(x)) * mx.array(r))

    gm = mx.grad(loss_m)(mlayer.weight)
    gm = np.array(gm).T if kind == "dense" else np.moveaxis(np.array(gm), 0, -1)  # to the JAX layout
    assert_grad(gm, gj, what="d/dkernel")


def test_bad_solver_raises_naming_it():
    with pytest.raises(ValueError, match="solver"):
        mn.SpikingDense(3, 2, solver="foo")
    with pytest.raises(ValueError, match="SpikingConv: solver 'parallel'.*synaptic"):
        mn.SpikingConv(2, 3, neuron=tacjax.mlx.neurons.SynapticParams(), solver="parallel")
    with pytest.raises(ValueError, match="SpikingConv: solver 'parallel' needs mode 'baseline' or 'tac_tp'"):
        mn.SpikingConv(2, 3, mode="tac", k=2, solver="parallel")
