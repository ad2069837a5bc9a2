"""Training loop: epochs of jitted steps, evaluation, timing, progress bar, metrics, resume.

Determinism: epoch ``e`` shuffles with ``numpy.random.default_rng([seed, e])`` and batch ``i``
encodes with ``fold_in(fold_in(key(seed), e), i)``, so a run resumed from the checkpoint of a
completed epoch repeats exactly what an uninterrupted run would do.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from tacjax.train.checkpoint import EpochCheckpointer
from tacjax.train.optim import make_optimizer
from tacjax.train.parallel import replicate, shard_batch
from tacjax.train.step import Encoder, make_eval_step, make_train_step, split_model

__all__ = ["evaluate", "fit", "measure_inference", "write_metrics"]


def _put(mesh, *arrays):
    return shard_batch(mesh, *arrays) if mesh is not None else tuple(jnp.asarray(a) for a in arrays)


def _check_data(data, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise TypeError(f"fit: `{name}` must be a pair (inputs [N, ...], labels [N]); "
                        f"got {type(data).__name__}.")
    x, y = np.asarray(data[0]), np.asarray(data[1])
    if y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise ValueError(f"fit: `{name}` inputs {x.shape} and labels {y.shape} must share N (labels [N]).")
    return x, y.astype(np.int32)


def evaluate(graphdef, params, rest, data, *, encoder: Encoder, batch_size: int, seed: int = 0,
             loss: str = "count", mesh=None, eval_step=None) -> dict:
    """Loss, accuracy and per-layer firing rates on ``data`` (every sample; last batch padded).

    Args:
        graphdef, params, rest: from ``split_model``.
        data: ``(inputs [N, ...], labels [N])``.
        encoder: ``(key, batch) -> [T, B, ...]``; batch ``i`` uses ``fold_in(key(seed), i)``.
        batch_size: evaluation batch (divisible by the mesh size when ``mesh`` is given).
        loss: "count" or "membrane".
        mesh: optional batch mesh (``tacjax.train.batch_mesh``).
        eval_step: a step from ``make_eval_step`` to reuse (avoids recompiling).

    Returns:
        ``{"loss", "accuracy", "rates": {layer: mean rate}, "num_samples"}``.
    """
    x, y = _check_data(data, "data")
    step = eval_step or make_eval_step(graphdef, encoder, loss=loss)
    key = jax.random.fold_in(jax.random.key(seed), 1)
    totals = None
    for i in range(math.ceil(len(y) / batch_size)):
        xb, yb = x[i * batch_size:(i + 1) * batch_size], y[i * batch_size:(i + 1) * batch_size]
        n = len(yb)
        mask = np.arange(batch_size) < n
        if n < batch_size:
            xb = np.concatenate([xb, np.zeros((batch_size - n, *xb.shape[1:]), xb.dtype)])
            yb = np.concatenate([yb, np.zeros(batch_size - n, yb.dtype)])
        out = step(params, rest, *_put(mesh, xb, yb, mask), jax.random.fold_in(key, i))
        totals = out if totals is None else jax.tree.map(jnp.add, totals, out)
    totals = jax.device_get(totals)
    count = float(totals["count"])
    return {"loss": float(totals["loss"]) / count, "accuracy": float(totals["correct"]) / count,
            "rates": {k: float(v) / count for k, v in totals["rates"].items()}, "num_samples": int(count)}


def write_metrics(history: list[dict], path_prefix: str | os.PathLike) -> tuple[str, str]:
    """Write ``history`` (one flat dict per epoch) to ``<prefix>.json`` and ``<prefix>.csv``."""
    prefix = os.fspath(path_prefix)
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    with open(prefix + ".json", "w") as f:
        json.dump(history, f, indent=1)
    keys = sorted({k for row in history for k in row if not isinstance(row[k], dict)})
    with open(prefix + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(history)
    return prefix + ".json", prefix + ".csv"


def fit(model: nnx.Module, train, test=None, *, encoder: Encoder, epochs: int, batch_size: int,
        learning_rate: float = 1e-3, seed: int = 0, loss: str = "count", eval_batch_size: int | None = None,
        checkpoint_dir: str | None = None, metrics_path: str | None = None, mesh=None,
        progress: bool = True, desc: str = "train", log_every: int = 10,
        callback: Callable[[int, dict], None] | None = None) -> list[dict]:
    """Train ``model`` in place with Adam + cosine decay; return the per-epoch history.

    Args:
        model: an NNX model mapping ``[T, B, ...]`` to readout spikes ``[T_out, B, C]``.
        train: ``(inputs [N, ...], labels [N])`` as NumPy arrays; inputs go through ``encoder``.
        test: optional evaluation pair, evaluated after every epoch.
        encoder: ``(key, batch) -> [T, B, ...]`` (``rate_encoder`` / ``events_encoder``).
        epochs: total epochs (sets the cosine schedule length).
        batch_size: training batch (the last incomplete batch of an epoch is dropped).
        learning_rate: peak Adam rate.
        seed: shuffling and encoding seed (the model's init seed is the caller's).
        loss: "count" or "membrane".
        eval_batch_size: defaults to ``batch_size``.
        checkpoint_dir: save after every epoch; if it holds a checkpoint, resume from it.
        metrics_path: prefix for ``.json``/``.csv`` metrics (rewritten after every epoch).
        mesh: a batch mesh for data parallelism (batch sizes divisible by its size).
        progress: show a tqdm bar with loss, accuracy and samples/s.
        desc: progress-bar label.
        log_every: steps between progress-bar updates (each one synchronises).
        callback: ``callback(epoch, row)`` after each epoch's checkpoint.

    Returns:
        History: one dict per epoch with ``epoch``, ``train_loss``, ``train_accuracy``,
        ``train_time_s`` (epoch wall time without compilation), ``samples_per_s``,
        ``compile_s`` (first step compile + run; 0 on later epochs) and, with ``test``,
        ``test_loss``, ``test_accuracy``, ``eval_time_s`` (without compilation; its compile time is
        ``eval_compile_s`` on the first epoch of a call) and ``rates`` (dict).
    """
    x, y = _check_data(train, "train")
    steps_per_epoch = len(y) // batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"fit: batch_size {batch_size} exceeds the {len(y)} training samples.")
    graphdef, params, rest = split_model(model)
    tx = make_optimizer(learning_rate, epochs * steps_per_epoch)
    opt_state = tx.init(params)
    if mesh is not None:
        params, rest, opt_state = replicate(mesh, (params, rest, opt_state))
    step = make_train_step(graphdef, tx, encoder, loss=loss)
    eval_step = make_eval_step(graphdef, encoder, loss=loss) if test is not None else None
    eb = eval_batch_size or batch_size
    history: list[dict] = []
    start = 0
    ckpt = EpochCheckpointer(checkpoint_dir) if checkpoint_dir else None
    if ckpt is not None and ckpt.latest_epoch() is not None:
        state, history = ckpt.restore({"params": params, "rest": rest, "opt_state": opt_state})
        params, rest, opt_state = state["params"], state["rest"], state["opt_state"]
        start = ckpt.latest_epoch()
    base = jax.random.key(seed)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=(epochs - start) * steps_per_epoch, desc=desc, unit="batch", leave=False)
    try:
        for epoch in range(start, epochs):
            order = np.random.default_rng([seed, epoch]).permutation(len(y))
            ekey = jax.random.fold_in(base, epoch)
            compile_s = 0.0
            if epoch == start:  # compile outside the timed epoch (the result is discarded)
                t0 = time.perf_counter()
                xb, yb = _put(mesh, x[order[:batch_size]], y[order[:batch_size]])
                jax.block_until_ready(step(params, rest, opt_state, xb, yb, ekey))
                compile_s = time.perf_counter() - t0
            sums, t0, seen = None, time.perf_counter(), 0
            for i in range(steps_per_epoch):
                idx = order[i * batch_size:(i + 1) * batch_size]
                xb, yb = _put(mesh, x[idx], y[idx])
                params, opt_state, m = step(params, rest, opt_state, xb, yb, jax.random.fold_in(ekey, i))
                sums = m if sums is None else jax.tree.map(jnp.add, sums, m)
                seen += batch_size
                if bar is not None:
                    bar.update(1)
                    if (i + 1) % log_every == 0 or i + 1 == steps_per_epoch:
                        s = jax.device_get(sums)
                        bar.set_postfix(epoch=epoch + 1, loss=f"{s['loss'] / (i + 1):.3f}",
                                        acc=f"{s['accuracy'] / (i + 1):.3f}",
                                        sps=f"{seen / (time.perf_counter() - t0):.0f}")
            jax.block_until_ready(params)
            dt = time.perf_counter() - t0
            s = jax.device_get(sums)
            row = {"epoch": epoch + 1, "train_loss": float(s["loss"]) / steps_per_epoch,
                   "train_accuracy": float(s["accuracy"]) / steps_per_epoch, "train_time_s": dt,
                   "samples_per_s": seen / dt, "compile_s": compile_s}
            if test is not None:
                if epoch == start:  # compile the evaluation outside its timing
                    t1 = time.perf_counter()
                    evaluate(graphdef, params, rest, (test[0][:eb], test[1][:eb]), encoder=encoder,
                             batch_size=eb, seed=seed, loss=loss, mesh=mesh, eval_step=eval_step)
                    row["eval_compile_s"] = time.perf_counter() - t1
                t1 = time.perf_counter()
                ev = evaluate(graphdef, params, rest, test, encoder=encoder,
                              batch_size=eb, seed=seed, loss=loss, mesh=mesh,
                              eval_step=eval_step)
                row.update(test_loss=ev["loss"], test_accuracy=ev["accuracy"], rates=ev["rates"],
                           eval_time_s=time.perf_counter() - t1)
            history.append(row)
            if ckpt is not None:
                ckpt.save(epoch + 1, {"params": params, "rest": rest, "opt_state": opt_state}, history)
            if metrics_path:
                write_metrics(history, metrics_path)
            if callback is not None:
                callback(epoch + 1, row)
    finally:
        if bar is not None:
            bar.close()
        if ckpt is not None:
            ckpt.close()
        nnx.update(model, params, rest)
    return history


def measure_inference(model: nnx.Module, x: jax.Array, *, repeats: int = 5) -> float:
    """Median seconds per sample of a jitted forward pass on the time-major batch ``x`` ``[T, B, ...]``.

    Compilation and one warm-up run are excluded; every run ends with ``block_until_ready``.
    """
    graphdef, params, rest = split_model(model)
    fwd = jax.jit(lambda p, r, v: nnx.merge(graphdef, p, r)(v))
    jax.block_until_ready(fwd(params, rest, x))
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        jax.block_until_ready(fwd(params, rest, x))
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) / x.shape[1]
