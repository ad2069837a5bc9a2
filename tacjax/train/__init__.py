"""Training: losses, metrics, optimiser, jitted steps, the loop, checkpoints and data parallelism."""

from tacjax.train.checkpoint import EpochCheckpointer
from tacjax.train.loop import evaluate, fit, measure_inference, write_metrics
from tacjax.train.losses import LOSSES, accuracy, count_cross_entropy, membrane_cross_entropy
from tacjax.train.optim import make_optimizer
from tacjax.train.parallel import BATCH_AXIS, batch_mesh, replicate, shard_batch
from tacjax.train.step import (
    Encoder,
    events_encoder,
    make_eval_step,
    make_train_step,
    rate_encoder,
    split_model,
)

__all__ = [
    "BATCH_AXIS",
    "LOSSES",
    "Encoder",
    "EpochCheckpointer",
    "accuracy",
    "batch_mesh",
    "count_cross_entropy",
    "evaluate",
    "events_encoder",
    "fit",
    "make_eval_step",
    "make_optimizer",
    "make_train_step",
    "measure_inference",
    "membrane_cross_entropy",
    "rate_encoder",
    "replicate",
    "shard_batch",
    "split_model",
    "write_metrics",
]
