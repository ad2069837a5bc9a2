"""Pieces the JAX libraries' workers share: the gradient and training benches, pooling, device memory.

The training step is the one a user writes with optax (Adam, lr 1e-3, cross-entropy on the time-mean
of the readout membrane); only the network differs between tacjax, plain JAX and spyx.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from peers.harness import Bench, jax_memory

__all__ = ["device_peak_bytes", "grad_bench", "max_pool2", "runtime", "setup", "train_bench"]


def setup(threads: int) -> None:
    """Nothing to do in-process: JAX's thread flags are set in the worker's environment."""
    del threads


def runtime() -> dict:
    """``tacjax.runtime.describe()`` of this process (backend, devices, tcmalloc, XLA flags)."""
    from tacjax.runtime import describe

    return describe()


def device_peak_bytes() -> int | None:
    """Peak bytes in use on the default device (accelerators; None where not reported)."""
    dev = jax.devices()[0]
    if dev.platform == "cpu":
        return None
    stats = dev.memory_stats() or {}
    return stats.get("peak_bytes_in_use")


def max_pool2(s: jax.Array) -> jax.Array:
    """2x2 max-pool of ``[T, B, H, W, C]`` spikes (odd borders dropped)."""
    t, b, h, w, c = s.shape
    s = s[:, :, : h // 2 * 2, : w // 2 * 2]
    return s.reshape(t, b, h // 2, 2, w // 2, 2, c).max(axis=(3, 5))


def grad_bench(loss_fn: Callable, w, x) -> Bench:
    """Forward + gradient of ``loss_fn(w, x)`` with respect to ``w`` (one jitted call)."""
    w, x = jnp.asarray(w), jnp.asarray(x)
    f = jax.jit(jax.value_and_grad(loss_fn))
    return Bench(lambda: f(w, x), jax.block_until_ready, jax_memory(f, w, x))


def train_bench(readout_fn: Callable, params, x, y) -> Bench:
    """One Adam step on the cross-entropy of the time-mean of ``readout_fn(params, x)`` ``[T, B, C]``.

    The parameters and optimiser state carry over from step to step, as in a training loop.
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    # Strong dtypes: a weakly typed leaf (e.g. ``jnp.full((), 0.9)``) comes back strong from the update and
    # would recompile the step once per change of signature.
    params = jax.tree.map(lambda a: jnp.array(a, dtype=a.dtype), params)
    tx = optax.adam(1e-3)

    def loss_fn(p):
        mem = readout_fn(p, x)
        return optax.softmax_cross_entropy_with_integer_labels(mem.mean(0), y).mean()

    @jax.jit
    def train(p, opt_state):
        loss, g = jax.value_and_grad(loss_fn)(p)
        updates, opt_state = tx.update(g, opt_state, p)
        return loss, optax.apply_updates(p, updates), opt_state

    state = [params, tx.init(params)]

    def step():
        loss, state[0], state[1] = train(*state)
        return loss, state[0], state[1]

    return Bench(step, jax.block_until_ready, jax_memory(train, *state))
