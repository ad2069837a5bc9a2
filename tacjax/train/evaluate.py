"""Evaluation (loss, accuracy, firing rates over a whole data set) and inference timing."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from tacjax.train import _checks as ck
from tacjax.train.batches import padded_batches, place, seed_keys
from tacjax.train.losses import LOSSES
from tacjax.train.step import Encoder, make_eval_step, readout_classes, split_model

__all__ = ["evaluate", "measure_inference"]


def check_data(data, encoder: Encoder | None, fn: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``check_dataset`` plus the encoder's own input check (``check_inputs``, if it has one)."""
    x, y = ck.check_dataset(data, fn, name, time_major=encoder is None)
    if hasattr(encoder, "check_inputs"):
        encoder.check_inputs(x, fn, name)
    return x, y


def check_labels(y: np.ndarray, num_classes: int, fn: str, name: str) -> None:
    """Labels must be class indices of the model's readout: ``0 <= y < num_classes``."""
    if y.max() >= num_classes:
        raise ValueError(f"{fn}: `{name}` labels must lie in [0, {num_classes}) (the model's readout has "
                         f"{num_classes} classes); got values up to {y.max()}.")


def run_evaluation(step, params, rest, x: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int,
                   axis: int, mesh) -> dict:
    """``evaluate``'s loop on checked arrays (no validation): sums ``step``'s outputs over batches."""
    key = seed_keys(seed).eval
    totals = None
    for i, (xb, yb, mask) in enumerate(padded_batches(x, y, batch_size, axis)):
        out = step(params, rest, *place(mesh, xb, yb, mask, axis=axis), jax.random.fold_in(key, i))
        totals = out if totals is None else jax.tree.map(jnp.add, totals, out)
    totals = jax.device_get(totals)
    count = float(totals["count"])
    return {"loss": float(totals["loss"]) / count, "accuracy": float(totals["correct"]) / count,
            "rates": {k: float(v) / count for k, v in totals["rates"].items()}, "num_samples": int(count)}


def evaluate(graphdef, params, rest, data, *, encoder: Encoder | None, batch_size: int, seed: int = 0,
             loss: str = "membrane", mesh=None, eval_step=None) -> dict:
    """Loss, accuracy and per-layer firing rates on ``data`` (every sample; the last batch is padded
    and the padding is not counted).

    Args:
        graphdef, params, rest: from ``split_model``.
        data: ``(inputs, labels [N])``: inputs ``[N, ...]`` for an encoder, or float ``[T, N, ...]``
            (already time-major) when ``encoder`` is None; labels int in ``[0, C)``.
        encoder: ``(key, batch) -> [T, B, ...]``, or None (batches of ``[T, N, ...]`` along axis 1).
            Batch ``i`` uses ``fold_in(eval_key, i)`` with ``eval_key = split(key(seed))[1]``, a
            stream separate from training's (``tacjax.train.batches``).
        batch_size: evaluation batch (divisible by the mesh size when ``mesh`` is given).
        seed: an int >= 0.
        loss: "membrane" (default) or "count".
        mesh: optional batch mesh (``tacjax.train.batch_mesh``).
        eval_step: a step from ``make_eval_step`` to reuse (avoids recompiling).

    Returns:
        ``{"loss", "accuracy", "rates": {layer: mean rate}, "num_samples"}``.
    """
    fn = "evaluate"
    ck.check_choice(loss, LOSSES, fn, "loss")
    x, y = check_data(data, encoder, fn, "data")
    batch_size = ck.check_int(batch_size, fn, "batch_size")
    seed = ck.check_int(seed, fn, "seed", minimum=0)
    ck.check_divisible(batch_size, ck.check_mesh(mesh, fn), fn, "batch_size")
    ck.check_callable(eval_step, fn, "eval_step", allow_none=True)
    step = eval_step or make_eval_step(graphdef, encoder, loss=loss)
    axis = 1 if encoder is None else 0
    probe = next(padded_batches(x, y, batch_size, axis))[0]
    check_labels(y, readout_classes(graphdef, params, rest, encoder, probe, loss, fn, "data"), fn, "data")
    return run_evaluation(step, params, rest, x, y, batch_size=batch_size, seed=seed, axis=axis, mesh=mesh)


def measure_inference(model: nnx.Module, x: jax.Array, *, repeats: int = 5) -> float:
    """Median seconds per sample of a jitted forward pass on the time-major batch ``x`` ``[T, B, ...]``.

    Compilation and one warm-up run are excluded; every run ends with ``block_until_ready``.

    Args:
        model: an NNX model taking ``x``.
        x: a float array ``[T, B, ...]`` (B >= 1).
        repeats: timed runs (an int >= 1).
    """
    fn = "measure_inference"
    graphdef, params, rest = split_model(model)
    repeats = ck.check_int(repeats, fn, "repeats")
    if not hasattr(x, "shape") or len(x.shape) < 2 or x.shape[1] < 1:
        raise ValueError(f"{fn}: `x` must be an array [T, B, ...] with B >= 1; got "
                         f"{getattr(x, 'shape', type(x).__name__)}.")
    fwd = jax.jit(lambda p, r, v: nnx.merge(graphdef, p, r)(v))
    jax.block_until_ready(fwd(params, rest, x))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fwd(params, rest, x))
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) / x.shape[1]
