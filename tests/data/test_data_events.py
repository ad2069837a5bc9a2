"""Synthetic moving-bar events: shapes, determinism, physics, and that time sums hide the class."""

import numpy as np
import pytest

from tacjax.data import DIRECTIONS, events_to_frames, synthetic_events

N, T, S = 800, 8, 16


@pytest.fixture(scope="module")
def sets():
    """Train/test draws (different seeds) for random and fixed bright contrast."""
    draw = {}
    for c in ("random", "bright"):
        draw[c] = tuple(synthetic_events(N, num_steps=T, size=S, seed=k, contrast=c) for k in (0, 1))
    return draw


def test_shapes_dtypes_determinism():
    x, y = synthetic_events(40, num_steps=5, size=20, num_classes=8, seed=3)
    assert x.shape == (40, 5, 20, 20, 2) and x.dtype == np.float32
    assert y.shape == (40,) and y.dtype == np.int32 and set(np.unique(y)) <= set(range(8))
    assert np.all(x >= 0) and np.all(x == np.round(x))
    x2, y2 = synthetic_events(40, num_steps=5, size=20, num_classes=8, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = synthetic_events(40, num_steps=5, size=20, num_classes=8, seed=4)
    assert not np.array_equal(x, x3)
    _, y4 = synthetic_events(2000, num_steps=2, size=12, num_classes=4, seed=0, noise=0.0)
    assert np.all(np.abs(np.bincount(y4, minlength=4) / 2000 - 0.25) < 0.04)  # balanced classes


def test_noise_level():
    quiet, _ = synthetic_events(50, num_steps=4, size=16, noise=0.0, seed=0)
    noisy, _ = synthetic_events(50, num_steps=4, size=16, noise=0.2, seed=0)
    extra = noisy.sum() - quiet.sum()
    cells = quiet.size
    assert abs(extra / cells - 0.2) < 0.01  # Poisson(0.2) per pixel, bin and polarity


def test_on_off_balance_without_noise():
    """An axis-aligned bar (constant area) switches on as many pixels as it switches off."""
    x, _ = synthetic_events(100, num_steps=6, size=24, noise=0.0, jitter=1, num_classes=4, seed=2)
    np.testing.assert_array_equal(x[..., 0].sum((2, 3)), x[..., 1].sum((2, 3)))
    assert x.sum() > 0 and x.max() == 1.0


@pytest.mark.parametrize("contrast, sign", [("bright", 1), ("dark", -1)])
def test_on_events_lead_for_a_bright_bar(contrast, sign):
    x, y = synthetic_events(200, num_steps=6, size=24, noise=0.0, jitter=0, contrast=contrast, seed=5)
    d = np.asarray(DIRECTIONS)[y]
    grid = np.arange(24)
    checked = 0
    for frames, (dx, dy) in zip(x, d, strict=True):
        for f in frames:
            on, off = f[..., 1], f[..., 0]
            if on.sum() == 0:
                continue
            cx = lambda m: (m.sum(0) * grid).sum() / m.sum()  # noqa: E731
            cy = lambda m: (m.sum(1) * grid).sum() / m.sum()  # noqa: E731
            lead = (cx(on) - cx(off)) * dx + (cy(on) - cy(off)) * dy
            assert sign * lead > 0  # ON ahead of OFF along the motion (bright bar)
            checked += 1
    assert checked > 500


def _ridge_pair_accuracy(ftr, ytr, fte, yte, lam=10.0):
    """Within each reversed pair (2p, 2p+1): accuracy of a ridge classifier (dual form)."""
    accs = []
    for p in range(2):
        mtr, mte = ytr // 2 == p, yte // 2 == p
        mu = ftr[mtr].mean(0)
        a, b = ftr[mtr] - mu, fte[mte] - mu
        target = np.where(ytr[mtr] & 1, 1.0, -1.0)
        alpha = np.linalg.solve(a @ a.T + lam * np.eye(len(a)), target)
        accs.append(np.mean((b @ (a.T @ alpha) > 0) == (yte[mte] & 1).astype(bool)))
    return np.array(accs)


def _polarity_statistic_accuracy(frames, y):
    """Guess the direction within a pair from where ON lies relative to OFF in the time sum."""
    s = frames.sum(1)
    d = np.asarray(DIRECTIONS)[y & ~1]
    g = np.arange(s.shape[1], dtype=np.float64)

    def centre(m, axis):
        return (m.sum(axis) * g).sum(1) / np.maximum(m.sum((1, 2)), 1e-9)

    stat = (centre(s[..., 1], 1) - centre(s[..., 0], 1)) * d[:, 0] + (
        centre(s[..., 1], 2) - centre(s[..., 0], 2)
    ) * d[:, 1]
    return np.mean((stat < 0) == (y & 1).astype(bool))


def test_time_sum_hides_the_direction(sets):
    (x, y), (xt, yt) = sets["random"]
    full = _ridge_pair_accuracy(x.reshape(N, -1), y, xt.reshape(N, -1), yt)
    summed = _ridge_pair_accuracy(x.sum(1).reshape(N, -1), y, xt.sum(1).reshape(N, -1), yt)
    assert np.all(full > 0.9), full  # the frame order tells the direction
    assert np.all(np.abs(summed - 0.5) < 0.1), summed  # the time sum does not (chance is 0.5)
    assert abs(_polarity_statistic_accuracy(xt, yt) - 0.5) < 0.1  # nor does the ON/OFF layout


def test_fixed_contrast_leaks_direction_through_polarity(sets):
    """Power check for the test above: with bright bars only, the time sum does reveal the direction."""
    (x, y), (xt, yt) = sets["bright"]
    summed = _ridge_pair_accuracy(x.sum(1).reshape(N, -1), y, xt.sum(1).reshape(N, -1), yt)
    assert np.all(summed > 0.9), summed
    assert _polarity_statistic_accuracy(xt, yt) > 0.9


def test_synthetic_validation():
    with pytest.raises(ValueError, match="num_classes"):
        synthetic_events(4, num_classes=3)
    with pytest.raises(ValueError, match="size"):
        synthetic_events(4, size=8)
    with pytest.raises(ValueError, match="contrast"):
        synthetic_events(4, contrast="grey")
    with pytest.raises(ValueError, match="num_steps"):
        synthetic_events(4, num_steps=1)
    with pytest.raises(ValueError, match="noise"):
        synthetic_events(4, noise=-0.1)
    with pytest.raises(ValueError, match="too small"):
        synthetic_events(4, size=12, jitter=3)


def test_events_to_frames():
    dtype = np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])
    ev = np.array([(0, 0, 1, 0), (3, 1, 0, 5), (3, 1, 0, 24), (2, 3, 1, 39), (1, 2, 1, 40)], dtype=dtype)
    f = events_to_frames(ev, 4, (4, 4, 2))
    assert f.shape == (4, 4, 4, 2) and f.dtype == np.float32 and f.sum() == 5
    assert f[0, 0, 0, 1] == 1 and f[0, 1, 3, 0] == 1  # t = 0, 5 -> bin 0 (bins of 10)
    assert f[2, 1, 3, 0] == 1 and f[3, 3, 2, 1] == 1 and f[3, 2, 1, 1] == 1  # the last event is kept
    plain = np.stack([ev["x"], ev["y"], ev["p"], ev["t"]], 1).astype(np.int64)
    np.testing.assert_array_equal(events_to_frames(plain, 4, (4, 4)), f)
    small = events_to_frames(ev, 2, (4, 4), size=2)
    assert small.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(small.sum(0), f.sum(0).reshape(2, 2, 2, 2, 2).sum((1, 3)))  # sum pooling
    assert events_to_frames(ev[:0], 3, (4, 4)).sum() == 0
    with pytest.raises(ValueError, match="outside"):
        events_to_frames(ev, 2, (3, 3))
    with pytest.raises(ValueError, match="structured"):
        events_to_frames(np.zeros((5, 3)), 2, (4, 4))


@pytest.mark.parametrize("kw,name,exc", [
    (dict(seed=-1), "seed", ValueError), (dict(seed=2.5), "seed", ValueError),
    (dict(num_classes=4.0), "num_classes", ValueError), (dict(noise=float("inf")), "noise", ValueError),
    (dict(noise=float("nan")), "noise", ValueError), (dict(noise="0.1"), "noise", ValueError),
    (dict(num_samples=0), "num_samples", ValueError), (dict(jitter=-1), "jitter", ValueError),
    (dict(time_major="yes"), "time_major", TypeError),
])  # fmt: skip
def test_synthetic_bad_arguments_are_named(kw, name, exc):
    kw = {"num_samples": 2, **kw}
    with pytest.raises(exc, match=rf"synthetic_events: `{name}` .*got"):
        synthetic_events(kw.pop("num_samples"), size=12, num_steps=3, **kw)


def test_synthetic_time_major():
    x, y = synthetic_events(5, num_steps=3, size=12, seed=4)
    xt, yt = synthetic_events(5, num_steps=3, size=12, seed=4, time_major=True)
    assert xt.shape == (3, 5, 12, 12, 2) and xt.flags.c_contiguous
    np.testing.assert_array_equal(xt, x.swapaxes(0, 1))
    np.testing.assert_array_equal(yt, y)


def _stream(**change):
    cols = {"x": [0, 3, 3, 2], "y": [0, 1, 1, 3], "p": [1, 0, 0, 1], "t": [0.0, 5.0, 24.0, 39.0]}
    cols.update(change)
    return np.stack([np.asarray(cols[k], np.float64) for k in "xypt"], 1)


@pytest.mark.parametrize("change,match", [
    (dict(t=[0.0, 5.0, np.nan, 39.0]), r"field `t` has a non-finite value \(nan\) at index 2"),
    (dict(t=[0.0, 5.0, np.inf, 39.0]), "field `t` has a non-finite value"),
    (dict(t=[39.0, 24.0, 5.0, 0.0]), r"timestamps `t` must never decrease; t\[0\] = 39 > t\[1\] = 24"),
    (dict(t=[0.0, 25.0, 24.0, 39.0]), r"t\[1\] = 25 > t\[2\] = 24"),
    (dict(x=[0, 1.5, 3, 2]), "field `x` must hold whole numbers"),
    (dict(y=[0, np.nan, 1, 3]), "field `y` has a non-finite value"),
    (dict(p=[1, 2, 0, 1]), r"polarities `p` must be 0/1; got values in \[0, 2\]"),
    (dict(x=[0, 3, 4, 2]), r"x in \[0, 4\].*outside `sensor_size`"),
])  # fmt: skip
def test_events_to_frames_rejects_malformed_streams(change, match):
    with pytest.raises(ValueError, match="events_to_frames: .*" + match):
        events_to_frames(_stream(**change), 4, (4, 4))


@pytest.mark.parametrize("sensor", [(0, 4), (4, -1), (4.0, 4), (4,), "44", (True, 4)])
def test_events_to_frames_bad_sensor_size(sensor):
    with pytest.raises(ValueError, match=r"events_to_frames: `sensor_size` must be .*got"):
        events_to_frames(_stream(), 4, sensor)


def test_events_to_frames_bad_layouts():
    with pytest.raises(ValueError, match="events_to_frames: `events` must be a 1-D structured array"):
        events_to_frames(np.zeros((2, 2), dtype=[("x", int), ("y", int), ("p", int), ("t", int)]), 2, (4, 4))
    with pytest.raises(ValueError, match=r"`events` must be .* \[M, 4\]; got shape \(4, 4\)"):
        events_to_frames(np.full((4, 4), "a"), 2, (4, 4))
