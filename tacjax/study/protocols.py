"""The study's protocols and data sets, as data (no code runs here).

A protocol (``"smoke"`` < ``"default"`` < ``"full"``) gives, per protocol section, the data sizes,
the network's channels, the training settings and the (mode, K) grid:

* ``"synthetic"``: ``tacjax.data.synthetic_events`` (train/test sizes, sensor ``size``,
  ``num_steps`` T, ``num_classes``), ``ks`` for TAC and ``tp_ks`` for TAC-TP;
* ``"image"`` (MNIST and Fashion-MNIST): the first ``train``/``test`` samples of each split
  (None: all), ``grids`` as ``((T, (K, ...)), ...)`` for TAC, ``tp_ks`` for TAC-TP (only the K
  values <= T of each grid entry are run);
* ``"dvs_gesture"``: DVS128 Gesture binned to ``num_steps`` frames of ``size x size``.

Every section also has ``channels`` (conv blocks), ``epochs``, ``batch`` and ``lr`` (peak Adam rate).
"""

from __future__ import annotations

__all__ = ["DATASETS", "FOLDERS", "IMAGE_DATASETS", "PROTOCOLS", "SECTIONS", "selected_datasets"]

_DVS_FULL = dict(num_steps=16, size=32, channels=(32, 64, 128), epochs=10, batch=32, ks=(2,), tp_ks=(2,),
                 lr=1e-3)  # fmt: skip

PROTOCOLS: dict[str, dict] = {
    "smoke": {
        "name": "smoke (tiny; for the test suite only)",
        "synthetic": dict(train=48, test=16, size=12, num_steps=4, num_classes=4, channels=(2, 4, 4),
                          epochs=1, batch=8, ks=(2, 4), tp_ks=(2,), lr=2e-3),
        "image": dict(train=32, test=16, grids=((4, (2, 4)),), channels=(2, 4), epochs=1, batch=8,
                      tp_ks=(), lr=2e-3),
        "dvs_gesture": dict(num_steps=4, size=16, channels=(2, 4, 4), epochs=1, batch=4, ks=(2,), tp_ks=(2,),
                            lr=2e-3),
    },
    "default": {
        "name": ("reduced: synthetic events 16x16, 4 classes, T=16, 1536 train / 512 test, 5 epochs, "
                 "DVSGestureNet channels (8, 16, 32); Fashion-MNIST/MNIST 2048 train / 1000 test samples "
                 "(first of each split), T=16, K in {2, 4, 8, 16}, 1 epoch, batch 64"),
        "synthetic": dict(train=1536, test=512, size=16, num_steps=16, num_classes=4, channels=(8, 16, 32),
                          epochs=5, batch=64, ks=(2, 4, 16), tp_ks=(2, 4, 16), lr=3e-3),
        "image": dict(train=2048, test=1000, grids=((16, (2, 4, 8, 16)),), channels=(32, 64), epochs=1,
                      batch=64, tp_ks=(), lr=2e-3),
        "dvs_gesture": dict(_DVS_FULL),
    },
    "full": {
        "name": ("full: MNIST/Fashion-MNIST all 60000 train / 10000 test, T=25 with K in {5, 25} and T=16 "
                 "with K in {2, 4, 8, 16}, 10 epochs, batch 128; synthetic events 32x32, 8 classes, T=16, "
                 "8192 train / 2048 test, 10 epochs, full DVSGestureNet; DVS128 Gesture T=16, K=2, "
                 "10 epochs"),
        "synthetic": dict(train=8192, test=2048, size=32, num_steps=16, num_classes=8, channels=(32, 64, 128),
                          epochs=10, batch=64, ks=(2, 4, 8, 16), tp_ks=(2, 4, 8, 16), lr=1e-3),
        "image": dict(train=None, test=None, grids=((25, (5, 25)), (16, (2, 4, 8, 16))), channels=(32, 64),
                      epochs=10, batch=128, tp_ks=(2,), lr=1e-3),
        "dvs_gesture": dict(_DVS_FULL),
    },
}

#: Every data set the study knows, in the order it runs them.
DATASETS = ("synthetic", "mnist", "fashion_mnist", "dvs_gesture")
#: The data sets that read the ``"image"`` section (and the ``train_samples``/``test_samples``/``grids``
#: overrides).
IMAGE_DATASETS = ("mnist", "fashion_mnist")
#: Protocol section of each data set.
SECTIONS = {"synthetic": "synthetic", "mnist": "image", "fashion_mnist": "image",
            "dvs_gesture": "dvs_gesture"}
#: Output sub-folder of each data set (per-run metrics go to ``<out>/<folder>/runs/``).
FOLDERS = {"synthetic": "synthetic", "mnist": "mnist", "fashion_mnist": "fashion_mnist", "dvs_gesture": "dvs"}


def selected_datasets(selection: str, protocol: str) -> tuple[str, ...]:
    """The data sets a ``dataset`` selection runs, in order.

    Args:
        selection: ``"default"`` (synthetic + Fashion-MNIST, + MNIST under the full protocol; the
            image sets only when found), ``"all"`` (every data set found), or one name of
            ``DATASETS`` (that one, which must then be found).
        protocol: a key of ``PROTOCOLS``.

    Returns:
        A tuple of names from ``DATASETS``.
    """
    if selection == "default":
        return ("synthetic", *IMAGE_DATASETS) if protocol == "full" else ("synthetic", "fashion_mnist")
    if selection == "all":
        return DATASETS
    if selection in DATASETS:
        return (selection,)
    raise ValueError(f"selected_datasets: `selection` must be 'default', 'all' or one of {DATASETS}; "
                     f"got {selection!r}.")
