"""Data: MNIST/Fashion-MNIST IDX loaders, DVS128 Gesture and SHD via tonic, a synthetic event set, batching.

Everything returns NumPy arrays, sample-major by default: images uint8 ``[N, 28, 28]`` (``to_float``
gives float32 NHWC), event frames float32 ``[N, T, H, W, 2]``, labels int32 ``[N]``. The event sources
(``synthetic_events``, ``load_dvs_gesture``) take ``time_major=True`` for frames ``[T, N, H, W, 2]``
(``load_shd``: spike counts ``[N, T, 700]``, or ``[T, N, 700]``);
``batches(..., axes=(1, 0))`` then cuts time-major ``[T, B, ...]`` batches, the networks' layout.
None of these functions is jittable: they run on the host, on concrete NumPy data, and check values
(NaN, ranges, order) as well as shapes.
"""

from tacjax.data.batching import batches, num_batches
from tacjax.data.dvs_gesture import DVS_GESTURE_CLASSES, load_dvs_gesture
from tacjax.data.events import DIRECTIONS, events_to_frames, synthetic_events
from tacjax.data.idx import read_idx, write_idx
from tacjax.data.mnist import ENV_VAR, find_idx_files, load_fashion_mnist, load_mnist, to_float
from tacjax.data.shd import SHD_CHANNELS, SHD_CLASSES, load_shd

__all__ = [
    "DIRECTIONS",
    "DVS_GESTURE_CLASSES",
    "ENV_VAR",
    "SHD_CHANNELS",
    "SHD_CLASSES",
    "batches",
    "events_to_frames",
    "find_idx_files",
    "load_dvs_gesture",
    "load_fashion_mnist",
    "load_mnist",
    "load_shd",
    "num_batches",
    "read_idx",
    "synthetic_events",
    "to_float",
    "write_idx",
]
