"""Training: losses, metrics, optimiser, jitted steps, the loop, verified checkpoints, data parallelism.

Not jit-able (host-side drivers): ``fit``, ``evaluate``, ``measure_inference``, the checkpoint and
metrics writers. The steps from ``make_train_step``/``make_eval_step`` are jitted; the losses are
pure and jit/vmap/grad friendly.
"""

from tacjax.train.batches import SeedKeys, seed_keys
from tacjax.train.checkpoint import (
    CheckpointConfigError,
    CheckpointError,
    CorruptCheckpointWarning,
    EpochCheckpointer,
    Restored,
)
from tacjax.train.evaluate import evaluate, measure_inference
from tacjax.train.fingerprint import model_fingerprint
from tacjax.train.loop import fit
from tacjax.train.losses import (
    LOSSES,
    accuracy,
    correct_predictions,
    count_cross_entropy,
    membrane_cross_entropy,
)
from tacjax.train.metrics import repair_metrics, write_metrics
from tacjax.train.optim import make_optimizer
from tacjax.train.parallel import BATCH_AXIS, batch_mesh, replicate, shard_batch
from tacjax.train.step import (
    Encoder,
    EventsEncoder,
    RateEncoder,
    events_encoder,
    make_eval_step,
    make_train_step,
    rate_encoder,
    split_model,
)

__all__ = [
    "BATCH_AXIS",
    "LOSSES",
    "CheckpointConfigError",
    "CheckpointError",
    "CorruptCheckpointWarning",
    "Encoder",
    "EpochCheckpointer",
    "EventsEncoder",
    "RateEncoder",
    "Restored",
    "SeedKeys",
    "accuracy",
    "batch_mesh",
    "correct_predictions",
    "count_cross_entropy",
    "evaluate",
    "events_encoder",
    "fit",
    "make_eval_step",
    "make_optimizer",
    "make_train_step",
    "measure_inference",
    "membrane_cross_entropy",
    "model_fingerprint",
    "rate_encoder",
    "repair_metrics",
    "replicate",
    "seed_keys",
    "shard_batch",
    "split_model",
    "write_metrics",
]
