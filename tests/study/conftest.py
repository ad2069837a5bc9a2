"""Shared pieces of the study tests: fake IDX data, an isolated data search, a stand-in for training."""

import numpy as np
import pytest

from tacjax.data import write_idx


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No data outside the test's folders: empty download cache, no TACJAX_DATA."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("TACJAX_DATA", raising=False)


@pytest.fixture
def image_dir(tmp_path):
    """``<tmp>/data/mnist/``: 40 train and 20 test random 28x28 images (the smoke protocol takes 32/16)."""
    d = tmp_path / "data" / "mnist"
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 40), ("t10k", 20)):
        write_idx(d / f"{split}-images-idx3-ubyte", rng.integers(0, 255, (n, 28, 28), dtype=np.uint8))
        write_idx(d / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8))
    return tmp_path / "data"


class FakeFit:
    """Replaces ``tacjax.study.run.fit``: a one-epoch history without training; can fail or kill on call n."""

    def __init__(self, fail_on: int | None = None):
        self.calls, self.fail_on = [], fail_on

    def __call__(self, model, train, test, **kw):
        self.calls.append(kw["desc"])
        if self.fail_on is not None and len(self.calls) == self.fail_on:
            raise RuntimeError(f"injected failure in {kw['desc']}")
        acc = 0.25 + 0.125 * (len(self.calls) % 2)
        rates = {"input": 0.1, **{f"conv{i + 1}": 0.05 for i in range(model.num_layers)}, "fc": 0.02}
        return [{"epoch": 0, "train_loss": 1.0, "train_accuracy": 0.5, "train_time_s": 0.2 / len(self.calls),
                 "samples_per_s": 100.0, "compile_s": 0.5, "test_loss": 1.2, "test_accuracy": acc,
                 "eval_time_s": 0.01, "rates": rates}]


@pytest.fixture
def fake_fit(monkeypatch):
    import tacjax.study.run as run

    fake = FakeFit()
    monkeypatch.setattr(run, "fit", fake)
    return fake
