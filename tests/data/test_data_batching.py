"""Mini-batching: determinism from (seed, epoch) and coverage."""

import numpy as np
import pytest

from tacjax.data import batches, num_batches


def _collect(*args, **kw):
    return [tuple(np.copy(a) for a in b) for b in batches(*args, **kw)]


def test_num_batches():
    assert num_batches(10, 3) == 3 and num_batches(10, 3, drop_last=False) == 4
    assert num_batches(9, 3) == 3 and num_batches(9, 3, False) == 3 and num_batches(0, 4) == 0
    with pytest.raises(ValueError, match="batch_size"):
        num_batches(5, 0)
    with pytest.raises(ValueError, match="`n`"):
        num_batches(-1, 2)


def test_deterministic_per_seed_and_epoch():
    x, y = np.arange(50) * 10, np.arange(50)
    a = _collect((x, y), 8, seed=3, epoch=2)
    b = _collect((x, y), 8, seed=3, epoch=2)
    assert len(a) == num_batches(50, 8) == 6
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, ya * 10)  # arrays stay aligned
        assert xa.shape == (8,)
    other_epoch = np.concatenate([b[1] for b in _collect((x, y), 8, seed=3, epoch=3)])
    other_seed = np.concatenate([b[1] for b in _collect((x, y), 8, seed=4, epoch=2)])
    this = np.concatenate([b[1] for b in a])
    assert not np.array_equal(this, other_epoch) and not np.array_equal(this, other_seed)


@pytest.mark.parametrize("shuffle", [True, False])
def test_coverage(shuffle):
    n, bs = 23, 5
    y = np.arange(n)
    full = _collect((y, y[:, None] * np.ones((1, 3))), bs, shuffle=shuffle, drop_last=False)
    assert [len(b[0]) for b in full] == [5, 5, 5, 5, 3]
    seen = np.concatenate([b[0] for b in full])
    np.testing.assert_array_equal(np.sort(seen), y)  # every sample exactly once
    assert full[0][1].shape == (5, 3)
    dropped = np.concatenate([b[0] for b in _collect((y,), bs, shuffle=shuffle)])
    assert len(dropped) == 20 and len(set(dropped.tolist())) == 20
    if not shuffle:
        np.testing.assert_array_equal(seen, y)
    else:
        assert not np.array_equal(seen, y)


def test_bad_inputs():
    with pytest.raises(ValueError, match="same N along their batch axes"):
        next(batches((np.zeros(4), np.zeros(5)), 2))
    with pytest.raises(TypeError, match="tuple"):
        next(batches(np.zeros(4), 2))
    with pytest.raises(ValueError, match="batch_size"):
        next(batches((np.zeros(4),), 0))


@pytest.mark.parametrize("kw,name", [
    (dict(seed=-1), "seed"), (dict(seed=1.5), "seed"), (dict(epoch=-2), "epoch"), (dict(epoch="0"), "epoch"),
    (dict(axes=2), "axes"), (dict(axes=(0,)), "axes"), (dict(axes=(1, 1)), "axes"), (dict(axes=True), "axes"),
])  # fmt: skip
def test_bad_arguments_are_named(kw, name):
    with pytest.raises(ValueError, match=rf"batches: `{name}` .*got"):
        next(batches((np.zeros((4, 3)), np.zeros(4)), 2, **kw))


@pytest.mark.parametrize("n,b,drop_last", [(3, 4, True), (0, 2, False), (0, 2, True)])
def test_no_batch_at_all_is_an_error(n, b, drop_last):
    with pytest.raises(ValueError, match=rf"batches: no batch to yield: N = {n} .*`batch_size` {b}"):
        next(batches((np.zeros((n, 2)),), b, drop_last=drop_last))


@pytest.mark.parametrize("shuffle", [True, False])
def test_time_major_batches_on_axis_1(shuffle):
    frames = np.arange(5 * 7 * 3, dtype=np.float32).reshape(7, 5, 3)  # [N, T, F]
    labels = np.arange(7)
    tm = np.ascontiguousarray(frames.swapaxes(0, 1))  # [T, N, F]
    kw = dict(shuffle=shuffle, seed=3, epoch=1, drop_last=False)
    got = list(batches((tm, labels), 3, axes=(1, 0), **kw))
    want = list(batches((frames, labels), 3, **kw))
    assert [x.shape for x, _ in got] == [(5, 3, 3), (5, 3, 3), (5, 1, 3)]
    for (x, y), (xs, ys) in zip(got, want, strict=True):
        np.testing.assert_array_equal(x, xs.swapaxes(0, 1))
        np.testing.assert_array_equal(y, ys)
