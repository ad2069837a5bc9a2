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
    with pytest.raises(ValueError, match="leading axis"):
        next(batches((np.zeros(4), np.zeros(5)), 2))
    with pytest.raises(TypeError, match="tuple"):
        next(batches(np.zeros(4), 2))
    with pytest.raises(ValueError, match="batch_size"):
        next(batches((np.zeros(4),), 0))
