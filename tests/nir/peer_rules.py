"""snnTorch- and norse-shaped NIR graphs, and NumPy loops of the two libraries' own step rules.

A network is a list of layers (tuples). ``to_graph(layers, input_shape, library)`` builds the NIR
graph the way the library's exporter maps each layer (read from snnTorch's ``export_nir.py`` and
norse's ``export_nir.py``; facts only, no torch needed); ``run(layers, x, library)`` runs the
library's own discrete-time rule, written from its source, on ``x`` ``[T, B, *shape]`` (channels
first, as in PyTorch).

* snnTorch (exports with ``dt = 1e-4``): ``Leaky(beta, thr)`` -> ``LIF(tau = dt/(1-beta), r = tau/dt,
  v_leak = 0, v_reset = 0)``; ``RLeaky``/``RSynaptic`` -> a subgraph
  ``input -> lif -> w_rec -> lif -> output``;
  ``Synaptic(alpha, beta)`` -> ``CubaLIF(tau_syn = dt/(1-alpha), tau_mem = dt/(1-beta), r = tau_mem/dt,
  w_in = tau_syn/dt)``. Rule (``reset_mechanism="zero"``, ``reset_delay=False``): ``syn = alpha syn + x``
  (Synaptic), ``mem = beta mem + input (+ W_rec spk_prev)``, ``spk = mem > thr``, ``mem = 0`` where ``spk``.
* norse (exports with ``time_scaling_factor = 1``, simulates with ``dt = 1e-3``): ``LIFBoxCell`` ->
  ``LIF(tau = 1/tau_mem_inv, r = 1)``; ``IAFCell`` -> ``IF(r = 1)``; ``LIFCell`` -> ``CubaLIF(tau_mem,
  tau_syn, r = 1, w_in = 1)``; ``LIBoxCell`` -> ``LI(tau, r = 1)``. Rules (norse >= 1.0):
  LIFBox ``v += dt tau_mem_inv (v_leak - v + x)``; IAF ``v += x``; LIFCell ``j = i + x;
  v += dt tau_mem_inv (v_leak - v + j); i = (1 - dt tau_syn_inv) j``; LIBox ``v += dt tau_mem_inv
  (v_leak - v + x)``; fire ``v > v_th``, then ``v = v_reset``.
"""

from __future__ import annotations

import nir
import numpy as np
from nir_reference import conv, pool

SNNTORCH_DT, NORSE_DT = 1e-4, 1e-3


def _full(v, shape):
    return np.broadcast_to(np.asarray(v, np.float64), shape).copy()


def _node(layer, shape):
    """The NIR node (or subgraph) a layer exports to; ``shape`` is the NIR shape of its input."""
    kind, *a = layer
    dt = SNNTORCH_DT
    if kind == "linear":
        w, b = a
        return nir.Linear(w) if b is None else nir.Affine(w, b)
    if kind in ("conv", "avgpool"):
        return a[0]
    if kind == "flatten":  # torch.nn.Flatten(start_dim=1): current exporters subtract the batch dim
        return nir.Flatten(np.array(shape), start_dim=a[0], end_dim=-1)
    if kind == "leaky":
        beta, thr = _full(a[0], shape), _full(a[1], shape)
        tau = dt / (1 - beta)
        return nir.LIF(tau=tau, r=tau / dt, v_leak=np.zeros(shape), v_threshold=thr,
                       v_reset=np.zeros(shape))
    if kind in ("rleaky", "rsynaptic"):
        *neuron, w, b = a
        lif = _node(("leaky" if kind == "rleaky" else "synaptic", *neuron), shape)
        n = shape[0]
        sub = {"input": nir.Input(np.array([n])), "lif": lif,
               "w_rec": nir.Linear(w) if b is None else nir.Affine(w, b), "output": nir.Output(np.array([n]))}
        edges = [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")]
        return nir.NIRGraph(nodes=sub, edges=edges)
    if kind == "synaptic":
        alpha, beta, thr = (_full(v, shape) for v in a)
        tau_syn, tau_mem = dt / (1 - alpha), dt / (1 - beta)
        return nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / dt, v_leak=np.zeros(shape),
                           v_threshold=thr, v_reset=np.zeros(shape), w_in=tau_syn / dt)
    if kind == "lifbox":
        tau_inv, v_leak, v_th, v_reset = (_full(v, shape) for v in a)
        return nir.LIF(tau=1 / tau_inv, r=np.ones(shape), v_leak=v_leak, v_threshold=v_th, v_reset=v_reset)
    if kind == "iaf":
        v_th, v_reset = (_full(v, shape) for v in a)
        return nir.IF(r=np.ones(shape), v_threshold=v_th, v_reset=v_reset)
    if kind == "lifcell":
        syn_inv, mem_inv, v_leak, v_th, v_reset = (_full(v, shape) for v in a)
        return nir.CubaLIF(tau_syn=1 / syn_inv, tau_mem=1 / mem_inv, r=np.ones(shape), v_leak=v_leak,
                           v_threshold=v_th, v_reset=v_reset, w_in=np.ones(shape))
    if kind == "libox":
        tau_inv, v_leak = (_full(v, shape) for v in a)
        return nir.LI(tau=1 / tau_inv, r=np.ones(shape), v_leak=v_leak)
    raise ValueError(kind)


def to_graph(layers, shapes, type_check=True):
    """The NIR graph of ``layers``; ``shapes[i]`` is the NIR shape before layer i (``shapes[-1]``: out)."""
    nodes, names = {"input": nir.Input(np.array(shapes[0]))}, ["input"]
    for i, layer in enumerate(layers):
        names.append(f"{i}")
        nodes[f"{i}"] = _node(layer, tuple(shapes[i]))
    nodes["output"] = nir.Output(np.array(shapes[-1]))
    names.append("output")
    edges = list(zip(names[:-1], names[1:], strict=True))
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=type_check)


def _step(layer, u, state):
    kind, *a = layer
    if kind == "linear":
        return u @ a[0].T + (0 if a[1] is None else a[1])
    if kind == "conv":
        return conv(a[0], u)
    if kind == "avgpool":
        return pool(a[0], u, True)
    if kind == "flatten":
        return u.reshape(u.shape[0], -1)
    zeros = np.zeros_like(u)
    if kind in ("leaky", "rleaky"):  # snnTorch, reset_mechanism="zero", reset_delay=False
        mem, spk = state.get("mem", zeros), state.get("spk", zeros)
        rec = 0.0 if kind == "leaky" else spk @ a[2].T + (0 if a[3] is None else a[3])
        mem = np.asarray(a[0]) * mem + u + rec
        spk = (mem > np.asarray(a[1])).astype(float)
        state.update(mem=mem * (1 - spk), spk=spk)
        return spk
    if kind in ("synaptic", "rsynaptic"):
        rec = 0.0 if kind == "synaptic" else state.get("spk", zeros) @ a[3].T + (0 if a[4] is None else a[4])
        syn = a[0] * state.get("syn", zeros) + u + rec
        mem = a[1] * state.get("mem", zeros) + syn
        spk = (mem > np.asarray(a[2])).astype(float)
        state.update(syn=syn, mem=mem * (1 - spk), spk=spk)
        return spk
    v = state.get("v", zeros)
    if kind == "lifbox":  # norse >= 1.0
        v = v + NORSE_DT * a[0] * (a[1] - v + u)
        return _fire(v, a[2], a[3], state)
    if kind == "iaf":
        return _fire(v + u, a[0], a[1], state)
    if kind == "lifcell":
        j = state.get("i", zeros) + u
        v = v + NORSE_DT * a[1] * (a[2] - v + j)
        state["i"] = (1 - NORSE_DT * a[0]) * j
        return _fire(v, a[3], a[4], state)
    if kind == "libox":
        state["v"] = v + NORSE_DT * a[0] * (a[1] - v + u)
        return state["v"]
    raise ValueError(kind)


def _fire(v, v_th, v_reset, state):
    z = (v > v_th).astype(float)
    state["v"] = (1 - z) * v + z * v_reset
    return z


def run(layers, x):
    """The libraries' own rules on ``x`` ``[T, B, *shape]``: the last layer's output ``[T, ...]``."""
    states = [{} for _ in layers]
    out = []
    for xt in np.asarray(x, np.float64):
        u = xt
        for layer, state in zip(layers, states, strict=True):
            u = _step(layer, u, state)
        out.append(u)
    return np.stack(out)
