"""``fit``: epochs of jitted steps, evaluation, timing, progress bar, metrics, verified checkpoints.

``fit`` runs named steps: ``_check_arguments``; ``_set_up`` (check the data against the model,
build the optimiser, the steps and the configuration fingerprint); ``_resume`` (restore the newest
good checkpoint, repair the metrics files); then per epoch ``_train_epoch``, ``_evaluate_epoch``
and ``_save_epoch``. Keys and sample order are those of ``tacjax.train.batches``, so a resumed run
repeats exactly what an uninterrupted run does (bit-identical weights).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from tacjax.train import _checks as ck
from tacjax.train.batches import SeedKeys, epoch_order, place, seed_keys, take
from tacjax.train.checkpoint import EpochCheckpointer
from tacjax.train.evaluate import check_data, check_labels, run_evaluation
from tacjax.train.fingerprint import describe, model_fingerprint
from tacjax.train.losses import LOSSES
from tacjax.train.metrics import repair_metrics, write_metrics
from tacjax.train.optim import make_optimizer
from tacjax.train.parallel import replicate
from tacjax.train.step import Encoder, make_eval_step, make_train_step, readout_classes, split_model

__all__ = ["fit"]


@dataclasses.dataclass(frozen=True)
class _Run:
    """What stays fixed during one call of ``fit`` (built by ``_set_up``)."""

    x: np.ndarray
    y: np.ndarray
    test: tuple[np.ndarray, np.ndarray] | None
    axis: int  # batch axis of the inputs: 0, or 1 when already time-major (encoder=None)
    batch_size: int
    eval_batch_size: int
    steps_per_epoch: int
    seed: int
    keys: SeedKeys
    mesh: object
    train_step: Callable
    eval_step: Callable | None
    fingerprint: dict


def _check_arguments(model, *, encoder, epochs, batch_size, learning_rate, seed, loss, eval_batch_size, mesh,
                     progress, desc, log_every, callback, max_to_keep, allow_config_change,
                     metrics_path) -> dict:
    """Every scalar argument of ``fit`` checked (the message names it), in canonical form."""
    fn = "fit"
    if not isinstance(model, nnx.Module):
        raise TypeError(f"{fn}: `model` must be a flax.nnx.Module; got {type(model).__name__}.")
    ck.check_callable(encoder, fn, "encoder", allow_none=True,
                      expected="a callable (key, batch) -> [T, B, ...] or None (inputs already [T, N, ...])")
    batch_size = ck.check_int(batch_size, fn, "batch_size")
    eval_batch_size = batch_size if eval_batch_size is None else ck.check_int(eval_batch_size, fn,
                                                                               "eval_batch_size")
    mesh = ck.check_mesh(mesh, fn)
    ck.check_divisible(batch_size, mesh, fn, "batch_size")
    ck.check_int(log_every, fn, "log_every")
    ck.check_callable(callback, fn, "callback", allow_none=True)
    ck.check_bool(progress, fn, "progress")
    ck.check_bool(allow_config_change, fn, "allow_config_change")
    if not isinstance(desc, str):
        raise TypeError(f"{fn}: `desc` must be a str; got {type(desc).__name__}.")
    if metrics_path is not None:
        ck.check_file_prefix(metrics_path, fn, "metrics_path", (".json", ".csv"))
    if max_to_keep is not None:
        ck.check_int(max_to_keep, fn, "max_to_keep")
    return dict(encoder=encoder, epochs=ck.check_int(epochs, fn, "epochs"), batch_size=batch_size,
                learning_rate=ck.check_float(learning_rate, fn, "learning_rate"),
                seed=ck.check_int(seed, fn, "seed", minimum=0), eval_batch_size=eval_batch_size, mesh=mesh,
                loss=ck.check_choice(loss, LOSSES, fn, "loss"))


def _check_datasets(graphdef, params, rest, train, test, *, encoder, loss, batch_size, eval_batch_size, mesh):
    """``(x, y, test, axis)``: the data checked against each other and the model (label range included)."""
    fn = "fit"
    x, y = check_data(train, encoder, fn, "train")
    axis = 1 if encoder is None else 0
    if batch_size > len(y):
        raise ValueError(f"{fn}: `batch_size` = {batch_size} exceeds the {len(y)} training samples.")
    classes = readout_classes(graphdef, params, rest, encoder, take(x, np.arange(batch_size), axis), loss,
                              fn, "train")
    check_labels(y, classes, fn, "train")
    if test is not None:
        test = check_data(test, encoder, fn, "test")
        ck.check_divisible(eval_batch_size, mesh, fn, "eval_batch_size")
        if test[0].shape[:axis] + test[0].shape[axis + 1:] != x.shape[:axis] + x.shape[axis + 1:]:
            raise ValueError(f"{fn}: `test` inputs {test[0].shape} and `train` inputs {x.shape} must differ "
                             f"only in the sample axis {axis}.")
        check_labels(test[1], classes, fn, "test")
    return x, y, test, axis


def _set_up(model, train, test, args: dict) -> tuple[_Run, dict]:
    """``(run, state)``: checked data, optimiser, jitted steps, fingerprint and the fresh training state."""
    graphdef, params, rest = split_model(model)
    encoder, loss, seed = args["encoder"], args["loss"], args["seed"]
    x, y, test, axis = _check_datasets(graphdef, params, rest, train, test, encoder=encoder, loss=loss,
                                       batch_size=args["batch_size"], eval_batch_size=args["eval_batch_size"],
                                       mesh=args["mesh"])
    steps = len(y) // args["batch_size"]
    tx = make_optimizer(args["learning_rate"], args["epochs"] * steps)
    state = {"params": params, "rest": rest, "opt_state": tx.init(params)}
    if args["mesh"] is not None:
        state = replicate(args["mesh"], state)
    fingerprint = {**model_fingerprint(model), "train.loss": loss, "train.optimizer": "adam, cosine decay",
                   "train.learning_rate": args["learning_rate"], "train.batch_size": args["batch_size"],
                   "train.steps_per_epoch": steps, "train.seed": seed, "train.encoder": describe(encoder),
                   "train.inputs": f"{x.dtype.name}{list(x.shape)}", "info.epochs": args["epochs"]}
    run = _Run(x, y, test, axis, args["batch_size"], args["eval_batch_size"], steps, seed, seed_keys(seed),
               args["mesh"], make_train_step(graphdef, tx, encoder, loss=loss),
               make_eval_step(graphdef, encoder, loss=loss) if test is not None else None,
               describe(fingerprint))
    return run, state


def _resume(ckpt: EpochCheckpointer | None, run: _Run, state: dict, *, epochs: int, allow_config_change: bool,
            metrics_path) -> tuple[dict, list[dict], int]:
    """``(state, history, first epoch to run)``: from the newest good checkpoint, or fresh."""
    if ckpt is None or not ckpt.epochs():
        return state, [], 0
    restored = ckpt.restore(state, fingerprint=run.fingerprint, allow_config_change=allow_config_change)
    if restored.epoch > epochs:
        raise ValueError(f"fit: `epochs` = {epochs} is smaller than the {restored.epoch} epochs already "
                         f"completed in checkpoint {ckpt.path(restored.epoch)}; pass epochs >= "
                         f"{restored.epoch} or another checkpoint_dir.")
    saved_epochs = restored.fingerprint.get("info.epochs")
    if saved_epochs not in (None, epochs):
        warnings.warn(f"fit: resuming a {saved_epochs}-epoch run with epochs = {epochs}: the cosine "
                      f"schedule is now that of {epochs} epochs, so the result matches no uninterrupted "
                      f"run.", UserWarning, stacklevel=3)
    if metrics_path:
        repair_metrics(restored.history, metrics_path)
    return restored.state, restored.history, restored.epoch


def _train_epoch(run: _Run, state: dict, epoch: int, *, first: bool, bar,
                 log_every: int) -> tuple[dict, dict]:
    """One epoch of train steps; ``(state, row)`` with the epoch's training metrics and timing."""
    params, rest, opt_state = state["params"], state["rest"], state["opt_state"]
    order = epoch_order(run.seed, epoch, len(run.y))
    ekey = jax.random.fold_in(run.keys.train, epoch)

    def batch(i):
        idx = order[i * run.batch_size:(i + 1) * run.batch_size]
        return place(run.mesh, take(run.x, idx, run.axis), run.y[idx], axis=run.axis)

    compile_s = 0.0
    if first:  # compile outside the timed epoch (the result is discarded)
        t0 = time.perf_counter()
        jax.block_until_ready(run.train_step(params, rest, opt_state, *batch(0), ekey))
        compile_s = time.perf_counter() - t0
    sums, t0 = None, time.perf_counter()
    for i in range(run.steps_per_epoch):
        params, opt_state, m = run.train_step(params, rest, opt_state, *batch(i), jax.random.fold_in(ekey, i))
        sums = m if sums is None else jax.tree.map(jnp.add, sums, m)
        if bar is not None:
            bar.update(1)
            if (i + 1) % log_every == 0 or i + 1 == run.steps_per_epoch:
                s = jax.device_get(sums)
                bar.set_postfix(epoch=epoch + 1, loss=f"{s['loss'] / (i + 1):.3f}",
                                acc=f"{s['accuracy'] / (i + 1):.3f}",
                                sps=f"{(i + 1) * run.batch_size / (time.perf_counter() - t0):.0f}")
    jax.block_until_ready(params)
    dt = time.perf_counter() - t0
    s = jax.device_get(sums)
    row = {"epoch": epoch + 1, "train_loss": float(s["loss"]) / run.steps_per_epoch,
           "train_accuracy": float(s["accuracy"]) / run.steps_per_epoch, "train_time_s": dt,
           "samples_per_s": run.steps_per_epoch * run.batch_size / dt, "compile_s": compile_s}
    return {"params": params, "rest": rest, "opt_state": opt_state}, row


def _evaluate_epoch(run: _Run, state: dict, *, first: bool) -> dict:
    """Test metrics for the row: ``test_loss``, ``test_accuracy``, ``rates``, ``eval_time_s`` (and
    ``eval_compile_s`` on the first epoch of the call, compiled outside the timing)."""
    xt, yt = run.test
    kw = dict(batch_size=run.eval_batch_size, seed=run.seed, axis=run.axis, mesh=run.mesh)
    row = {}
    if first:
        t1 = time.perf_counter()
        n = min(run.eval_batch_size, len(yt))
        run_evaluation(run.eval_step, state["params"], state["rest"], take(xt, np.arange(n), run.axis),
                       yt[:n], **kw)
        row["eval_compile_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    ev = run_evaluation(run.eval_step, state["params"], state["rest"], xt, yt, **kw)
    row.update(test_loss=ev["loss"], test_accuracy=ev["accuracy"], rates=ev["rates"],
               eval_time_s=time.perf_counter() - t1)
    return row


def _save_epoch(ckpt: EpochCheckpointer | None, run: _Run, epoch: int, state: dict, history: list[dict],
                metrics_path) -> None:
    """Checkpoint first (verified), then the metrics files: a kill between them is repaired on resume."""
    if ckpt is not None:
        ckpt.save(epoch, state, history, run.fingerprint)
    if metrics_path:
        write_metrics(history, metrics_path)


def fit(model: nnx.Module, train, test=None, *, encoder: Encoder | None, epochs: int, batch_size: int,
        learning_rate: float = 1e-3, seed: int = 0, loss: str = "membrane",
        eval_batch_size: int | None = None, checkpoint_dir: str | None = None,
        metrics_path: str | None = None, mesh=None, progress: bool = True, desc: str = "train",
        log_every: int = 10, callback: Callable[[int, dict], None] | None = None, max_to_keep: int | None = 2,
        allow_config_change: bool = False) -> list[dict]:
    """Train ``model`` in place with Adam + cosine decay; return the per-epoch history.

    Args:
        model: an NNX model mapping ``[T, B, ...]`` to readout spikes ``[T_out, B, C]`` (and, for
            ``loss="membrane"`` or with ``test``, a ``NetworkOutput`` when asked for
            ``return_membrane``/``return_stats``, as ``tacjax.models`` do).
        train: ``(inputs, labels [N])`` NumPy arrays, labels int in ``[0, C)``. Inputs are ``[N, ...]``
            and go through ``encoder``, or, with ``encoder=None``, are already time-major float
            ``[T, N, ...]`` and batches are taken along axis 1.
        test: optional evaluation pair of the same layout, evaluated after every epoch.
        encoder: ``(key, batch) -> [T, B, ...]`` (``rate_encoder`` / ``events_encoder``), or None.
        epochs: total epochs (sets the cosine schedule length); at least the checkpoint's epoch.
        batch_size: training batch (the last incomplete batch of an epoch is dropped).
        learning_rate: peak Adam rate (finite, > 0).
        seed: shuffling and encoding seed, an int >= 0 (the model's init seed is the caller's);
            training and evaluation use separate key streams (``tacjax.train.batches``).
        loss: "membrane" (default: cross-entropy on the time-averaged readout membrane, what the
            study uses; the spike-count readout went silent in our runs) or "count".
        eval_batch_size: defaults to ``batch_size``.
        checkpoint_dir: a folder (not a file): save a verified checkpoint after every epoch; if it
            holds checkpoints, resume from the newest good one (corrupt ones are reported and set
            aside, see ``EpochCheckpointer``). A checkpoint of another model or training
            configuration is an error listing the differing fields.
        metrics_path: prefix for ``.json``/``.csv`` metrics, rewritten atomically after every epoch
            and repaired from the checkpoint's history on resume.
        mesh: a batch mesh for data parallelism (batch sizes divisible by its size).
        progress: show a tqdm bar with loss, accuracy and samples/s.
        desc: progress-bar label.
        log_every: steps between progress-bar updates (each one synchronises).
        callback: ``callback(epoch, row)`` after each epoch's checkpoint and metrics.
        max_to_keep: checkpoints to keep (newest first; the newest verified one is never deleted).
        allow_config_change: resume from a checkpoint whose configuration differs (fine-tuning; a
            warning lists the differences). Raising ``epochs`` on resume needs no flag but warns: the
            cosine schedule becomes that of the new total.

    Returns:
        History: one dict per epoch with ``epoch``, ``train_loss``, ``train_accuracy``,
        ``train_time_s`` (epoch wall time without compilation), ``samples_per_s``,
        ``compile_s`` (first step compile + run in this call; 0 on later epochs) and, with ``test``,
        ``test_loss``, ``test_accuracy``, ``eval_time_s`` (without compilation; its compile time is
        ``eval_compile_s`` on the first epoch of a call) and ``rates`` (dict). The model holds the
        weights of the last completed epoch, also when an exception stops the run.

    Raises:
        TypeError, ValueError: a bad argument (the message names it), before any work starts.
        tacjax.train.CheckpointConfigError: the checkpoint belongs to another configuration.
        tacjax.train.CheckpointError: no checkpoint in ``checkpoint_dir`` passes verification.
    """
    args = _check_arguments(model, encoder=encoder, epochs=epochs, batch_size=batch_size, seed=seed,
                            learning_rate=learning_rate, loss=loss, eval_batch_size=eval_batch_size,
                            mesh=mesh, progress=progress, desc=desc, log_every=log_every, callback=callback,
                            max_to_keep=max_to_keep, allow_config_change=allow_config_change,
                            metrics_path=metrics_path)
    ckpt = None
    if checkpoint_dir is not None:
        ckpt = EpochCheckpointer(ck.check_dir(checkpoint_dir, "fit", "checkpoint_dir"), max_to_keep)
    bar, state = None, None
    try:
        run, state = _set_up(model, train, test, args)
        state, history, start = _resume(ckpt, run, state, epochs=args["epochs"],
                                        allow_config_change=allow_config_change, metrics_path=metrics_path)
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=(epochs - start) * run.steps_per_epoch, desc=desc, unit="batch", leave=False)
        for epoch in range(start, epochs):
            state, row = _train_epoch(run, state, epoch, first=epoch == start, bar=bar, log_every=log_every)
            if run.test is not None:
                row.update(_evaluate_epoch(run, state, first=epoch == start))
            history.append(row)
            _save_epoch(ckpt, run, epoch + 1, state, history, metrics_path)
            if callback is not None:
                callback(epoch + 1, row)
    finally:
        if bar is not None:
            bar.close()
        if ckpt is not None:
            ckpt.close()
        if state is not None:  # also on an exception: the last completed epoch's weights
            nnx.update(model, state["params"], state["rest"])
    return history
