"""Order statistics: NumPy references for the Gram and formulas; i.i.d. frames score ~0, ordered do not."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tacjax.data import synthetic_events
from tacjax.plan import OFFSETS, frame_gram, order_scores

KEY = jax.random.key(7)


def gram_numpy(x):
    x = np.asarray(x, np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    x = x - x.mean(axis=0, keepdims=True)
    t, b, h, w, _ = x.shape
    g = np.zeros((len(OFFSETS), b, t, t))
    for d, (dy, dx) in enumerate(OFFSETS):
        for i in range(h):
            for j in range(w):
                if 0 <= i + dy < h and 0 <= j + dx < w:
                    g[d] += np.einsum("tbc,sbc->bts", x[:, :, i, j], x[:, :, i + dy, j + dx])
    return g


def contrasts_numpy(g, k):
    t = g.shape[-1]
    same = [(a, c) for a in range(t) for c in range(t) if a != c and a // k == c // k]
    lags = sorted({c - a for a, c in same})
    n = {lag: sum(1 for a, c in same if c - a == lag) for lag in lags}
    total = sum(n.values())
    devs, asyms = [], []
    for gd in g.reshape(-1, t, t):
        prof = {lag: np.mean([gd[a, c] for a, c in same if c - a == lag]) for lag in lags}
        mean = sum(n[lag] / total * prof[lag] for lag in lags)
        devs.append(sum(n[lag] / total * (prof[lag] - mean) ** 2 for lag in lags))
        asyms.append(np.mean([gd[a, c] - gd[c, a] for a, c in same if a < c]) ** 2)
    return np.mean(devs), np.mean(asyms), total / t


def scores_numpy(g, k, key, num_perms, z):
    t, b = g.shape[-1], g.shape[1]
    dev, asym, others = contrasts_numpy(g, k)
    chunk = np.arange(t) // k
    nulls = []
    for i in range(num_perms):
        noise = np.asarray(jax.random.uniform(jax.random.fold_in(key, i), (b, t)))
        perm = np.argsort(chunk[None, :] + 0.5 * noise, axis=-1)
        gp = np.stack([g[:, j][:, perm[j]][:, :, perm[j]] for j in range(b)], axis=1)
        nulls.append(contrasts_numpy(gp, k)[:2])
    nulls = np.array(nulls)
    scale = np.mean((np.trace(g[OFFSETS.index((0, 0))], axis1=1, axis2=2) / t) ** 2)
    spread = z * np.sqrt(1 + 1 / num_perms)
    ex = [v - nulls[:, j].mean() - spread * nulls[:, j].std(ddof=1) for j, v in enumerate((dev, asym))]
    return np.sqrt(max(ex[0], 0) / scale), np.sqrt(others * max(ex[1], 0) / scale)


def within_variance_numpy(x, k):
    x = np.asarray(x, np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    within = sum(((x[s:s + k] - x[s:s + k].mean(0)) ** 2).sum() for s in range(0, x.shape[0], k))
    return within / ((x - x.mean(0)) ** 2).sum()


def test_gram_and_statistics_match_numpy_loops():
    x = jax.random.bernoulli(jax.random.key(0), 0.3, (7, 3, 4, 5, 2)).astype(jnp.float32)
    g = frame_gram(x)
    np.testing.assert_allclose(np.asarray(g), gram_numpy(x), rtol=1e-5, atol=1e-4)
    for k, z in ((3, 0.0), (2, 1.5), (7, 0.0)):  # 7 % 3 != 0: a short last chunk
        got = order_scores(g, k, KEY, num_perms=4, z=z)
        order, asym = scores_numpy(np.asarray(g, np.float64), k, KEY, 4, z)
        got2 = [float(got.order), float(got.asymmetry)]
        np.testing.assert_allclose(got2, [order, asym], rtol=2e-4, atol=1e-6)
        np.testing.assert_allclose(float(got.within_variance), within_variance_numpy(x, k), rtol=1e-5)


def _iid_and_ordered(t=8, b=32, size=12):
    ordered, _ = synthetic_events(b, num_steps=t, size=size, noise=0.0, jitter=0, time_major=True)
    rng = np.random.default_rng(0)
    iid = ordered[rng.permuted(np.tile(np.arange(t), (b, 1)), axis=1).T, np.arange(b)]  # each sample shuffled
    return jnp.asarray(iid), jnp.asarray(ordered)


def test_iid_frames_score_near_zero_ordered_frames_clearly_higher():
    """Moving bars vs the same frames shuffled in time. z = 0 leaves a small noise floor (32 samples
    here); the default z = 1 and z = 2 remove it."""
    iid, ordered = _iid_and_ordered()
    gi, go = frame_gram(iid), frame_gram(ordered)
    for name in ("order", "asymmetry"):
        for k in (2, 4, 8):
            low = float(getattr(order_scores(gi, k, KEY, z=0.0), name))
            high = float(getattr(order_scores(go, k, KEY, z=0.0), name))
            assert low < 0.06 and high > 0.05 and high > 5 * low, (name, k, high, low)
            for z in (1.0, 2.0):
                assert float(getattr(order_scores(gi, k, KEY, z=z), name)) == 0.0
                assert float(getattr(order_scores(go, k, KEY, z=z), name)) > 0.05
    bern = jax.random.bernoulli(jax.random.key(1), 0.3, (8, 32, 12, 12, 1)).astype(jnp.float32)
    assert float(order_scores(frame_gram(bern), 4, KEY).asymmetry) < 0.02  # rate coding: exchangeable


def test_a_sequence_whose_class_is_its_order():
    """Two classes, the same frames forwards or backwards: a bar at a random row sliding a pixel per step."""
    rng = np.random.default_rng(3)
    x = np.zeros((8, 32, 12, 12, 1), np.float32)  # [T, B, H, W, C]
    for b in range(32):
        row, col = rng.integers(0, 10), rng.integers(0, 4)
        for t in range(8):
            x[t if b % 2 else 7 - t, b, row:row + 2, col + t] = 1.0
    s = order_scores(frame_gram(jnp.asarray(x)), 4, KEY)
    assert float(s.asymmetry) > 0.1 and float(s.order) > 0.1
    assert float(s.within_variance) > 0.1  # the naive statistic sees within-chunk variance too ...
    iid, _ = _iid_and_ordered()
    assert float(order_scores(frame_gram(iid), 4, KEY).within_variance) > 0.5  # ... and scores noise high


def test_shuffling_within_chunks_removes_what_k_sees():
    """Frames shuffled (per sample) within chunks of 4: no order at K = 2 or 4; at 8, the chunks' order."""
    _, ordered = _iid_and_ordered()
    rng = np.random.default_rng(1)
    one = lambda: np.concatenate([c * 4 + rng.permutation(4) for c in range(2)])  # noqa: E731
    idx = np.stack([one() for _ in range(32)], axis=1)
    g = frame_gram(ordered[idx, np.arange(32)])
    for k in (2, 4):
        assert float(order_scores(g, k, KEY).order) == 0.0 and float(order_scores(g, k, KEY).asymmetry) == 0.0
    assert float(order_scores(g, 8, KEY).asymmetry) > 0.05  # the planner's statistic sees the chunks' order
    assert float(order_scores(frame_gram(ordered), 1, KEY).order) == 0.0


def test_vmap_over_k_matches_single_calls():
    _, ordered = _iid_and_ordered()
    g = frame_gram(ordered)
    ks = jnp.array([1, 2, 3, 8])
    many = jax.jit(jax.vmap(lambda k: order_scores(g, k, KEY)))(ks)
    for i, k in enumerate([1, 2, 3, 8]):
        one = order_scores(g, k, KEY)
        for a, b in zip(one, many, strict=True):
            np.testing.assert_allclose(float(a), float(b[i]), rtol=1e-5, atol=1e-7)


def test_bad_input_is_named():
    g = frame_gram(jnp.zeros((4, 2, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"frame_gram: argument `x` must have exactly 5 dimensions"):
        frame_gram(jnp.zeros((4, 2, 3, 3)))
    with pytest.raises(TypeError, match=r"frame_gram: argument `x` must have a floating dtype"):
        frame_gram(jnp.zeros((4, 2, 3, 3, 1), jnp.int32))
    with pytest.raises(ValueError, match=r"order_scores: `k` must satisfy 1 <= K <= T = 4; got 5"):
        order_scores(g, 5, KEY)
    with pytest.raises(ValueError, match=r"order_scores: `k` must satisfy 1 <= K <= T = 4; got 0"):
        order_scores(g, 0, KEY)
    with pytest.raises(ValueError, match=r"`num_perms` must be an int >= 2; got 1"):
        order_scores(g, 2, KEY, num_perms=1)
    with pytest.raises(ValueError, match=r"`z` must be a finite number >= 0; got -1"):
        order_scores(g, 2, KEY, z=-1)
    with pytest.raises(ValueError, match=r"`gram` must be \[9, B, T, T\] \(from frame_gram\); got shape"):
        order_scores(g[..., :3], 2, KEY)
