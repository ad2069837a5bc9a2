"""DVS128 Gesture loader on fake recordings written in tonic's on-disk layout (no download)."""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from tacjax.data import dvs_gesture as dvs_mod
from tacjax.data import events_to_frames, load_dvs_gesture

T, SIZE, BIN_MS = 4, 32, 10


def fake_recording(rng, n=60):
    """Events [n, 4] (x, y, p, t in ms) spanning exactly T bins of BIN_MS ms, none on a bin edge
    except the first (t = 0) and the last (t = T * BIN_MS)."""
    t = np.sort(rng.integers(0, T, n - 2) * BIN_MS + rng.integers(1, BIN_MS, n - 2))
    t = np.concatenate([[0], t, [T * BIN_MS]])
    xy = rng.integers(0, 128, size=(n, 2))
    p = rng.integers(0, 2, size=n)
    return np.column_stack([xy, p, t]).astype(np.int64)


def write_layout(
    root: Path, split="train", users=("user01_fluorescent", "user02_led"), labels=(0, 3, 10), seed=0
):
    """<root>/DVSGesture/ibmGesture{Train,Test}/<user>/<label>.npy, as tonic's DVSGesture reads it."""
    rng = np.random.default_rng(seed)
    folder = root / "DVSGesture" / ("ibmGestureTrain" if split == "train" else "ibmGestureTest")
    written = {}
    for user in users:
        (folder / user).mkdir(parents=True, exist_ok=True)
        for label in labels:
            ev = fake_recording(rng)
            np.save(folder / user / f"{label}.npy", ev)
            written[f"{user}/{label}.npy"] = (ev, label)
    return dict(sorted(written.items()))


def expected_frames(ev):
    """Independent binning: equal bins over [t0, t_last]; tonic drops the events of t = t_last."""
    keep = ev[:, 3] < ev[-1, 3]
    f = events_to_frames(ev, T, (128, 128), size=SIZE)
    last = events_to_frames(ev[~keep], 1, (128, 128), size=SIZE)[0]
    f[-1] -= last
    return f


def test_loads_bins_and_caches(tmp_path, monkeypatch):
    written = write_layout(tmp_path / "data")
    cache = tmp_path / "cache"
    frames, labels = load_dvs_gesture(tmp_path / "data", "train", num_steps=T, size=SIZE, cache_dir=cache)
    assert frames.shape == (6, T, SIZE, SIZE, 2) and frames.dtype == np.float32
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, [lab for _, lab in written.values()])  # sorted by path
    for got, (ev, _) in zip(frames, written.values(), strict=True):
        np.testing.assert_array_equal(got, expected_frames(ev))
        assert got.sum() == len(ev) - 1
    files = list(cache.glob("*.npz"))
    assert len(files) == 1 and files[0].name.startswith(f"dvsgesture-train-T{T}-s{SIZE}-")

    def no_binning(*args, **kwargs):
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(dvs_mod, "_bin_all", no_binning)
    f2, l2 = load_dvs_gesture(tmp_path / "data", "train", num_steps=T, size=SIZE, cache_dir=cache)
    np.testing.assert_array_equal(f2, frames)
    np.testing.assert_array_equal(l2, labels)
    assert f2.dtype == np.float32 and l2.dtype == np.int32
    with pytest.raises(AssertionError, match="cache was not used"):  # other settings: another cache entry
        load_dvs_gesture(tmp_path / "data", "train", num_steps=T, size=16, cache_dir=cache)


def test_cache_key_follows_the_data(tmp_path):
    write_layout(tmp_path / "data", labels=(1, 2))
    cache = tmp_path / "cache"
    a, la = load_dvs_gesture(tmp_path / "data", num_steps=T, size=8, cache_dir=cache)
    write_layout(tmp_path / "data", users=("user03_natural",), labels=(5,), seed=1)  # a new recording
    b, lb = load_dvs_gesture(tmp_path / "data", num_steps=T, size=8, cache_dir=cache)
    assert len(a) == 4 and len(b) == 5 and sorted(lb.tolist()) == [1, 1, 2, 2, 5]
    assert len(list(cache.glob("*.npz"))) == 2


def test_test_split_and_dvsgesture_folder_as_data_dir(tmp_path):
    write_layout(tmp_path, "test", users=("user24_led",), labels=(4, 7))
    f, y = load_dvs_gesture(tmp_path / "DVSGesture", "test", num_steps=T, size=SIZE, cache_dir=tmp_path / "c")
    assert f.shape == (2, T, SIZE, SIZE, 2) and y.tolist() == [4, 7]
    with pytest.raises(FileNotFoundError, match="ibmGestureTrain"):  # only the test split exists
        load_dvs_gesture(tmp_path, "train", cache_dir=tmp_path / "c")


def test_missing_data_says_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        load_dvs_gesture(tmp_path / "nowhere", cache_dir=tmp_path / "c")
    msg = str(e.value)
    assert str(tmp_path / "nowhere" / "DVSGesture" / "ibmGestureTrain") in msg
    assert "tonic.datasets.DVSGesture" in msg and "ibmGestureTrain.tar.gz" in msg
    with pytest.raises(ValueError, match="split"):
        load_dvs_gesture(tmp_path, "val")
    with pytest.raises(ValueError, match="size"):
        load_dvs_gesture(tmp_path, size=256)


def test_layout_matches_unmodified_tonic(tmp_path, monkeypatch):
    """Plain tonic accepts the layout the tests write: archive present + >= 100 sample files."""
    import tonic
    import tonic.dataset

    def no_download(*args, **kwargs):
        raise AssertionError("tonic tried to download")

    monkeypatch.setattr(tonic.dataset, "download_and_extract_archive", no_download)
    users = tuple(f"user{u:02d}_led" for u in range(1, 11))
    written = write_layout(tmp_path, users=users, labels=tuple(range(10)))
    (tmp_path / "DVSGesture" / "ibmGestureTrain.tar.gz").write_bytes(b"placeholder")
    ds = tonic.datasets.DVSGesture(save_to=str(tmp_path), train=True)
    assert len(ds) == 100 and sorted(ds.users) == sorted(int(u[4:6]) for u in users for _ in range(10))
    ev, label = ds[ds.data.index(str(tmp_path / "DVSGesture" / "ibmGestureTrain" / "user03_led" / "7.npy"))]
    want = written["user03_led/7.npy"][0]
    assert label == 7 and ev.dtype.names == ("x", "y", "p", "t")
    np.testing.assert_array_equal(ev["x"], want[:, 0])
    np.testing.assert_array_equal(ev["t"], want[:, 3] * 1000)  # ms -> us


def _no_binning(*args, **kwargs):
    raise AssertionError("binning started")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "wrong_shape"])
def test_corrupt_cache_entry_is_rebuilt_with_a_warning(tmp_path, damage):
    write_layout(tmp_path / "data", labels=(1, 2))
    cache = tmp_path / "cache"
    kw = dict(num_steps=T, size=8, cache_dir=cache)
    want, wl = load_dvs_gesture(tmp_path / "data", **kw)
    (entry,) = cache.glob("*.npz")
    raw = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        entry.write_bytes(bytes(range(256)) * 4)
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # a readable archive with the right key but frames of another size
        with np.load(entry) as z:
            items = {k: z[k] for k in z.files}
        items["frames"] = items["frames"][:, :, :4]
        np.savez_compressed(entry, **items)
    with pytest.warns(RuntimeWarning, match=rf"cache entry '.*{entry.name}' is unusable: .*rebuilding it"):
        got, gl = load_dvs_gesture(tmp_path / "data", **kw)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(gl, wl)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt entry is good again
        np.testing.assert_array_equal(load_dvs_gesture(tmp_path / "data", **kw)[0], want)
    assert sorted(p.name for p in cache.iterdir()) == [entry.name]  # no temporary file left behind


@pytest.mark.parametrize("where", ["is_a_file", "under_a_file"])
def test_unwritable_cache_dir_fails_before_binning(tmp_path, monkeypatch, where):
    write_layout(tmp_path / "data", labels=(1,))
    (tmp_path / "f").write_text("not a folder")
    cache = tmp_path / "f" if where == "is_a_file" else tmp_path / "f" / "sub"
    monkeypatch.setattr(dvs_mod, "_bin_all", _no_binning)
    with pytest.raises(ValueError, match=r"load_dvs_gesture: `cache_dir` '.*f.*' is not a writable folder"):
        load_dvs_gesture(tmp_path / "data", num_steps=T, cache_dir=cache)


def _bad(ev, what):
    ev = ev.astype(np.float64)
    if what == "nan_time":
        ev[5, 3] = np.nan
    elif what == "descending":
        ev[:, 3] = ev[::-1, 3]
    elif what == "x_outside":
        ev[2, 0] = 128
    elif what == "polarity":
        ev[1, 2] = 3
    elif what == "fractional_y":
        ev[0, 1] = 0.5
    elif what == "three_columns":
        ev = ev[:, :3]
    return ev


@pytest.mark.parametrize("what,match", [
    ("nan_time", "non-finite value"), ("descending", "timestamps `t` must never decrease"),
    ("x_outside", r"coordinates must lie in 0..127"), ("polarity", "polarities `p` must be 0/1"),
    ("fractional_y", "whole numbers"), ("three_columns", r"\[M, 4\]"),
])  # fmt: skip
def test_malformed_recording_is_named(tmp_path, what, match):
    write_layout(tmp_path / "data", labels=(1, 2))
    bad = tmp_path / "data" / "DVSGesture" / "ibmGestureTrain" / "user02_led" / "2.npy"
    np.save(bad, _bad(np.load(bad), what))
    with pytest.raises(ValueError, match=rf"load_dvs_gesture \(.*user02_led/2.npy\): .*{match}"):
        load_dvs_gesture(tmp_path / "data", num_steps=T, size=8, cache_dir=tmp_path / "c")
    assert not any((tmp_path / "c").glob("*.npz"))


def test_time_major_frames(tmp_path):
    write_layout(tmp_path / "data", labels=(1, 2))
    kw = dict(num_steps=T, size=8, cache_dir=tmp_path / "c")
    f, y = load_dvs_gesture(tmp_path / "data", **kw)
    ft, yt = load_dvs_gesture(tmp_path / "data", time_major=True, **kw)
    assert ft.shape == (T, 4, 8, 8, 2)
    np.testing.assert_array_equal(ft, f.swapaxes(0, 1))
    np.testing.assert_array_equal(yt, y)
    with pytest.raises(TypeError, match="load_dvs_gesture: `time_major` must be a bool; got 1"):
        load_dvs_gesture(tmp_path / "data", time_major=1, **kw)


def test_an_edited_recording_of_the_same_size_is_binned_again(tmp_path):
    write_layout(tmp_path / "data", labels=(1, 2))
    kw = dict(num_steps=T, size=8, cache_dir=tmp_path / "c")
    before, _ = load_dvs_gesture(tmp_path / "data", **kw)
    f = tmp_path / "data" / "DVSGesture" / "ibmGestureTrain" / "user01_fluorescent" / "1.npy"
    ev = np.load(f)
    ev[:, 0] = 127 - ev[:, 0]  # mirrored: same size on disk, other frames
    st = f.stat()
    np.save(f, ev)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    after, _ = load_dvs_gesture(tmp_path / "data", **kw)
    assert f.stat().st_size == st.st_size
    np.testing.assert_array_equal(after[0], before[0][:, :, ::-1])  # x -> 7 - x after downsampling by 16
    np.testing.assert_array_equal(after[1:], before[1:])
