"""Docstring fragments that both backends share (backend-free).

Each backend module appends the fragment it implements to its own docstring
(``__doc__ += docs.LIF``), so the JAX and MLX twins document one text; tests check that the
fragments are present in both.
"""

from __future__ import annotations

__all__ = ["ALIF", "DYNAMIC", "LI", "LIF", "NEURON_CONVENTION", "PRECISION", "PSU", "RLIF", "SYNAPTIC", "TAC",
           "VALUE_CHECKS"]

NEURON_CONVENTION = """
One convention for every neuron:

* ``<name>_step(state, x, params=<Name>Params(), surrogate=...) -> (state, spikes)`` follows the
  body convention of ``jax.lax.scan``, so ``functools.partial(<name>_step, params=p)`` is a valid
  scan body (``lif_step``'s state is the membrane ``v``).
* ``<name>_scan(x, params=<Name>Params(), *, state0=None, surrogate=..., return_membrane=False,
  remat=False, unroll=None) -> (spikes [T, ...], final_state)``; with ``return_membrane=True``
  the second value is the membrane before reset ``[T, ...]`` instead. ``lif_scan`` names its
  initial state ``v0``.
* A state of more than one variable is a NamedTuple (a pytree that jit, vmap and scan carry):
  ``SynapticState(i, v)``, ``ALIFState(v, a)``, ``RLIFState(v, s)``. Every state starts at 0
  unless ``state0`` is given; a ``state0`` (or a step's ``state``) of another type, with a field
  of another shape than the per-step state ``x.shape[1:]``, or with a non-floating field raises.
* Every parameter is a scalar or a per-channel array that broadcasts to ``x.shape[1:]`` without
  enlarging it, and is a pytree leaf (differentiate it to learn it). Resets "subtract", "zero",
  "none" and ``detach_reset`` work alike for every neuron; the forward spike is exactly the
  Heaviside step ``h - threshold >= 0`` and the surrogate (a spike function or the name of one
  in ``SURROGATES``) shapes only the gradient.
* Two families add to this: the recurrent LIF takes its weights after the input,
  ``rlif_step(state, x, w_rec, params=LIFParams(), surrogate=...)`` and ``rlif_scan(x, w_rec,
  params=LIFParams(), *, state0=None, ...)``; the leaky integrator does not spike,
  ``li_step(v, x, beta=0.9) -> (v, v)`` and ``li_scan(x, beta=0.9, *, v0=None) -> (membrane
  [T, ...], v_final)``.
"""

LIF = """
Semantics (one step, per element; parameters broadcast to ``x.shape[1:]``)::

    h[t] = beta * v[t-1] + (1 - beta) * v_leak + x[t]   # leak towards v_leak, integrate
    s[t] = H(h[t] - threshold)                           # fire (surrogate gradient backward)
    v[t] = h[t] - threshold * s[t]                       # reset "subtract"
         = h[t] * (1 - s[t]) + v_reset * s[t]           # reset "zero" (to v_reset, default 0)
         = h[t]                                           # reset "none"

IF is ``LIFParams(beta=1.0)`` (then ``v_leak`` has no effect). Arrays are time-major: ``x`` is
``[T, ...]`` and the state ``v`` has shape ``x.shape[1:]``.
"""

SYNAPTIC = """
Semantics (one step, per element; parameters broadcast to ``x.shape[1:]``)::

    i[t] = alpha * i[t-1] + x[t]                         # synaptic current
    h[t] = beta * v[t-1] + (1 - beta) * v_leak + i[t]   # membrane, as LIF with input i[t]
    s[t] = H(h[t] - threshold)
    v[t] = reset(h[t], s[t], threshold)                  # "subtract", "zero" (to v_reset), "none"

The final state is ``SynapticState(i[T-1], v[T-1])``. With ``alpha = 0`` this is LIF.
"""

ALIF = """
Semantics (one step, per element; parameters broadcast to ``x.shape[1:]``)::

    theta[t] = threshold + b * a[t-1]                    # adaptive threshold
    h[t]     = beta * v[t-1] + (1 - beta) * v_leak + x[t]
    s[t]     = H(h[t] - theta[t])
    v[t]     = h[t] - theta[t] * s[t]                    # reset "subtract"
             = h[t] * (1 - s[t]) + v_reset * s[t]        # reset "zero" (to v_reset, default 0)
             = h[t]                                       # reset "none"
    a[t]     = rho * a[t-1] + s[t]                        # adaptation trace: spikes, decayed

The final state is ``ALIFState(v[T-1], a[T-1])``; with ``b = 0`` this is LIF. ``detach_reset``
detaches only the reset term; the spikes that feed ``a`` keep their surrogate gradient.
Bellec et al. (2018, LSNN) scale the trace by ``1 - rho`` (``a' = rho a' + (1 - rho) s``, so
``a' = (1 - rho) a``) and call the factor on it the adaptation strength ``beta_adapt``: their
``threshold + beta_adapt * a'`` is ours with ``b = beta_adapt * (1 - rho)``.
"""

RLIF = """
Semantics (one step, per element; ``x`` is ``[T, ..., N]``, ``w_rec`` is ``[N, N]``)::

    h[t] = beta * v[t-1] + (1 - beta) * v_leak + x[t] + s[t-1] @ w_rec   # row vector of spikes
    s[t] = H(h[t] - threshold)
    v[t] = reset(h[t], s[t], threshold)                                   # as LIF

``w_rec[j, k]`` is the weight from neuron ``j`` to neuron ``k``; the final state is
``RLIFState(v[T-1], s[T-1])``. The gradient reaches ``w_rec`` through the surrogate of the
spikes ``s[t-1]``; with ``w_rec = 0`` this is LIF.
"""

LI = """
Semantics (per element; ``beta`` broadcasts to ``x.shape[1:]``)::

    v[t] = beta * v[t-1] + x[t]

No threshold, no spike and no reset: the leaky integrator is the non-spiking readout (its
membrane is the output).
"""

PRECISION = """
Precision: input in a low-precision float (bfloat16, float16) is integrated in float32 (the
membrane state and the parameters are float32 inside the time loop, so long runs do not drift),
and the outputs (spikes, membrane, final state) are cast back to the input's dtype.
"""

TAC = """
Convolution (any linear map) commutes with a weighted sum over time, so for a chunk ``c`` of K
consecutive frames::

    X_agg[c] = sum_{j=0}^{K-1} w[j] * X[c*K + j]     # "beta": w[j] = beta**(K-1-j); "sum": 1; "mean": 1/K
    I[c]     = op(X_agg[c])                            # one op call instead of K

* ``tac`` (collapse): one LIF step per chunk with leak ``b = beta**K``:
  ``U = b*U + (1 - b)*v_leak + I[c]``, then fire and reset. Output has ``ceil(T/K)`` steps. With
  reset "none" and a bias-free op this is exactly the per-frame membrane sampled at chunk ends;
  with resets inside a chunk it is an approximation.
* ``tac_tp`` (preserve): ``I[c]`` drives K ordinary LIF steps (leak ``beta``), each receiving
  ``I[c]`` (``share="repeat"``) or ``I[c] / L_c`` (``share="mean"``); output keeps T steps.

Short last chunk (``T % K = L != 0``): the last chunk holds the final L frames and uses the *last*
L weights (``w[K-L:]``, so for "beta" the newest frame keeps weight 1 and the chunk-end exactness
holds); "mean" is current/K for a full chunk and current/L for the short one; ``tac`` uses the
leak ``beta**L`` for that step and ``tac_tp`` runs L steps for it.

A bias inside ``op`` is added once per chunk (not K times) and BatchNorm sees aggregated input:
both break the exactness statement above.
"""

DYNAMIC = """
Row layout: chunk ``c`` covers frames ``[c*K, min((c+1)*K, T))``; aggregated outputs put chunk
``c`` at row ``c`` and zeros in rows ``c >= ceil(T/K)`` (``chunk_mask``). Explicit weight arrays
are not supported (their length would depend on K).

Validity of K: a concrete ``k`` (a Python int or a concrete array) outside ``[1, T]`` raises
ValueError, as the static path does. A traced ``k`` cannot raise: where it lies outside
``[1, T]`` every floating output (aggregate, spikes, membrane, final state) is NaN, so a bad
value cannot pass for a result, and ``chunk_mask`` is all False. ``checked=True`` adds an explicit
check of a traced ``k`` with ``jax.experimental.checkify``: the caller then wraps the function in
``checkify.checkify`` and calls ``err.throw()`` (unwrapped, ``jax.jit`` refuses to trace the
check); it costs one scalar comparison and the error value that checkify threads through the
computation.
"""

PSU = """
With ``lam = 1 - 1/tau`` (``tau > 1``) and the ``[T, T]`` matrices acting on the time axis::

    M1[t, i] = lam**(t-i) / tau   for i <= t      (leaky integration of the input)
    M2[t, i] = -lam**(t-i)        for i <  t      (leaky integration of past resets)

PSU:  ``U = M1 X;  V = U + theta * M2 sigma(U);  S = H(V - theta)``
IPSU: ``V = (W * L) X + b + M2 X``
RPSU: ``V = M1 X + M2 sigma((W * L) X + b)``

with ``L`` the lower-triangular ones (causal) mask, learned ``W`` ``[T, T]`` and ``b`` ``[T]``,
and ``sigma`` the expected spike (the logistic sigmoid by default). PSU equals the soft-reset
recurrence ``V[t] = lam (V[t-1] - theta p[t-1]) + X[t]/tau`` with ``p = sigma(U)`` (tested).
"""

VALUE_CHECKS = """
Which functions check values (everything else is checked on static information: shapes, dtypes,
Python values, at trace time):

* neurons, ``tac``/``tac_tp`` and the ``*_dynamic`` forms: the leaves of ``LIFParams``,
  ``SynapticParams`` and ``ALIFParams`` (finite; ``beta``, ``alpha``, ``rho`` in [0, 1]; ``b`` >= 0),
  ``li_step``/``li_scan``'s ``beta`` (finite, in [0, 1]) and ``agg_beta`` (finite, in [0, 1]);
* ``init_weight_logits`` (``beta`` in (0, 1]), ``aggregate``/``aggregation_weights`` (``beta``,
  explicit weights finite); the parallel neurons (``tau`` > 1, ``threshold`` finite);
  ``get_surrogate`` (``slope`` > 0);
* encoders: ``x`` finite (``rate``/``latency``: in [0, 1]), ``gain``, ``tau``, ``threshold``.

A value is checked when it is concrete: always for Python numbers and NumPy arrays, for JAX
arrays outside ``jit``/``vmap``/``grad`` (inside, they are tracers and the check is skipped), for
MLX arrays outside ``mx.compile``/``mx.vmap``. The cost is one small device-to-host copy of each
checked parameter per eager call (one synchronisation in MLX); the encoders' check of ``x`` reads
the whole input once.
"""
