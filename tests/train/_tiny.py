"""A tiny training run shared by the training tests, and a child process that kills itself (kill -9).

``python _tiny.py KILL_AT CKPT_DIR METRICS_PREFIX`` runs ``fit`` on the tiny problem and sends
itself SIGKILL at ``KILL_AT``: "save" (epoch 2's checkpoint written but not committed: orbax's
finalize, before the rename) or "step" (in the middle of epoch 2, at its second batch).
"""

import os
import signal
import sys

import numpy as np
from flax import nnx

from tacjax.models import MNISTNet
from tacjax.train import rate_encoder

T, SIZE, N = 2, 4, 8
KW = dict(encoder=rate_encoder(T), epochs=2, batch_size=4, seed=3, progress=False, learning_rate=3e-2)


def data(n=N, seed=0, size=SIZE):
    """Two classes: bright left half vs bright right half (plus noise), float images [n, size, size, 1]."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int32)
    x = rng.random((n, size, size, 1)).astype(np.float32) * 0.2
    for i, c in enumerate(y):
        x[i, :, c * size // 2:(c + 1) * size // 2] = 0.9
    return x, y


def model(seed=0, **kw):
    """One conv layer (2 channels, pool 2) and a 2-class readout."""
    return MNISTNet(in_size=SIZE, channels=(2,), num_classes=2, modes=("baseline",), ks=(1,),
                    rngs=nnx.Rngs(seed), **kw)


def params(m) -> list[np.ndarray]:
    """The model's parameters as NumPy arrays (for bit-exact comparisons)."""
    import jax

    return [np.asarray(a) for a in jax.tree.leaves(nnx.state(m, nnx.Param))]


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(kill_at: str) -> None:
    if kill_at == "save":
        import orbax.checkpoint as ocp

        finalize = ocp.CompositeCheckpointHandler.finalize

        def killing_finalize(self, directory):
            if os.path.basename(str(directory)).startswith("2."):
                _die()
            return finalize(self, directory)

        ocp.CompositeCheckpointHandler.finalize = killing_finalize
    elif kill_at == "step":
        from tacjax.train import loop

        place, calls = loop.place, [0]
        per_epoch = N // KW["batch_size"]

        def killing_place(*args, **kw):
            calls[0] += 1
            if calls[0] == 1 + per_epoch + 2:  # the compile batch, epoch 1, then epoch 2's 2nd batch
                _die()
            return place(*args, **kw)

        loop.place = killing_place
    else:
        raise SystemExit(f"unknown kill point {kill_at!r}")


if __name__ == "__main__":
    from tacjax.train import fit

    kill_at, ckpt, metrics = sys.argv[1:4]
    _arm(kill_at)
    fit(model(1), data(), checkpoint_dir=ckpt, metrics_path=metrics, **KW)
    print("finished without being killed")
