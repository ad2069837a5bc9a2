"""Sparse-compute strategies for spiking convolutions in MLX (a subset of ``tacjax.sparse``).

Same signatures and semantics as ``tacjax.sparse``: every strategy computes
``conv(spikes [N, H, W, C], w [kh, kw, C, O], *, stride=1, padding="SAME") -> [N, Ho, Wo, O]``
with **HWIO weights, as in JAX** (converted to MLX's OHWI inside ``conv``), and padding
"SAME" (XLA's rule), "VALID", an int or ``((top, bottom), (left, right))``.

Mirrored here: "dense" (``mx.conv_general``), "im2col", "event", "bitpack", "tiles", plus
``as_fc``, ``patches``, ``im2col``, ``gemm_weights``, ``pack_channels``/``unpack_channels``.
Not mirrored: "bcoo"/"bcsr" (MLX has no sparse array formats) and "product" (its host-planned
prefix reuse is JAX-specific code); ``tacjax.mlx.sparse.STRATEGIES`` lists what exists.

MLX has no ``jit`` shape constraint, so "event" and "tiles" find the active spikes/tiles on the
host (one ``np.flatnonzero``, a synchronisation) and take exactly that many; ``capacity`` and
``overflow`` keep their JAX meaning (more than ``capacity`` -> ValueError, or the dense result
with ``overflow="dense"``); ``capacity=None`` never overflows.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mlx.core as mx
import numpy as np

from tacjax.mlx import _checks

__all__ = [
    "BINARY_ONLY", "STRATEGIES", "WITH_CAPACITY", "as_fc", "bitpack_conv", "conv", "event_conv",
    "gemm_weights", "im2col", "im2col_matmul", "pack_channels", "patches", "tile_conv",
    "unpack_channels",
]


def _args(spikes, w, fn):
    spikes, w = _checks.asarray(spikes), _checks.asarray(w)
    for a, name, want in ((spikes, "spikes", "[N, H, W, C] (NHWC)"), (w, "w", "[kh, kw, C, O] (HWIO)")):
        if a.ndim != 4:
            raise ValueError(f"{fn}: argument `{name}` must have exactly 4 dimensions, shape {want}; "
                             f"got shape {tuple(a.shape)}.")
    _checks.check_floating(w, "w", fn)
    if spikes.shape[-1] != w.shape[2]:
        raise ValueError(f"{fn}: `spikes` has C = {spikes.shape[-1]} channels (shape {tuple(spikes.shape)}) "
                         f"but `w` expects C = {w.shape[2]} (shape {tuple(w.shape)}, HWIO [kh, kw, C, O]).")
    if not _checks.is_floating(spikes.dtype):
        spikes = spikes.astype(w.dtype)
    return spikes, w


def _binary(spikes, fn):
    a = np.array(spikes)
    if not np.all((a == 0) | (a == 1)):
        bad = a[(a != 0) & (a != 1)]
        raise ValueError(f"{fn}: argument `spikes` must hold binary spikes (0 or 1); found {bad.size} "
                         f"other values, e.g. {bad.flat[0]!r} (shape {a.shape}). TAC's aggregated frames "
                         f"are not binary: use a dense strategy for them.")


def _geometry(in_hw, k_hw, stride, padding, fn):
    s = (stride, stride) if isinstance(stride, int | np.integer) else tuple(stride)
    if len(s) != 2 or any(int(v) < 1 for v in s):
        raise ValueError(f"{fn}: `stride` must be a positive int or a pair of them; got {stride!r}.")
    s = (int(s[0]), int(s[1]))
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"{fn}: `padding` must be 'SAME', 'VALID', an int or ((t, b), (l, r)); "
                             f"got {padding!r}.")
        p = []
        for i in range(2):
            if padding == "VALID":
                p.append((0, 0))
            else:  # XLA's rule: output ceil(in / stride), the odd pixel of padding at the end
                total = max((math.ceil(in_hw[i] / s[i]) - 1) * s[i] + k_hw[i] - in_hw[i], 0)
                p.append((total // 2, total - total // 2))
    elif isinstance(padding, int | np.integer):
        p = [(int(padding), int(padding))] * 2
    else:
        p = [tuple(int(v) for v in q) for q in padding]
        if len(p) != 2 or any(len(q) != 2 for q in p):
            raise ValueError(f"{fn}: explicit `padding` must be ((top, bottom), (left, right)); "
                             f"got {padding!r}.")
    o = tuple((in_hw[i] + p[i][0] + p[i][1] - k_hw[i]) // s[i] + 1 for i in range(2))
    if o[0] < 1 or o[1] < 1:
        raise ValueError(f"{fn}: kernel {tuple(k_hw)} does not fit input {tuple(in_hw)} with padding {p}.")
    return s, (p[0], p[1]), o


def conv(spikes: mx.array, w: mx.array, *, stride=1, padding="SAME") -> mx.array:
    """Dense 2-D convolution (``mx.conv_general``; NHWC input, HWIO ``w``): the reference.

    Returns ``[N, Ho, Wo, O]`` in ``w.dtype``.
    """
    spikes, w = _args(spikes, w, "conv")
    s, p, _ = _geometry(spikes.shape[1:3], w.shape[:2], stride, padding, "conv")
    lo, hi = [p[0][0], p[1][0]], [p[0][1], p[1][1]]
    return mx.conv_general(spikes.astype(w.dtype), mx.transpose(w, (3, 0, 1, 2)), stride=list(s),
                           padding=(lo, hi))


def as_fc(strategy: Callable[..., mx.array]) -> Callable[[mx.array, mx.array], mx.array]:
    """Turn a conv strategy into a dense layer ``f(x [N, I], w [I, O]) -> [N, O]`` (the 1x1 case)."""

    def fc(x: mx.array, w: mx.array, **kwargs) -> mx.array:
        x, w = _checks.asarray(x), _checks.asarray(w)
        if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
            raise ValueError(f"fc: `x` must be [N, I] and `w` [I, O]; got {tuple(x.shape)} and "
                             f"{tuple(w.shape)}.")
        out = strategy(x[:, None, None, :], w[None, None], stride=1, padding="VALID", **kwargs)
        return out[:, 0, 0, :]

    fc.__name__ = f"fc_{getattr(strategy, '__name__', 'strategy')}"
    return fc


def patches(spikes: mx.array, kh: int, kw: int, stride=1, padding="SAME") -> mx.array:
    """Conv patches by strided slicing: ``[N, Ho, Wo, kh*kw*C]``, column ``(i*kw + j)*C + c``."""
    spikes = _checks.asarray(spikes)
    if spikes.ndim != 4:
        raise ValueError(f"patches: argument `spikes` must have exactly 4 dimensions, shape [N, H, W, C]; "
                         f"got shape {tuple(spikes.shape)}.")
    (sh, sw), p, (ho, wo) = _geometry(spikes.shape[1:3], (kh, kw), stride, padding, "patches")
    x = mx.pad(spikes, [(0, 0), p[0], p[1], (0, 0)])
    taps = [x[:, i: i + (ho - 1) * sh + 1: sh, j: j + (wo - 1) * sw + 1: sw, :]
            for i in range(kh) for j in range(kw)]
    return mx.concatenate(taps, axis=-1)


def im2col_matmul(spikes: mx.array, w: mx.array, *, stride=1, padding="SAME") -> mx.array:
    """Strategy "im2col": patches ``[N*Ho*Wo, kh*kw*C]`` times ``w [kh*kw*C, O]``, one matmul."""
    spikes, w = _args(spikes, w, "im2col_matmul")
    kh, kw, c, o = w.shape
    p = patches(spikes, kh, kw, stride, padding)
    return (p.reshape(-1, kh * kw * c) @ w.reshape(kh * kw * c, o)).reshape(*p.shape[:3], o)


def im2col(spikes_t: mx.array, k, stride, padding) -> mx.array:
    """Prosperity's GEMM matrix ``[B*Ho*Wo*T, C*kh*kw]`` of ``[T, H, W, C]`` or ``[T, B, H, W, C]``
    spikes: row ``((b*Ho + oy)*Wo + ox)*T + t``, column ``c*kh*kw + i*kw + j``."""
    x = _checks.asarray(spikes_t)
    if x.ndim == 4:
        x = x[:, None]
    if x.ndim != 5:
        raise ValueError(f"im2col: `spikes_t` must have shape [T, H, W, C] or [T, B, H, W, C]; "
                         f"got {tuple(x.shape)}.")
    kh, kw = (k, k) if isinstance(k, int) else tuple(k)
    t, b, h, wd, c = x.shape
    p = patches(x.reshape(t * b, h, wd, c), kh, kw, stride, padding)
    ho, wo = p.shape[1:3]
    p = mx.transpose(p.reshape(t, b, ho, wo, kh * kw, c), (1, 2, 3, 0, 5, 4))
    return p.reshape(b * ho * wo * t, c * kh * kw)


def gemm_weights(w: mx.array) -> mx.array:
    """HWIO weights ``[kh, kw, C, O]`` as ``[C*kh*kw, O]``, rows matching ``im2col``'s columns."""
    w = _checks.asarray(w)
    if w.ndim != 4:
        raise ValueError(f"gemm_weights: `w` must be [kh, kw, C, O]; got shape {tuple(w.shape)}.")
    kh, kw, c, o = w.shape
    return mx.transpose(w, (2, 0, 1, 3)).reshape(c * kh * kw, o)


def _guard(count: int, capacity, overflow: str, fn: str, what: str) -> bool:
    """True: run the sparse path; False: run the dense one. Raises for "error" on overflow."""
    _checks.one_of(overflow, ("error", "dense"), "overflow policy", fn)
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int | np.integer)
                                 or capacity < 1):
        raise ValueError(f"`capacity` must be a positive int or None; got {capacity!r}.")
    if capacity is None or count <= capacity:
        return True
    if overflow == "error":
        raise ValueError(f"{fn}: {count} {what} exceed the static capacity {capacity}; raise `capacity` "
                         f"or use overflow='dense'.")
    return False


def event_conv(spikes: mx.array, w: mx.array, *, stride=1, padding="SAME", capacity: int | None = None,
               overflow: str = "error") -> mx.array:
    """Strategy "event": for each active spike, gather its weight taps and scatter-add them."""
    spikes, w = _args(spikes, w, "event_conv")
    _binary(spikes, "event_conv")
    (sh, sw), ((top, _), (left, _)), (ho, wo) = _geometry(spikes.shape[1:3], w.shape[:2], stride,
                                                           padding, "event_conv")
    n, h, wd, c = spikes.shape
    kh, kw, _, o = w.shape
    idx = np.flatnonzero(np.array(spikes).reshape(-1))
    if not _guard(idx.size, capacity, overflow, "event_conv", "active spikes"):
        return conv(spikes, w, stride=stride, padding=padding)
    ci, xi, yi, ni = idx % c, (idx // c) % wd, (idx // (c * wd)) % h, idx // (c * wd * h)
    ti, tj = (a.reshape(-1) for a in np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij"))
    oy_num, ox_num = yi[:, None] + top - ti[None], xi[:, None] + left - tj[None]
    oy, ox = oy_num // sh, ox_num // sw
    ok = (oy_num % sh == 0) & (ox_num % sw == 0) & (oy >= 0) & (oy < ho) & (ox >= 0) & (ox < wo)
    dest = ((ni[:, None] * ho + oy) * wo + ox)[ok]
    src = ((ti[None] * kw + tj[None]) * c + ci[:, None])[ok]  # row of w.reshape(kh*kw*C, O)
    out = mx.zeros((n * ho * wo, o), w.dtype)
    if dest.size:
        out = out.at[mx.array(dest.astype(np.int32))].add(w.reshape(-1, o)[mx.array(src.astype(np.int32))])
    return out.reshape(n, ho, wo, o)


def _bits_per_word(c: int) -> int:
    return min(32, c)


def pack_channels(spikes: mx.array) -> mx.array:
    """Pack the channel axis of binary spikes ``[..., C]`` into ``[..., ceil(C/b)]`` uint32 words
    (bit ``j`` of word ``q`` holds channel ``q*b + j``, ``b = min(32, C)``)."""
    x = _checks.asarray(spikes)
    _checks.check_min_rank(x, 1, "spikes", "pack_channels", "[..., C]")
    c = x.shape[-1]
    nb = _bits_per_word(c)
    nw = -(-c // nb)
    bits = mx.pad((x != 0).astype(mx.uint32), [(0, 0)] * (x.ndim - 1) + [(0, nw * nb - c)])
    bits = bits.reshape(*x.shape[:-1], nw, nb)
    return mx.sum(mx.left_shift(bits, mx.arange(nb).astype(mx.uint32)), axis=-1).astype(mx.uint32)


def unpack_channels(words: mx.array, c: int, dtype=mx.float32) -> mx.array:
    """Inverse of ``pack_channels``: ``[..., nw]`` words to ``[..., C]`` spikes of ``dtype``."""
    words = _checks.asarray(words).astype(mx.uint32)
    nb = _bits_per_word(c)
    bits = mx.right_shift(words[..., None], mx.arange(nb).astype(mx.uint32)) & 1
    return bits.reshape(*words.shape[:-1], -1)[..., :c].astype(dtype)


def bitpack_conv(spikes: mx.array, w: mx.array, *, stride=1, padding="SAME") -> mx.array:
    """Strategy "bitpack": packed-word patches, then a select-and-add of weight row ``b`` per set bit."""
    spikes, w = _args(spikes, w, "bitpack_conv")
    _binary(spikes, "bitpack_conv")
    kh, kw, c, o = w.shape
    nb = _bits_per_word(c)
    nw = -(-c // nb)
    words = patches(pack_channels(spikes), kh, kw, stride, padding)  # [N, Ho, Wo, kh*kw*nw]
    lead = words.shape[:3]
    cols = words.reshape(-1, kh * kw * nw)
    wp = mx.pad(w, [(0, 0), (0, 0), (0, nw * nb - c), (0, 0)]).reshape(kh * kw * nw, nb, o)
    acc = mx.zeros((cols.shape[0], o), w.dtype)
    zero = mx.zeros((), w.dtype)
    for q in range(cols.shape[1]):
        for b in range(nb):
            bit = (mx.right_shift(cols[:, q], b) & 1)[:, None] == 1
            acc = acc + mx.where(bit, wp[q, b][None], zero)
    return acc.reshape(*lead, o)


def tile_conv(spikes: mx.array, w: mx.array, *, stride=1, padding="SAME", tile: tuple[int, int] = (64, 32),
              capacity: int | None = None, overflow: str = "error") -> mx.array:
    """Strategy "tiles": dense matmuls on the non-empty ``tile`` blocks of the patch matrix only.

    Any values are accepted (as in JAX): a block is skipped when all its entries are zero.
    """
    spikes, w = _args(spikes, w, "tile_conv")
    tm, tk = int(tile[0]), int(tile[1])
    if tm < 1 or tk < 1:
        raise ValueError(f"tile_conv: `tile` must be two positive ints (rows, cols); got {tile!r}.")
    kh, kw, c, o = w.shape
    p = patches(spikes, kh, kw, stride, padding)
    lead = p.shape[:3]
    m, k = lead[0] * lead[1] * lead[2], kh * kw * c
    mt, kt = -(-m // tm), -(-k // tk)
    mat = mx.pad(p.reshape(m, k), [(0, mt * tm - m), (0, kt * tk - k)])
    blocks = mat.reshape(mt, tm, kt, tk).transpose(0, 2, 1, 3).reshape(mt * kt, tm, tk)
    wt = mx.pad(w.reshape(k, o), [(0, kt * tk - k), (0, 0)]).reshape(kt, tk, o)
    idx = np.flatnonzero(np.array(mx.any(blocks != 0, axis=(1, 2))))
    if not _guard(idx.size, capacity, overflow, "tile_conv", "active tiles"):
        return conv(spikes, w, stride=stride, padding=padding)
    out = mx.zeros((mt, tm, o), w.dtype)
    if idx.size:
        sel = mx.array(idx.astype(np.int32))
        prod = blocks[sel] @ wt[sel % kt]
        out = out.at[sel // kt].add(prod)
    return out.reshape(mt * tm, o)[:m].reshape(*lead, o)


STRATEGIES = {
    "dense": conv,
    "im2col": im2col_matmul,
    "event": event_conv,
    "bitpack": bitpack_conv,
    "tiles": tile_conv,
}
BINARY_ONLY = frozenset({"event", "bitpack"})
WITH_CAPACITY = frozenset({"event", "tiles"})
