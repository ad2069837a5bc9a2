"""SHD loader on files written by the test in SHD's HDF5 layout (read through tonic, no download)."""

import h5py
import numpy as np
import pytest

from tacjax.data import SHD_CHANNELS, load_shd

T = 10


def write_shd(root, split="train", n=5, seed=0, times=None):
    """<root>/SHD/shd_<split>.h5 as SHD ships it: vlen spike times (s) and units, labels, extra keys."""
    rng = np.random.default_rng(seed)
    (root / "SHD").mkdir(parents=True, exist_ok=True)
    samples = []
    with h5py.File(root / "SHD" / f"shd_{split}.h5", "w") as f:
        t_ds = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.float32))
        u_ds = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.uint16))
        labels = rng.integers(0, 20, n).astype(np.uint16)
        for i in range(n):
            m = int(rng.integers(20, 60))
            t = np.sort(rng.uniform(0.0, 1.3, m)).astype(np.float32) if times is None else times
            u = rng.integers(0, SHD_CHANNELS, len(t)).astype(np.uint16)
            t_ds[i], u_ds[i] = t, u
            samples.append((t, u))
        f["labels"] = labels
        f["extra/keys"] = np.array([f"digit-{d}".encode() for d in range(20)])
        f["extra/speaker"] = rng.integers(0, 12, n).astype(np.uint16)
    return samples, labels


def expected(t, u, max_time=1.0):
    """Independent binning: T equal bins over [0, max_time) from the onset, later spikes dropped."""
    f = np.zeros((T, SHD_CHANNELS), np.float32)
    us = np.floor(t.astype(np.float64) * 1e6).astype(np.int64)  # tonic stores whole microseconds
    for ti, ui in zip(us, u, strict=True):
        if ti < max_time * 1e6:
            f[int(ti * T // (max_time * 1e6)), ui] += 1
    return f


def test_loads_and_bins_through_tonic(tmp_path):
    samples, labels = write_shd(tmp_path / "data")
    frames, y = load_shd(tmp_path / "data", "train", num_steps=T)
    assert frames.shape == (5, T, SHD_CHANNELS) and frames.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_array_equal(y, labels)
    for got, (t, u) in zip(frames, samples, strict=True):
        np.testing.assert_array_equal(got, expected(t, u))
        assert got.sum() == (t < 1.0).sum() > 0  # spikes after max_time are dropped
    tm, _ = load_shd(tmp_path / "data" / "SHD", "train", num_steps=T, time_major=True)  # the SHD folder works
    np.testing.assert_array_equal(tm, frames.swapaxes(0, 1))
    longer, _ = load_shd(tmp_path / "data", num_steps=T, max_time=1.5)
    assert longer.sum() == sum(len(t) for t, _ in samples)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(split="valid"), ValueError, "`split`"),
    (dict(num_steps=0), ValueError, "`num_steps`"),
    (dict(max_time=0.0), ValueError, "`max_time`"),
    (dict(time_major=1), TypeError, "`time_major`"),
    (dict(split="test"), FileNotFoundError, "shd_test.h5"),
])
def test_bad_arguments_and_missing_files(tmp_path, kwargs, exc, match):
    write_shd(tmp_path)
    with pytest.raises(exc, match=match):
        load_shd(tmp_path, **kwargs)


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # tonic's cast of NaN
def test_a_malformed_sample_is_an_error_naming_it(tmp_path):
    write_shd(tmp_path, n=2, times=np.array([0.1, np.nan, 0.3], np.float32))
    with pytest.raises(ValueError, match=r"load_shd \(.*shd_train.h5, sample 0\): spike times"):
        load_shd(tmp_path, num_steps=T)
    with pytest.raises(FileNotFoundError, match="never|not downloaded"):
        load_shd(tmp_path / "nowhere")
