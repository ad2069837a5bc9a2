"""Example: a recurrent SNN on SHD-shaped input (700 channels, T = 100) trained a few steps on generated data.

With the real data: ``frames, labels = tacjax.data.load_shd(data_dir, "train", num_steps=100,
time_major=True)`` gives ``[100, N, 700]`` spike counts; batch them on axis 1
(``tacjax.data.batches((frames, labels), B, axes=(1, 0))``) and train the same model.
"""

import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from tacjax.data import SHD_CHANNELS
from tacjax.neurons import ALIFParams, LIFParams
from tacjax.nn import LIReadout, SpikingDense, SpikingRecurrentDense, SpikingSequential
from tacjax.train import accuracy, membrane_cross_entropy

T, B, CLASSES, HIDDEN = 100, 16, 4, 32


def shd_like(n, seed):
    """[T, n, 700] spikes: class c fires a band of channels that sweeps up (c even) or down (c odd)
    over time, starting in quarter c // 2 of the cochlea, over sparse background noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, n)
    x = (rng.random((T, n, SHD_CHANNELS)) < 0.005).astype(np.float32)
    for i, c in enumerate(labels):
        start = (c // 2) * 175
        for t in range(T):
            centre = start + (t if c % 2 == 0 else 175 - t)
            lo = int(np.clip(centre, 0, SHD_CHANNELS - 20))
            x[t, i, lo:lo + 20] = (rng.random(20) < 0.3)
    return jnp.asarray(x), jnp.asarray(labels, jnp.int32)


def test_recurrent_snn_learns_on_shd_shaped_data():
    r = nnx.Rngs(0)
    model = SpikingSequential(
        SpikingRecurrentDense(SHD_CHANNELS, HIDDEN, neuron=LIFParams(beta=0.95), learn_beta=True, rngs=r),
        SpikingDense(HIDDEN, HIDDEN, neuron=ALIFParams(beta=0.95, rho=0.97, b=0.05), rngs=r),
        LIReadout(HIDDEN, CLASSES, beta=0.95, rngs=r),
    )
    optimizer = nnx.Optimizer(model, optax.adam(5e-3), wrt=nnx.Param)
    x, y = shd_like(B, 1)

    @nnx.jit
    def train_step(model, optimizer, x, y):
        def loss_fn(m):
            return membrane_cross_entropy(m(x), y, logits="last")

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    losses = [float(train_step(model, optimizer, x, y)) for _ in range(12)]
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], losses
    assert model(x).shape == (T, B, CLASSES)
    x_new, y_new = shd_like(64, 2)  # fresh samples: the last membrane step classifies them (chance 25%)
    assert float(accuracy(model(x_new)[-1:], y_new)) > 0.6
    # the recurrent weights and the learned beta took part in training
    assert float(jnp.abs(model.layers[0].recurrent_kernel[...]).sum()) > 0
    assert np.all(np.asarray(model.layers[0].neuron_params().beta) <= 1.0)
