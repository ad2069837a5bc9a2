"""Each data set of the study made ready to run: its data, configurations, model builder and encoder.

``prepare(name, protocol, opts)`` loads (or generates) the data and returns a ``Prepared`` whose
``configs`` the study trains one by one. All of it happens before the first training step, so a
missing data set or an override that does not fit the data stops the study before any work.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import numpy as np

from tacjax.study.configs import Config, grid
from tacjax.study.options import OptionError, StudyOptions
from tacjax.study.protocols import FOLDERS, PROTOCOLS, SECTIONS

__all__ = ["DataUnavailable", "Prepared", "prepare"]


class DataUnavailable(LookupError):
    """A data set was not found (its message says where the study looked); the study may skip it."""


@dataclasses.dataclass
class Prepared:
    """A data set ready for the study.

    Attributes:
        name: a name of ``DATASETS``.
        protocol: the protocol section as run (overrides applied; written into the results).
        train, test: ``(inputs [N, ...], labels [N])`` NumPy pairs for ``tacjax.train.fit``.
        configs: the configurations to run, in order; a caller may append more.
        out_dir: where per-run metrics go (``<out_dir>/runs/<label>.json|.csv``).
        build: ``Config -> model`` (a fresh network, init seed ``opts.seed``; the network reads T
            from its input, and ``build`` checks that the configuration's K fit its T).
        encoder: ``T -> encoder`` for ``fit`` (inputs -> time-major ``[T, B, ...]``).
        raster_input: ``T -> one test sample [T, 1, ...]`` for the spike raster, or None.
        source: where the data came from.
        validation: ``n -> (inputs, labels)``, up to ``n`` samples held out from both ``train`` and
            ``test`` (for ``--plan trials``), or None where the data set has none to spare.
    """

    name: str
    protocol: dict
    train: tuple
    test: tuple
    configs: list[Config]
    out_dir: str
    build: Callable[[Config], object]
    encoder: Callable[[int], Callable]
    raster_input: Callable[[int], np.ndarray] | None
    source: str
    validation: Callable[[int], tuple] | None = None


def _section(name: str, opts: StudyOptions) -> dict:
    p = dict(PROTOCOLS[opts.protocol][SECTIONS[name]])
    p["epochs"] = opts.epochs if opts.epochs is not None else p["epochs"]
    return p


def _check_batch(p: dict, n_train: int, name: str, field: str) -> None:
    if n_train < p["batch"]:
        raise OptionError(f"--{field.replace('_', '-')} ({field}): {name} has {n_train} training samples, "
                          f"fewer than one batch of {p['batch']}; use at least {p['batch']}.")


def _checked(model, c: Config):
    """``model``, after checking that every K of ``c`` fits the steps reaching its layer at T =
    ``c.num_steps`` (the networks take T at call time; this stops a bad configuration before training)."""
    model.out_steps(c.num_steps)
    return model


def _synthetic(opts: StudyOptions, out_dir: str) -> Prepared:
    from flax import nnx

    from tacjax.data import synthetic_events
    from tacjax.models import DVSGestureNet
    from tacjax.train import events_encoder

    p = _section("synthetic", opts)
    kw = dict(num_steps=p["num_steps"], size=p["size"], num_classes=p["num_classes"])
    train = synthetic_events(p["train"], seed=opts.seed, **kw)
    test = synthetic_events(p["test"], seed=opts.seed + 1000, **kw)

    def build(c: Config):
        model = DVSGestureNet(in_size=p["size"], channels=p["channels"], num_classes=p["num_classes"],
                              modes=c.modes, ks=c.ks, share=opts.tp_share, rngs=nnx.Rngs(opts.seed))
        return _checked(model, c)

    configs = grid(p["num_steps"], p["ks"], p["tp_ks"], len(p["channels"]))
    return Prepared("synthetic", p, train, test, configs, out_dir, build, lambda t: events_encoder(),
                    lambda t: test[0][:1].transpose(1, 0, 2, 3, 4), "tacjax.data.synthetic_events",
                    lambda n: synthetic_events(n, seed=opts.seed + 2000, **kw))


def _subset(data: tuple, n: int | None, name: str, split: str, field: str, opts: StudyOptions) -> tuple:
    if n is None:
        return data
    if n > len(data[1]):
        flag = f"--{field.replace('_', '-')} ({field})"
        asked = getattr(opts, field) is not None
        what = f"{flag} {n}" if asked else f"the {opts.protocol} protocol's {split} subset {n}"
        raise OptionError(f"{what} exceeds the {len(data[1])} {split} samples of {name}; pass {flag} "
                          f"{len(data[1])} or less.")
    return data[0][:n], data[1][:n]


def _images(name: str, opts: StudyOptions, out_dir: str) -> Prepared:
    import jax
    from flax import nnx

    from tacjax import data, rate
    from tacjax.models import MNISTNet
    from tacjax.train import rate_encoder

    p = _section(name, opts)
    if opts.grids is not None:
        p["grids"] = opts.grids
    found = data.find_idx_files(name, "train", opts.data_dir)
    loader = data.load_mnist if name == "mnist" else data.load_fashion_mnist
    try:
        tr = loader("train", opts.data_dir, download=False)
        te = loader("test", opts.data_dir, download=False)
    except FileNotFoundError as e:
        raise DataUnavailable(" | ".join(s.strip() for s in str(e).splitlines() if s.strip())[:600]) from e
    n_train = opts.train_samples if opts.train_samples is not None else p["train"]
    n_test = opts.test_samples if opts.test_samples is not None else p["test"]
    (xtr, ytr) = _subset(tr, n_train, name, "train", "train_samples", opts)
    (xte, yte) = _subset(te, n_test, name, "test", "test_samples", opts)
    p.update(train=len(ytr), test=len(yte))
    _check_batch(p, len(ytr), name, "train_samples")

    def build(c: Config):
        return _checked(MNISTNet(channels=p["channels"], modes=c.modes, ks=c.ks, share=opts.tp_share,
                                 rngs=nnx.Rngs(opts.seed)), c)

    def raster_input(t: int) -> np.ndarray:
        x0 = xte[:1].astype(np.float32)[..., None] / 255.0
        return np.asarray(rate(jax.random.key(0), x0, t))

    configs = []
    for t, ks in p["grids"]:
        configs += grid(t, ks, [q for q in p["tp_ks"] if q <= t], len(p["channels"]), prefix=f"T{t}_")
    source = f"{found[0].parent} ({found[2]})" if found else "?"
    spare = len(tr[1]) - len(ytr)  # the training split's images after the subset
    validation = (lambda n: (tr[0][len(ytr): len(ytr) + n], tr[1][len(ytr): len(ytr) + n])) if spare else None
    return Prepared(name, p, (xtr, ytr), (xte, yte), configs, out_dir, build, rate_encoder, raster_input,
                    source, validation)


def _dvs(opts: StudyOptions, out_dir: str) -> Prepared:
    from flax import nnx

    from tacjax.data import load_dvs_gesture
    from tacjax.models import DVSGestureNet
    from tacjax.train import events_encoder

    p = _section("dvs_gesture", opts)
    if opts.data_dir is None:
        raise DataUnavailable("needs --data-dir")
    kw = dict(num_steps=p["num_steps"], size=p["size"])
    try:
        train = load_dvs_gesture(opts.data_dir, "train", **kw)
        test = load_dvs_gesture(opts.data_dir, "test", **kw)
    except FileNotFoundError as e:
        raise DataUnavailable(str(e)[:300]) from e
    _check_batch(p, len(train[1]), "dvs_gesture", "data_dir")

    def build(c: Config):
        return _checked(DVSGestureNet(in_size=p["size"], channels=p["channels"], modes=c.modes, ks=c.ks,
                                      share=opts.tp_share, rngs=nnx.Rngs(opts.seed)), c)

    configs = grid(p["num_steps"], p["ks"], p["tp_ks"], len(p["channels"]))
    return Prepared("dvs_gesture", p, train, test, configs, out_dir, build, lambda t: events_encoder(), None,
                    os.fspath(opts.data_dir))


def prepare(name: str, opts: StudyOptions) -> Prepared:
    """Load data set ``name`` under checked options ``opts`` (see ``check_options``).

    Raises:
        DataUnavailable: the data set was not found (no download is tried).
        OptionError: an override that does not fit the data (more samples than there are, fewer
            training samples than one batch).
    """
    out_dir = os.path.join(os.fspath(opts.out), FOLDERS[name])
    if name == "synthetic":
        return _synthetic(opts, out_dir)
    if name == "dvs_gesture":
        return _dvs(opts, out_dir)
    return _images(name, opts, out_dir)
