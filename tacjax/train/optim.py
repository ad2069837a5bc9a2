"""Optimiser: Adam with a cosine learning-rate schedule (optax)."""

from __future__ import annotations

import optax

__all__ = ["make_optimizer"]


def make_optimizer(learning_rate: float = 1e-3, total_steps: int | None = None, *, warmup_steps: int = 0,
                   final_fraction: float = 0.0) -> optax.GradientTransformation:
    """Adam with a cosine decay from ``learning_rate`` to ``final_fraction * learning_rate``.

    Args:
        learning_rate: peak learning rate.
        total_steps: optimiser steps of the whole run (decay length); None gives a constant rate.
        warmup_steps: linear warm-up steps from 0 (counted inside ``total_steps``).
        final_fraction: final rate as a fraction of the peak.

    Returns:
        An ``optax.GradientTransformation``.
    """
    if learning_rate <= 0:
        raise ValueError(f"make_optimizer: `learning_rate` must be > 0; got {learning_rate}.")
    if total_steps is None:
        return optax.adam(learning_rate)
    if total_steps < 1 or not 0 <= warmup_steps < max(total_steps, 1):
        raise ValueError(f"make_optimizer: need total_steps >= 1 and 0 <= warmup_steps < total_steps; "
                         f"got total_steps={total_steps}, warmup_steps={warmup_steps}.")
    if warmup_steps:
        sched = optax.warmup_cosine_decay_schedule(0.0, learning_rate, warmup_steps, total_steps,
                                                   end_value=final_fraction * learning_rate)
    else:
        sched = optax.cosine_decay_schedule(learning_rate, total_steps, alpha=final_fraction)
    return optax.adam(sched)
