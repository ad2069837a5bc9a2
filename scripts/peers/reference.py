"""NumPy references of each library's documented LIF rule, and the inputs every library shares.

All rules run in float32 with the operation order the library documents, so a library that follows
its own rule matches its reference exactly. ``x`` is ``[T, N]`` (one neuron per column), the
result is the spike train ``[T, N]`` (float32 0/1).

* ``same_step_subtract`` (tacjax, plain JAX; the workload's rule)::

      h = beta * v + x;  s = (h >= thr);  v = h - thr * s

* ``snntorch_leaky`` (``snn.Leaky(reset_mechanism="subtract", reset_delay=False)``): the reset of
  step t is first taken from the previous state, ``r = (v > thr)`` (detached), then
  ``h = beta * v + x - thr * r``, ``s = (h > thr)`` and, same-step, ``v = h - thr * (s - r)``.
  It equals ``same_step_subtract`` unless the state after a reset is still above threshold (an
  input above ``2 * thr``) or the membrane lands exactly on the threshold (``>`` against ``>=``):
  a state left above threshold is not fired again but subtracted and added back, so it decays
  silently (input 2.5, 0, 0: spikes 1, 0, 0 where the same-step rule gives 1, 1, 0).
* ``spikingjelly_lif`` (``LIFNode(tau, decay_input=False, v_reset=None)``)::

      h = v - v / tau + x;  s = (h >= thr);  v = h - thr * s

  the same rule with ``beta = 1 - 1/tau`` (``tau = 1 / (1 - beta)``); float rounding of
  ``v - v/tau`` against ``beta * v`` can flip a spike whose membrane is within about 1e-7 of the
  threshold.
* ``spyx_lif`` (``spyx.nn.LIF``): the spike of step t reads the *previous* state and the reset is
  subtracted after the leak: ``s = (v > thr);  v = beta * v + x - thr * s``. A different rule:
  spikes come one step later and the reset is not decayed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RULES", "check_input", "mnist_data", "on_data", "compare"]

F32 = np.float32


def _scan(x: np.ndarray, step) -> np.ndarray:
    """Run ``step(v, x[t]) -> (s, v)`` from ``v = 0`` over ``x [T, N]``; return the spikes ``[T, N]``."""
    v = np.zeros(x.shape[1:], F32)
    out = np.zeros_like(x, F32)
    for t in range(x.shape[0]):
        out[t], v = step(v, x[t])
    return out


def _same_step(x: np.ndarray, thr: float, charge) -> np.ndarray:
    """``h = charge(v, x[t]); s = (h >= thr); v = h - thr * s``."""
    th = F32(thr)

    def step(v, xt):
        h = charge(v, xt)
        s = (h >= th).astype(F32)
        return s, h - th * s

    return _scan(x, step)


def same_step_subtract(x: np.ndarray, beta: float, thr: float) -> np.ndarray:
    b = F32(beta)
    return _same_step(x, thr, lambda v, xt: b * v + xt)


def snntorch_leaky(x: np.ndarray, beta: float, thr: float) -> np.ndarray:
    b, th = F32(beta), F32(thr)

    def step(v, xt):
        r = (v - th > 0).astype(F32)
        h = b * v + xt - r * th
        s = (h - th > 0).astype(F32)
        return s, h - (s - r) * th

    return _scan(x, step)


def spikingjelly_lif(x: np.ndarray, beta: float, thr: float) -> np.ndarray:
    tau = F32(tau_from_beta(beta))
    return _same_step(x, thr, lambda v, xt: v - v / tau + xt)


def spyx_lif(x: np.ndarray, beta: float, thr: float) -> np.ndarray:
    b, th = F32(beta), F32(thr)

    def step(v, xt):
        s = (v - th > 0).astype(F32)
        return s, b * v + xt - s * th

    return _scan(x, step)


RULES = {
    "same_step_subtract": same_step_subtract,
    "snntorch_leaky": snntorch_leaky,
    "spikingjelly_lif": spikingjelly_lif,
    "spyx_lif": spyx_lif,
}


def tau_from_beta(beta: float) -> float:
    """SpikingJelly's ``tau`` for a decay ``beta``: ``1 / (1 - beta)``, rounded to 12 digits (0.9 -> 10.0)."""
    return round(1.0 / (1.0 - beta), 12)


def check_input(steps: int = 120, neurons: int = 96, seed: int = 0) -> np.ndarray:
    """``[steps, neurons]`` float32 drive: weak noise, steady drive, and bursts above ``2 * thr``.

    Columns cycle through three kinds so that rules which differ only after strong inputs (snnTorch's
    double-reset guard) or only in spike timing (spyx) show their difference.
    """
    rng = np.random.default_rng(seed)
    x = np.empty((steps, neurons), F32)
    kind = np.arange(neurons) % 3
    x[:, kind == 0] = rng.uniform(-0.2, 0.6, (steps, int(np.sum(kind == 0))))
    x[:, kind == 1] = rng.uniform(0.05, 0.45, (1, int(np.sum(kind == 1))))
    burst = rng.uniform(0.0, 0.3, (steps, int(np.sum(kind == 2))))
    burst[rng.random(burst.shape) < 0.08] = 2.7
    x[:, kind == 2] = burst
    return x


def compare(spikes: np.ndarray, ref: np.ndarray) -> dict:
    """Mismatch count of two spike trains ``[T, N]`` and the spikes each holds."""
    spikes = np.asarray(spikes, F32).reshape(ref.shape)
    return {"mismatches": int(np.sum(spikes != ref)), "positions": int(ref.size),
            "spikes": int(spikes.sum()), "reference_spikes": int(ref.sum())}


def on_data(n: int, batch: int, steps: int, seed: int = 0, rate: float = 0.2) -> dict:
    """Open Neuromorphic workload: Bernoulli(rate) input spikes ``x [T, B, N]`` and ``w [N, N]``.

    ``w ~ N(0, 1 / (rate * N))`` so the input current of a neuron has unit variance and it fires.
    """
    rng = np.random.default_rng(seed)
    x = (rng.random((steps, batch, n), dtype=F32) < rate).astype(F32)
    w = (rng.standard_normal((n, n), dtype=F32) / np.sqrt(rate * n)).astype(F32)
    return {"x": x, "w": w}


def mnist_data(batch: int, steps: int, size: int = 28, channels=(32, 64), classes: int = 10,
               seed: int = 0) -> dict:
    """MNIST-shaped step: rate-coded random images ``x [T, B, size, size, 1]``, labels ``y [B]`` and
    He-uniform weights ``w1`` ``[3, 3, 1, C1]``, ``w2`` ``[3, 3, C1, C2]`` (HWIO) and ``w3``
    ``[(size//4)**2 * C2, classes]`` (rows in (H, W, C) flatten order)."""
    rng = np.random.default_rng(seed)
    img = rng.random((batch, size, size, 1), dtype=F32)
    x = (rng.random((steps, batch, size, size, 1), dtype=F32) < img).astype(F32)
    c1, c2 = channels
    flat = (size // 4) ** 2 * c2

    def he(shape):
        bound = np.sqrt(6.0 / np.prod(shape[:-1]))
        return rng.uniform(-bound, bound, shape).astype(F32)

    return {"x": x, "y": rng.integers(0, classes, batch).astype(np.int32),
            "w1": he((3, 3, 1, c1)), "w2": he((3, 3, c1, c2)), "w3": he((flat, classes))}
