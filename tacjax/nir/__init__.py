"""NIR interop: load graphs of the Neuromorphic Intermediate Representation (NIR 1.0.x) as tacjax networks,
and export tacjax networks as NIR graphs.

Needs the optional ``nir`` package (``pip install 'tacjax[nir]'``); ``import tacjax.nir`` works
without it, and using a name below then raises an ImportError that says how to install it.

* ``from_nir(graph_or_path, *, dt=1.0, surrogate=fast_sigmoid) -> NIRNetwork``: a ``nir.NIRGraph``
  or a NIR file as parameters (``net.params``, a pytree) and pure, jitted, differentiable
  functions: ``net.apply(params, x, state=None) -> (y [T, B, ...], final_state)``,
  ``net.step(params, state, x_t) -> (state, y_t)`` from ``net.init_state(B)``, ``net(x)``.
  The MLX twin is ``tacjax.mlx.nir.from_nir``.
* ``to_nir(model, *, dt=1.0, input_shape=None, approximate_subtract=False) -> nir.NIRGraph``
  (``tacjax.nir.export``): the semantics below read backwards, so that ``from_nir(to_nir(m),
  dt=dt)`` gives ``m``'s outputs (tested equal, spike for spike). Exporting is JAX-side; an MLX
  model exports after ``tacjax.mlx.convert`` to its JAX twin.

Semantics (the contract; tested against a NumPy forward-Euler simulation)
--------------------------------------------------------------------------
NIR defines neurons as continuous-time equations; tacjax discretises them with forward Euler
and the caller's step ``dt``. Per element, in this order within a step:

=============  ==========================================================================
NIR node       one step of tacjax
=============  ==========================================================================
LIF            ``v <- v + (dt/tau) * (v_leak - v + r*I)``; ``z = v > v_threshold``; where
               ``z``, ``v <- v_reset``; output ``z``. As ``LIFParams``: ``beta = 1 - dt/tau``,
               input ``gain = dt*r/tau``, ``v_leak``, reset "zero" to ``v_reset``.
IF             ``v <- v + dt*r*I``, then fire and reset as LIF (``beta = 1``, ``gain = dt*r``).
CubaLIF        ``I_syn <- I_syn + (dt/tau_syn) * (-I_syn + w_in*S)`` first, then the LIF update
               above driven by the new ``I_syn`` (``tau_mem``). As ``SynapticParams``:
               ``alpha = 1 - dt/tau_syn``, ``beta = 1 - dt/tau_mem``, input ``gain =
               (dt*r/tau_mem) * (dt/tau_syn) * w_in`` (tacjax's current ``i`` is NIR's
               ``I_syn`` times ``dt*r/tau_mem``, so ``h = beta*v + (1-beta)*v_leak + i`` is NIR's
               membrane exactly), reset "zero" to ``v_reset``.
LI             ``v <- v + (dt/tau) * (v_leak - v + r*I)``; output ``v``: ``li_step`` with
               ``beta = 1 - dt/tau`` on ``gain*I + (1-beta)*v_leak``, ``gain = dt*r/tau``.
CubaLI, I      CubaLIF's current and membrane without firing (output ``v``); ``v <- v + dt*r*I``.
Threshold      ``y = (x > threshold)``.
Affine/Linear  ``y = W x (+ b)`` with ``W`` ``[out, in]`` (tacjax's ``kernel`` is ``W.T``).
Scale          ``y = scale * x``.
Conv1d/Conv2d  cross-correlation as PyTorch's (stride, padding int/"same"/"valid", dilation,
               groups, bias); weights ``(C_out, C_in/groups, kx[, ky])`` on channels-first input.
SumPool2d      window sums, zero padding; AvgPool2d divides by the window size (padding
               counted, PyTorch's default); output ``floor((n + 2p - k)/s) + 1``.
Flatten        merges ``start_dim..end_dim`` of the NIR type (no batch dim), channels-first
               order. A PyTorch-style ``Flatten(start_dim=1)`` (dims counted with a batch dim)
               is read that way when only that reading fits its consumer; ``net.notes`` says so.
Delay          ``y[t] = x[t - delay/dt]`` (zeros before the start); ``delay/dt`` must be a whole
               number of steps.
Input/Output   identities; a subgraph (``NIRGraph`` node) is inlined, names joined with ".".
=============  ==========================================================================

* Edges: a node's input is the sum of its incoming edges, all within the same step except one
  edge per cycle, which carries its source's output of the *previous* step (zeros before the
  first step). That edge leaves the cycle's last neuron, Delay or Threshold met by a depth-first
  walk from the Input (edges in the graph's order); a cycle without one delays the edge that
  closes it. So snnTorch's recurrent subgraph ``input -> lif -> w_rec -> lif`` delays
  ``lif -> w_rec``: ``I[t] = x[t] + W_rec z[t-1] + b``, as snnTorch's ``RLeaky`` computes.
  ``net.plan.feedback`` names the nodes whose previous output is read.
* Firing is exact: NIR fires on ``v > threshold``, tacjax on ``v - threshold >= 0``; the loader
  stores the next float32 above each NIR threshold, so the two rules give the same spikes.
* Layout: NIR is channels-first (types ``(C, H, W)``, ``(C, L)``); tacjax is channels-last, so
  inputs and outputs are ``[T, B, H, W, C]`` / ``[T, B, L, C]`` (rank-1 types ``[T, B, N]``) and
  conv kernels are HWIO / WIO. Flatten follows NIR's order, so an Affine after it keeps NIR's
  weights.
* Precision: float32 throughout (parameters are converted from NIR's arrays, often float64).
  Spikes equal a float64 Euler simulation except where the membrane lies within float32
  rounding (about 1e-6 relative) of the threshold.
* Graphs from other libraries (``tests/nir/test_nir_peers.py`` builds them from each exporter's
  documented mapping and compares them with NumPy loops of each library's own step rule):

  - snnTorch exports with ``dt = 1e-4`` (``Leaky`` -> ``LIF(tau = dt/(1-beta), r = tau/dt)``,
    ``Synaptic`` -> ``CubaLIF(w_in = tau_syn/dt)``, ``RLeaky``/``RSynaptic`` -> a subgraph with a
    recurrent ``w_rec`` edge). Loaded with ``dt=1e-4`` they give snnTorch's spikes exactly (its
    rule with ``reset_mechanism="zero"``, ``reset_delay=False``; snnTorch writes every neuron with
    a reset to 0, whatever reset it was trained with).
  - norse simulates with ``dt = 1e-3``: ``LIFBoxCell`` (-> ``LIF``, ``r = 1``) and ``LIBoxCell``
    (-> ``LI``) match norse exactly at ``dt=1e-3``. ``IAFCell`` adds its input without ``dt``
    (``v += x``) but exports ``IF(r = 1)``, whose NIR step is ``v += dt*r*x``: at ``dt=1e-3`` the
    loaded graph gets 1000x less drive (on the test's graph norse fires 93 of 240 entries, the
    loader none); at ``dt=1`` the two agree. ``LIFCell`` (-> ``CubaLIF``, ``r = w_in = 1``), norse
    >= 1.0: ``j = i + x; v += dt/tau_mem * (v_leak - v + j); i = (1 - dt/tau_syn) * j`` drives the
    membrane with the previous step's decayed current plus this step's input at full weight, where
    NIR's Euler step adds ``dt/tau_syn * w_in * x``: norse's current is ``tau_syn/dt`` times NIR's
    (5 with its defaults). On the test's graph (norse's default parameters, 60 steps, 4 x 5
    neurons) norse fires 409 spikes and the loader 51 (32.7% of the 1200 entries differ); writing
    ``w_in = tau_syn/dt`` into the graph gives norse's spikes exactly. (norse before 1.0 drove the
    membrane with the previous step's current alone, the input arriving one step later.)
* Export (``to_nir``), layer by layer: LIF ``beta < 1`` -> ``LIF(tau = dt/(1-beta), r = tau/dt,
  v_leak, v_reset)``; ``beta = 1`` -> ``IF(r = 1/dt)``; reset "none" -> ``LI`` (``I``) then
  ``Threshold``; synaptic -> ``CubaLIF(tau_syn = dt/(1-alpha), r = tau_mem/dt, w_in =
  tau_syn/dt)`` (``CubaLI`` + ``Threshold`` for reset "none"); every threshold is written as
  the largest float32 below tacjax's (``np.nextafter``), so NIR's ``v > thr`` is tacjax's
  ``v >= thr`` and the loader's next float above gives tacjax's threshold back. Dense layers ->
  ``Affine``/``Linear`` (``W = kernel.T``); ``LIReadout`` -> ``Affine`` + ``LI`` (``I`` for
  beta 1); ``SpikingRecurrentDense`` -> ``Affine`` -> neuron and ``Linear(recurrent_kernel.T)``
  from the neuron back into it (the loader delays the edge leaving the neuron: ``W_rec
  z[t-1]``); convs -> ``Conv1d``/``Conv2d`` (HWIO -> ``(C_out, C_in, kx, ky)``, symmetric
  padding only); a conv block's max-pool of spikes and ``MaxPool`` of spikes -> ``SumPool2d``
  then ``Threshold(0.5)`` (exact on binary input; refused on other input); ``SumPool`` ->
  ``SumPool2d``, ``AvgPool`` -> ``AvgPool2d`` (tacjax divides by the window, NIR's loader
  multiplies by its inverse: equal for power-of-two windows, else within float32 rounding); 1-D
  pools -> a ``Conv1d`` of ones (``1/k``) from each channel to itself; ``Flatten`` ->
  ``Flatten`` in NIR's (C, H, W) order, the next dense layer's rows permuted to match (a
  ``Linear`` permutation matrix when none follows); ``SpikingDropout`` -> nothing (eval).
  Exactness: parameters round-trip bit for bit; a dense layer after a ``Flatten`` sums its
  inputs in NIR's order, so in general its current can differ in the last float32 bit (no test
  case flipped a spike). nir 1.0's own type inference sizes both conv dims with ``kx``:
  ``to_nir`` sets conv output types itself, but ``nir.read`` with its type check refuses a
  graph with a non-square kernel (``from_nir`` reads without it).
* Export refusals (a ValueError naming the layer): the adaptive (ALIF) neuron (no NIR
  primitive); reset "subtract" (NIR resets to a value) unless ``approximate_subtract=True``,
  which writes reset to ``v_reset = 0``: on an ``MNISTNet`` (LIF beta 0.9, threshold 1, random
  init, T = 25, B = 16 random rate-coded images) 8.2% of conv1's, 13.0% of conv2's and 6.1% of
  the readout's spike entries differ (firing rates 0.52/0.47/0.050 with subtract, 0.46/0.43/0.033
  exported; ``python scripts/nir_subtract_gap.py``); TAC-TP layers (a chunk current held over K steps:
  NIR has no temporal aggregation or hold); a TAC collapse layer that is not the first layer.
  A first TAC collapse layer (K > 1) exports as its chunk step (neuron ``beta**K``) and the graph
  then runs one step per chunk: ``metadata["dt"] = K*dt``, and ``metadata["aggregate_k"]`` and
  ``["aggregate_weights"]`` say how to aggregate the input: ``from_nir(g, dt=K*dt)(
  tacjax.aggregate(x, K, weights=w))`` equals the model's output for T a multiple of K. Also
  refused: asymmetric padding, per-channel ``beta`` mixing 1 and < 1, synaptic ``alpha`` or
  ``beta`` equal to 1 (infinite time constants).
* Nothing is dropped or approximated silently: an unsupported node type, a field that cannot be
  expressed (batched Affine weights, "same" padding with stride > 1, a delay that is not a whole
  number of steps, a time constant below ``dt``), parameters whose shape is not the node's input
  shape, mismatched shapes, a missing edge (a node that receives no input or whose output never
  reaches the Output), several Input or Output nodes, or an unreadable file raise a ValueError
  naming the node and what is wrong.
"""

from __future__ import annotations

import importlib

__all__ = ["NIRNetwork", "from_nir", "to_nir"]

_LAZY = {"from_nir": "tacjax.nir.loader", "NIRNetwork": "tacjax.nir.loader", "to_nir": "tacjax.nir.export"}


def __getattr__(name: str):
    if name in _LAZY:
        from tacjax.nir._compat import require_nir

        require_nir()
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tacjax.nir' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
