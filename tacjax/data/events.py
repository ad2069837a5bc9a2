"""Event data as frames: a synthetic moving-bar data set and binning of event streams.

Frames are event counts per time bin and polarity, float32, NHWC: sample-major ``[N, T, H, W, 2]``
by default, time-major ``[T, N, H, W, 2]`` with ``time_major=True``. Polarity channel 0 holds OFF
events (brightness decrease, ``p = 0``), channel 1 holds ON events (``p = 1``); this is tonic's
convention, so the synthetic data and DVS128 Gesture frames line up.

Time-major batches ``[T, B, H, W, 2]``, as the networks take them: either keep the default
sample-major frames, batch them on axis 0 (``tacjax.data.batches((frames, labels), B)``) and
transpose each batch (``x.transpose(1, 0, 2, 3, 4)``, which ``tacjax.train.events_encoder`` does),
or ask for ``time_major=True`` and batch on axis 1 (``batches((frames, labels), B, axes=(1, 0))``).

The synthetic set is the embedded stand-in for DVS data: its label is the direction of
motion, and its classes come in pairs (``2p``, ``2p + 1``) that trace the same paths in
opposite directions. Sample ``2p + 1`` is, by construction, the time reversal of a draw of
class ``2p`` (noise aside): frames in reverse order with ON and OFF swapped (reversing time turns every
brightening into a darkening). The bar is bright on a dark background or dark on a bright
background with equal probability, which makes the distribution invariant under the ON/OFF
swap. Hence the time-summed frames of the two classes of a pair have the same distribution:
an unweighted sum of all T frames keeps the path (hence the axis) but not the direction,
while the order of the frames tells the direction. Only that full, unweighted collapse is
blind: a sum over chunks of K <= T/2 frames keeps the order of the chunks, and a weighted
sum (TAC's ``"beta"`` weights) weights late frames more, so both retain direction
information (``tests/data/test_data_events.py`` measures the unweighted case). With a fixed
contrast (``contrast="bright"``) the polarity layout leaks the direction: ON events sit on
the leading edge and OFF events on the trailing edge, so even the time sum shows on which
side of the OFF trail the ON trail lies.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DIRECTIONS", "events_to_frames", "synthetic_events"]

_S = 0.7071067811865476
#: Unit motion vectors (dx, dy) of the synthetic classes; class 2p+1 is class 2p reversed.
#: 0 right, 1 left, 2 down, 3 up, 4 down-right, 5 up-left, 6 down-left, 7 up-right.
DIRECTIONS: tuple[tuple[float, float], ...] = (
    (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0),
    (_S, _S), (-_S, -_S), (-_S, _S), (_S, -_S),
)  # fmt: skip
_CONTRASTS = ("random", "bright", "dark")
_CHUNK_CELLS = 1 << 22  # samples per rendering chunk: about this many pixels x key positions


def _check_int(value, name: str, lo: int, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ValueError(f"{fn}: `{name}` must be an int >= {lo}; got {value!r}.")
    return int(value)


def _check_bool(value, name: str, fn: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{fn}: `{name}` must be a bool; got {value!r}.")
    return bool(value)


def _time_major(frames: np.ndarray, time_major: bool) -> np.ndarray:
    """``[N, T, ...]`` as it is, or as a C-contiguous ``[T, N, ...]`` copy when ``time_major``."""
    return np.ascontiguousarray(frames.swapaxes(0, 1)) if time_major else frames


def _event_columns(events, fn: str) -> tuple[np.ndarray, ...]:
    """Split and check an event stream; raise ValueError naming ``fn`` on anything malformed.

    Args:
        events: a structured array with fields ``x``, ``y``, ``p``, ``t`` (tonic's layout), or a
            numeric array ``[M, 4]`` with columns x, y, p, t.
        fn: the caller's name, put at the start of every error message.

    Returns:
        ``(x, y, p, t)``: int64 ``[M]`` coordinates and polarities and float64 ``[M]`` timestamps,
        after checking that every value is finite, that x, y and p are whole numbers, that ``p`` is
        0/1 and that ``t`` never decreases (``M`` may be 0). Coordinates are not checked against a
        sensor here.
    """
    ev = np.asarray(events)
    if ev.dtype.names is not None:
        missing = {"x", "y", "p", "t"} - set(ev.dtype.names)
        if missing or ev.ndim != 1:
            raise ValueError(f"{fn}: `events` must be a 1-D structured array with fields x, y, p, t; got "
                             f"fields {ev.dtype.names} and shape {ev.shape}.")
        cols = [ev[k] for k in ("x", "y", "p", "t")]
    elif ev.ndim == 2 and ev.shape[1] == 4 and (ev.dtype.kind in "biuf"):
        cols = list(ev.T)
    else:
        raise ValueError(
            f"{fn}: `events` must be a structured array (x, y, p, t) or a numeric array of shape [M, 4]; "
            f"got shape {ev.shape} dtype {ev.dtype}."
        )
    out = []
    for name, c in zip("xypt", cols, strict=True):
        c = np.asarray(c)
        if c.dtype.kind not in "biuf":
            raise ValueError(f"{fn}: event field `{name}` must be numeric; got dtype {c.dtype}.")
        if c.dtype.kind == "f" and not np.all(np.isfinite(c)):
            bad = int(np.flatnonzero(~np.isfinite(c))[0])
            raise ValueError(f"{fn}: event field `{name}` has a non-finite value ({c[bad]}) at index {bad}.")
        if name != "t" and c.dtype.kind == "f" and not np.all(c == np.round(c)):
            raise ValueError(f"{fn}: event field `{name}` must hold whole numbers; got fractional values.")
        out.append(c.astype(np.float64 if name == "t" else np.int64))
    x, y, p, t = out
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"{fn}: polarities `p` must be 0/1; got values in [{p.min()}, {p.max()}].")
    if t.size > 1 and np.any(np.diff(t) < 0):
        i = int(np.flatnonzero(np.diff(t) < 0)[0])
        raise ValueError(
            f"{fn}: timestamps `t` must never decrease; t[{i}] = {t[i]:g} > t[{i + 1}] = {t[i + 1]:g}. "
            "Sort the stream first, e.g. `events[np.argsort(events['t'], kind='stable')]`."
        )
    return x, y, p, t


def _geometry(size: int):
    """Bar thickness and length, and the travel range, for a ``size x size`` sensor."""
    thick = max(2, round(size / 12))
    length = max(3, size // 3)
    return thick, length, 0.35 * size, 0.55 * size


def _render(cx, cy, d, thick: float, length: float, size: int) -> np.ndarray:
    """Occupancy of bars centred at (cx, cy) ``[...]`` moving along unit vector ``d``: ``[..., H, W]``."""
    grid = np.arange(size, dtype=np.float32)
    x = grid[None, :] - cx[..., None, None]
    y = grid[:, None] - cy[..., None, None]
    dx, dy = d[0][..., None, None], d[1][..., None, None]
    u = x * dx + y * dy  # along the motion
    v = -x * dy + y * dx  # along the bar
    return (u >= -thick / 2) & (u < thick / 2) & (v >= -length / 2) & (v < length / 2)


def synthetic_events(
    num_samples: int,
    *,
    num_steps: int = 16,
    size: int = 32,
    num_classes: int = 4,
    noise: float = 0.01,
    jitter: int = 1,
    seed: int = 0,
    contrast: str = "random",
    time_major: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Moving-bar event frames whose label (the direction of motion) needs temporal order.

    Each sample is a bar of thickness ``max(2, round(size / 12))`` and length
    ``max(3, size // 3)``, perpendicular to its motion, that travels a distance drawn
    uniformly in ``[0.35, 0.55] * size`` over the ``num_steps`` bins along a path with a
    random position inside the sensor. Events are the pixels whose brightness changes
    between consecutive positions: ON where a bright bar arrives (its leading edge), OFF
    where it leaves (its trailing edge), and the reverse for a dark bar. Each of the
    ``num_steps + 1`` key positions is shifted by an independent integer jitter in
    ``[-jitter, jitter]`` per axis, and Poisson background noise with mean ``noise`` is
    added per pixel, bin and polarity. Class ``2p + 1`` is the time reversal of class ``2p``
    (see the module docstring), so the time-summed frames of a pair are identically
    distributed when ``contrast="random"``. Use different seeds for train and test sets.

    Args:
        num_samples: N >= 1.
        num_steps: T >= 2 time bins.
        size: sensor side H = W (>= 12).
        num_classes: an even number in 2..8; directions are ``DIRECTIONS[:num_classes]``
            (right/left, down/up, then the two diagonals).
        noise: mean noise events per pixel, bin and polarity (>= 0).
        jitter: maximum integer position jitter in pixels per key position (>= 0).
        seed: an int >= 0; the draw is a deterministic function of all arguments (but
            ``time_major``).
        contrast: ``"random"`` (bright or dark bar, 50/50; the default), ``"bright"`` or
            ``"dark"``. Fixed contrasts leak the direction through the polarity layout.
        time_major: return the frames time-major ``[T, N, ...]`` (a contiguous copy) instead of
            sample-major ``[N, T, ...]``; see the module docstring for ``[T, B, ...]`` batches.

    Returns:
        ``(frames, labels)``: frames float32 ``[N, T, size, size, 2]`` (``[T, N, size, size, 2]``
        with ``time_major=True``; event counts, channel 0 OFF, 1 ON), labels int32 ``[N]``
        uniform over ``range(num_classes)``.

    Raises:
        ValueError: an argument out of its range (named in the message).
        TypeError: ``time_major`` is not a bool.
    """
    fn = "synthetic_events"
    n = _check_int(num_samples, "num_samples", 1, fn)
    t = _check_int(num_steps, "num_steps", 2, fn)
    size = _check_int(size, "size", 12, fn)
    jitter = _check_int(jitter, "jitter", 0, fn)
    seed = _check_int(seed, "seed", 0, fn)
    time_major = _check_bool(time_major, "time_major", fn)
    if not isinstance(num_classes, int | np.integer) or isinstance(num_classes, bool) or num_classes not in (
        2, 4, 6, 8
    ):
        raise ValueError(f"{fn}: `num_classes` must be the int 2, 4, 6 or 8; got {num_classes!r}.")
    if isinstance(noise, bool) or not isinstance(noise, int | float | np.number) or not 0 <= noise < np.inf:
        raise ValueError(f"{fn}: `noise` must be a finite number >= 0; got {noise!r}.")
    if not isinstance(contrast, str) or contrast not in _CONTRASTS:
        raise ValueError(f"{fn}: `contrast` must be one of {_CONTRASTS}; got {contrast!r}.")

    rng = np.random.default_rng(seed)
    thick, length, lo, hi = _geometry(size)
    labels = rng.integers(0, num_classes, size=n).astype(np.int32)
    base = np.asarray(DIRECTIONS, dtype=np.float32)[labels & ~1]  # forward direction of each pair
    travel = rng.uniform(lo, hi, size=n).astype(np.float32)
    ax, ay = np.abs(base[:, 0]), np.abs(base[:, 1])
    # half extents of the bar's bounding box, plus half the travel and the jitter
    mx = ax * thick / 2 + ay * length / 2 + ax * travel / 2 + jitter + 0.5
    my = ay * thick / 2 + ax * length / 2 + ay * travel / 2 + jitter + 0.5
    if np.any(size - 2 * mx < 0) or np.any(size - 2 * my < 0):
        raise ValueError(f"{fn}: `size`={size} is too small for `jitter`={jitter}; use a larger size.")
    mid_x = mx + rng.uniform(0, 1, size=n).astype(np.float32) * (size - 2 * mx)
    mid_y = my + rng.uniform(0, 1, size=n).astype(np.float32) * (size - 2 * my)
    frac = np.linspace(-0.5, 0.5, t + 1, dtype=np.float32)  # key positions along the path
    cx = mid_x[:, None] + frac[None, :] * travel[:, None] * base[:, 0:1]
    cy = mid_y[:, None] + frac[None, :] * travel[:, None] * base[:, 1:2]
    cx = cx + rng.integers(-jitter, jitter + 1, size=cx.shape)
    cy = cy + rng.integers(-jitter, jitter + 1, size=cy.shape)
    if contrast == "random":
        sign = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    else:
        sign = np.full(n, 1 if contrast == "bright" else -1, dtype=np.int8)
    reverse = (labels & 1).astype(bool)

    frames = np.empty((n, t, size, size, 2), dtype=np.float32)
    chunk_n = max(1, _CHUNK_CELLS // ((t + 1) * size * size))
    for start in range(0, n, chunk_n):
        sl = slice(start, min(n, start + chunk_n))
        d = (base[sl, 0][:, None], base[sl, 1][:, None])
        occ = _render(cx[sl], cy[sl], d, thick, length, size).astype(np.int8)  # [n, T+1, H, W]
        occ[reverse[sl]] = occ[reverse[sl], ::-1]
        change = (occ[:, 1:] - occ[:, :-1]) * sign[sl, None, None, None]  # +1 brighter, -1 darker
        chunk = frames[sl]
        chunk[...] = np.stack((change < 0, change > 0), axis=-1)
        if noise > 0:  # independent Poisson(noise) per cell == Poisson(total) events placed uniformly
            flat = chunk.reshape(-1)
            hits = rng.integers(0, flat.size, size=rng.poisson(noise * flat.size))
            np.add.at(flat, hits, 1.0)
    return _time_major(frames, time_major), labels


def events_to_frames(
    events: np.ndarray,
    num_steps: int,
    sensor_size: tuple[int, int],
    *,
    size: int | None = None,
) -> np.ndarray:
    """Bin one event stream into ``num_steps`` frames of equal duration.

    Bins split ``[t_first, t_last]`` evenly; every event is counted (the last one falls in the
    last bin). Spatial downsampling to ``size x size`` maps pixel ``x`` to
    ``floor(x * size / width)`` (likewise ``y``), i.e. sum pooling when ``size`` divides the
    sensor side. An empty stream gives all-zero frames.

    Args:
        events: a structured array with fields ``x``, ``y``, ``p``, ``t`` (tonic's layout),
            or a numeric array ``[M, 4]`` with columns x, y, p, t. ``p`` is 0/1 (OFF/ON) or
            boolean; ``t`` must be finite and never decrease (a recorded stream is in time order).
        num_steps: T >= 1.
        sensor_size: ``(width, height)`` of the sensor, positive ints (a third entry, the
            polarity count, is ignored, so tonic's ``sensor_size`` works).
        size: output side; None keeps the sensor resolution (then H = height, W = width).

    Returns:
        float32 ``[T, H, W, 2]`` event counts (channel 0 OFF, 1 ON).

    Raises:
        ValueError: a malformed stream (wrong layout, non-finite or fractional values,
            polarities other than 0/1, decreasing timestamps, coordinates outside the sensor)
            or a bad ``num_steps``, ``sensor_size`` or ``size``; the message says which.
    """
    fn = "events_to_frames"
    t_bins = _check_int(num_steps, "num_steps", 1, fn)
    if (
        not isinstance(sensor_size, tuple | list)
        or len(sensor_size) not in (2, 3)
        or any(isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1 for v in sensor_size[:2])
    ):
        raise ValueError(
            f"{fn}: `sensor_size` must be (width, height[, polarities]), positive ints; got {sensor_size!r}."
        )
    width, height = int(sensor_size[0]), int(sensor_size[1])
    x, y, p, t = _event_columns(events, fn)
    if x.size and (x.min() < 0 or x.max() >= width or y.min() < 0 or y.max() >= height):
        raise ValueError(
            f"{fn}: event coordinates x in [{x.min()}, {x.max()}], y in [{y.min()}, {y.max()}] fall outside "
            f"`sensor_size` (width, height) = {(width, height)}."
        )
    out_w = out_h = size
    if size is None:
        out_w, out_h = width, height
    else:
        size = _check_int(size, "size", 1, fn)
        x, y = x * size // width, y * size // height
    frames = np.zeros((t_bins, out_h, out_w, 2), dtype=np.float32)
    if x.size == 0:
        return frames
    span = t[-1] - t[0]
    b = np.zeros(t.shape, np.int64) if span == 0 else np.floor((t - t[0]) / span * t_bins).astype(np.int64)
    np.add.at(frames, (np.minimum(b, t_bins - 1), y, x, p), 1.0)
    return frames
