"""Optimiser: Adam with a cosine learning-rate schedule (optax)."""

from __future__ import annotations

import optax

from tacjax.train._checks import check_float, check_int

__all__ = ["make_optimizer"]


def make_optimizer(learning_rate: float = 1e-3, total_steps: int | None = None, *, warmup_steps: int = 0,
                   final_fraction: float = 0.0) -> optax.GradientTransformation:
    """Adam with a cosine decay from ``learning_rate`` to ``final_fraction * learning_rate``.

    Args:
        learning_rate: peak learning rate (finite, > 0).
        total_steps: optimiser steps of the whole run (decay length, an int >= 1); None gives a
            constant rate (``warmup_steps`` and ``final_fraction`` must then keep their defaults).
        warmup_steps: linear warm-up steps from 0 (counted inside ``total_steps``), ``0 <= w < total``.
        final_fraction: final rate as a fraction of the peak, in [0, 1].

    Returns:
        An ``optax.GradientTransformation``.
    """
    fn = "make_optimizer"
    learning_rate = check_float(learning_rate, fn, "learning_rate")
    final_fraction = check_float(final_fraction, fn, "final_fraction", high=1.0, low_open=False)
    warmup_steps = check_int(warmup_steps, fn, "warmup_steps", minimum=0)
    if total_steps is None:
        if warmup_steps or final_fraction:
            raise ValueError(f"{fn}: `warmup_steps` ({warmup_steps}) and `final_fraction` ({final_fraction}) "
                             f"need `total_steps`; got total_steps=None (a constant rate).")
        return optax.adam(learning_rate)
    total_steps = check_int(total_steps, fn, "total_steps")
    if warmup_steps >= total_steps:
        raise ValueError(f"{fn}: `warmup_steps` must be < total_steps = {total_steps}; got {warmup_steps}.")
    if warmup_steps:
        sched = optax.warmup_cosine_decay_schedule(0.0, learning_rate, warmup_steps, total_steps,
                                                   end_value=final_fraction * learning_rate)
    else:
        sched = optax.cosine_decay_schedule(learning_rate, total_steps, alpha=final_fraction)
    return optax.adam(sched)
