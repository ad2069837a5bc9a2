"""The order profile of a network: every conv layer's order statistics at every K, from one batch.

One forward pass of the *baseline* network (every layer one call per frame, so every layer sees all
T steps) with ``return_stats=True`` gives each conv layer's input spike train; ``frame_gram`` and
``order_scores`` (``tacjax.plan.stats``) then score it at ``K = 1 .. T`` (``jax.vmap`` over K).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from tacjax.plan.stats import STATISTICS, frame_gram, order_scores

__all__ = ["OrderProfile", "baseline_model", "check_batch", "order_profile"]

_FIXED = ("modes", "ks", "rngs")


class OrderProfile(NamedTuple):
    """Order statistics of each conv layer's input in the baseline network.

    Attributes:
        layers: ``("conv1", ..., "convN", "fc")``: every layer whose input is scored (the readout's
            input is the last conv block's spike train ``[T, B, H', W', C']``, before flattening).
        num_steps: T of the calibration batch (the networks take T from their input).
        scores: statistic name (``STATISTICS``) -> float64 ``[N, T]``; ``scores[s][i, k - 1]`` is
            statistic ``s`` of ``layers[i]``'s input at ``K = k``.
        rates: mean input spike rate of each conv layer and of ``"fc"`` on the batch.
        batch: B of the calibration batch.
    """

    layers: tuple[str, ...]
    num_steps: int
    scores: dict[str, np.ndarray]
    rates: dict[str, float]
    batch: int


def baseline_model(model, *, seed: int = 0):
    """A baseline ``ConvSNN`` from ``model``: the model itself, or one built from constructor arguments.

    Args:
        model: a ``tacjax.models.ConvSNN`` (``MNISTNet``, ``DVSGestureNet``) whose conv layers are all
            "baseline", or a mapping of ``ConvSNN`` keyword arguments (``in_size``,
            ``in_channels``, ``channels``, ``num_classes``, optionally ``lif``, ``pool``, ...) without
            ``modes``, ``ks`` or ``rngs``.
        seed: init seed when the model is built (``nnx.Rngs(seed)``).

    Raises:
        ValueError: a model with a non-baseline layer, or a mapping with ``modes``/``ks``/``rngs``.
        TypeError: neither a ``ConvSNN`` nor a mapping.
    """
    from flax import nnx

    from tacjax.models import ConvSNN

    fn = "tacjax.plan"
    if isinstance(model, ConvSNN):
        modes = tuple(c.mode for c in model.convs())
        if any(m != "baseline" for m in modes):
            raise ValueError(f"{fn}: `model` must be the baseline network (every conv layer 'baseline', so "
                             f"every layer sees all T steps); got modes {modes}.")
        return model
    if not isinstance(model, Mapping):
        raise TypeError(f"{fn}: `model` must be a ConvSNN or a mapping of ConvSNN arguments; got "
                        f"{type(model).__name__}.")
    bad = [k for k in _FIXED if k in model]
    if bad:
        raise ValueError(f"{fn}: `model` arguments must not set {bad}: the planner builds the baseline "
                         "network itself and chooses modes and ks.")
    return ConvSNN(**model, modes="baseline", ks=1, rngs=nnx.Rngs(seed))


def check_batch(x, model, fn: str) -> jax.Array:
    """``x`` as a float array after checking it is a calibration batch ``[T, B, H, W, C]`` for ``model``.

    Raises:
        TypeError: ``x`` is not floating.
        ValueError: wrong rank, a shape that does not match the model, B < 2, or (concrete ``x``)
            non-finite values.
    """
    shape = tuple(np.shape(x))
    if len(shape) != 5:
        raise ValueError(f"{fn}: calibration batch `x` must be [T, B, H, W, C] (rank 5); got shape {shape}.")
    want = (shape[0], model.in_size, model.in_size, model.in_channels)  # any T: the network reads it from x
    dtype = jnp.result_type(x)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"{fn}: calibration batch `x` must be floating (float32, ...); got dtype {dtype}.")
    if (shape[0], *shape[2:]) != want or shape[1] < 2:
        raise ValueError(f"{fn}: calibration batch `x` must be [T, B, H, W, C] = [{want[0]}, B >= 2, "
                         f"{want[1]}, {want[2]}, {want[3]}] for this model; got shape {shape}.")
    x = jnp.asarray(x)
    if not isinstance(x, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(x))):
        raise ValueError(f"{fn}: calibration batch `x` holds non-finite values (NaN or inf).")
    return x


@functools.partial(jax.jit, static_argnames=("z",))
def _scores_all_k(gram: jax.Array, key: jax.Array, z: float) -> tuple:
    ks = jnp.arange(1, gram.shape[-1] + 1)
    return jax.vmap(lambda k: order_scores(gram, k, key, z=z))(ks)


def order_profile(model, x, *, key: jax.Array | None = None, seed: int = 0, z: float = 1.0) -> OrderProfile:
    """Score every conv layer's input in the baseline network at ``K = 1 .. T``.

    Args:
        model: a baseline ``ConvSNN`` or its constructor arguments (see ``baseline_model``).
        x: calibration batch ``[T, B, H, W, C]`` (floating; T, H, W, C those of the model; B >= 2).
        key: PRNG key of the permutation null (default ``jax.random.key(0)``).
        seed: init seed when ``model`` is a mapping.
        z: significance margin of the statistics, in null standard deviations (``order_scores``).

    Returns:
        ``OrderProfile``. Not jittable as a whole (it returns NumPy); the forward pass is one jitted
        call, and so is each layer's scoring.
    """
    model = baseline_model(model, seed=seed)
    x = check_batch(x, model, "tacjax.plan")
    key = jax.random.key(0) if key is None else key
    from tacjax.models import _stats_jitted

    stats = _stats_jitted(model, x.astype(jnp.float32))
    layers = (*(f"conv{i + 1}" for i in range(model.num_layers)), "fc")
    inputs = ("input", *layers[:-1])
    scores = {s: [] for s in STATISTICS}
    rates = {}
    for i, name in enumerate(layers):
        inp = stats[inputs[i]]
        rates[name] = float(jnp.mean(inp))
        out = _scores_all_k(frame_gram(inp), jax.random.fold_in(key, i), float(z))
        for s in STATISTICS:
            scores[s].append(np.asarray(getattr(out, s), np.float64))
    return OrderProfile(layers, int(x.shape[0]), {s: np.stack(v) for s, v in scores.items()}, rates,
                        int(x.shape[1]))
