"""NIR graphs built with ``nir``'s primitives for the loader tests (JAX and MLX), small and seeded.

Each builder returns a ``Case``: the graph to load, the same network as a flat graph with an
explicit evaluation order for the NumPy simulator (``nir_reference.simulate``), the step ``dt``
and a drive ``x`` ``[T, B, *NIR input type]`` (channels first).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import nir
import numpy as np


class Case(NamedTuple):
    graph: Any
    nodes: dict
    edges: list
    order: list
    dt: float
    x: np.ndarray
    torch_flatten: tuple = ()


def _u(rng, lo, hi, shape):
    return rng.uniform(lo, hi, size=shape)


def lif(rng, shape, dt, v_leak=(-0.3, 0.3)):
    """A LIF with per-element tau in [1.5dt, 6dt], r, non-zero v_leak and v_reset."""
    return nir.LIF(tau=_u(rng, 1.5 * dt, 6 * dt, shape), r=_u(rng, 0.6, 1.6, shape),
                   v_leak=_u(rng, *v_leak, shape), v_threshold=_u(rng, 0.8, 1.2, shape),
                   v_reset=_u(rng, -0.4, 0.2, shape))


def if_(rng, shape):
    return nir.IF(r=_u(rng, 0.5, 1.5, shape), v_threshold=_u(rng, 0.9, 1.3, shape),
                  v_reset=_u(rng, -0.3, 0.1, shape))


def _chain(names_nodes, x, dt, torch_flatten=(), type_check=True) -> Case:
    names = [n for n, _ in names_nodes]
    nodes = dict(names_nodes)
    edges = list(zip(names[:-1], names[1:], strict=True))
    graph = nir.NIRGraph(nodes=dict(nodes), edges=list(edges), type_check=type_check)
    return Case(graph, nodes, edges, names, dt, x, torch_flatten)


def feedforward(seed=0, steps=24, batch=3) -> Case:
    rng, dt = np.random.default_rng(seed), 0.5
    return _chain([
        ("input", nir.Input(np.array([3]))),
        ("fc1", nir.Affine(rng.normal(0, 1.5, (5, 3)), rng.normal(0.5, 0.2, 5))),
        ("lif1", lif(rng, (5,), dt)),
        ("fc2", nir.Linear(rng.normal(0, 1.2, (4, 5)))),
        ("if2", if_(rng, (4,))),
        ("output", nir.Output(np.array([4]))),
    ], rng.normal(1.0, 1.2, (steps, batch, 3)), dt)


def conv2d(seed=1, steps=10, batch=2) -> Case:
    """Strided, padded, grouped and dilated convs, sum and average pools, flatten; kx != ky.

    nir 1.0's type inference takes ``kx`` as the kernel size of both dims (it reads
    ``weight.shape[2]`` only), so it refuses this graph; it is built without nir's type check."""
    rng, dt = np.random.default_rng(seed), 1.0
    c1 = nir.Conv2d(input_shape=(7, 6), weight=rng.normal(0.2, 0.8, (4, 2, 3, 2)), stride=(2, 1),
                    padding=(1, 0), dilation=1, groups=1, bias=rng.normal(0.2, 0.1, 4))
    c2 = nir.Conv2d(input_shape=(2, 3), weight=rng.normal(0.3, 0.8, (6, 2, 3, 3)), stride=1,
                    padding="same", dilation=(1, 2), groups=2, bias=rng.normal(0.2, 0.1, 6))
    return _chain([
        ("input", nir.Input(np.array([2, 7, 6]))),
        ("conv1", c1),
        ("lif1", lif(rng, (4, 4, 5), dt)),
        ("pool1", nir.SumPool2d(np.array([2, 2]), np.array([2, 2]), np.array([0, 1]))),
        ("conv2", c2),
        ("if2", if_(rng, (6, 2, 3))),
        ("pool2", nir.AvgPool2d(np.array([2, 1]), np.array([1, 1]), np.array([0, 0]))),
        ("flat", nir.Flatten(np.array([6, 1, 3]), start_dim=0, end_dim=-1)),
        ("fc", nir.Affine(rng.normal(0.3, 1.0, (3, 18)), rng.normal(0.3, 0.1, 3))),
        ("lif3", lif(rng, (3,), dt)),
        ("output", nir.Output(np.array([3]))),
    ], (rng.random((steps, batch, 2, 7, 6)) < 0.4).astype(float), dt, type_check=False)


def conv1d(seed=2, steps=12, batch=2) -> Case:
    """A strided, dilated Conv1d and an even-kernel "same" Conv1d (padding (0, 1))."""
    rng, dt = np.random.default_rng(seed), 0.25
    a = nir.Conv1d(input_shape=11, weight=rng.normal(0, 0.7, (4, 3, 3)), stride=2, padding=1,
                   dilation=2, groups=1, bias=rng.normal(0, 0.1, 4))
    b = nir.Conv1d(input_shape=5, weight=rng.normal(0.4, 0.9, (2, 4, 2)), stride=1, padding="same",
                   dilation=1, groups=1, bias=np.zeros(2))
    return _chain([
        ("input", nir.Input(np.array([3, 11]))),
        ("conv_a", a),
        ("lif_a", lif(rng, (4, 5), dt)),
        ("conv_b", b),
        ("if_b", if_(rng, (2, 5))),
        ("flat", nir.Flatten(np.array([2, 5]), start_dim=0, end_dim=-1)),
        ("fc", nir.Linear(rng.normal(0, 1.0, (2, 10)))),
        ("output", nir.Output(np.array([2]))),
    ], rng.normal(0.5, 1.0, (steps, batch, 3, 11)), dt)


def recurrent(seed=3, steps=20, batch=3) -> Case:
    """Affine -> an snnTorch-style recurrent subgraph (LIF with an Affine feedback edge) -> LIF.

    The feedback edge that reads the previous step is ``lif -> w_rec`` (it leaves the cycle's
    neuron), so the reference runs ``w_rec`` before ``lif``: ``I[t] = x[t] + W z[t-1] + b``."""
    rng, dt = np.random.default_rng(seed), 1.0
    sub_nodes = {"input": nir.Input(np.array([6])), "lif": lif(rng, (6,), dt),
                 "w_rec": nir.Affine(rng.normal(0, 0.7, (6, 6)), rng.normal(0.3, 0.2, 6)),
                 "output": nir.Output(np.array([6]))}
    sub_edges = [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")]
    fc1 = nir.Affine(rng.normal(0, 1.0, (6, 3)), rng.normal(0.6, 0.1, 6))
    fc2, lif2 = nir.Linear(rng.normal(0.5, 1.0, (2, 6))), lif(rng, (2,), dt)
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(np.array([3])), "fc1": fc1,
               "rlif": nir.NIRGraph(nodes=sub_nodes, edges=sub_edges), "fc2": fc2, "lif2": lif2,
               "output": nir.Output(np.array([2]))},
        edges=[("input", "fc1"), ("fc1", "rlif"), ("rlif", "fc2"), ("fc2", "lif2"), ("lif2", "output")])
    flat = {"input": graph.nodes["input"], "fc1": fc1, **{f"rlif.{k}": v for k, v in sub_nodes.items()},
            "fc2": fc2, "lif2": lif2, "output": graph.nodes["output"]}
    edges = [("input", "fc1"), ("fc1", "rlif.input"), *[(f"rlif.{a}", f"rlif.{b}") for a, b in sub_edges],
             ("rlif.output", "fc2"), ("fc2", "lif2"), ("lif2", "output")]
    order = ["input", "fc1", "rlif.input", "rlif.w_rec", "rlif.lif", "rlif.output", "fc2", "lif2", "output"]
    return Case(graph, flat, edges, order, dt, rng.normal(0.4, 1.0, (steps, batch, 3)))


def feedback_loops(seed=6, steps=16, batch=2) -> Case:
    """A feedback from a second LIF layer to the first, and a loop without any neuron.

    Cycle lif1 -> fc2 -> lif2 -> wfb -> lif1: the delayed edge leaves its last neuron (lif2 -> wfb).
    Cycle fc1 -> sc -> fc1 has no stateful node: its closing edge (sc -> fc1) is delayed."""
    rng, dt = np.random.default_rng(seed), 1.0
    nodes = {"input": nir.Input(np.array([4])),
             "fc1": nir.Affine(rng.normal(0.3, 0.8, (4, 4)), np.full(4, 0.2)),
             "sc": nir.Scale(np.array([0.3, -0.4, 0.5, 0.2])), "lif1": lif(rng, (4,), dt),
             "fc2": nir.Linear(rng.normal(0.4, 0.9, (3, 4))), "lif2": lif(rng, (3,), dt),
             "wfb": nir.Affine(rng.normal(0, 0.8, (4, 3)), rng.normal(0.2, 0.1, 4)),
             "output": nir.Output(np.array([3]))}
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output"),
             ("lif2", "wfb"), ("wfb", "lif1"), ("fc1", "sc"), ("sc", "fc1")]
    order = ["input", "fc1", "sc", "wfb", "lif1", "fc2", "lif2", "output"]
    graph = nir.NIRGraph(nodes=dict(nodes), edges=list(edges))
    return Case(graph, nodes, edges, order, dt, rng.normal(0.5, 1.0, (steps, batch, 4)))


def cuba(seed=7, steps=24, batch=3) -> Case:
    """CubaLIF (w_in and r != 1, non-zero v_leak and v_reset) -> an LI readout (non-zero v_leak)."""
    rng, dt = np.random.default_rng(seed), 0.5
    shape = (5,)
    cuba_lif = nir.CubaLIF(tau_syn=_u(rng, 1.5 * dt, 5 * dt, shape), tau_mem=_u(rng, 1.5 * dt, 6 * dt, shape),
                           r=_u(rng, 0.6, 1.6, shape), v_leak=_u(rng, -0.3, 0.3, shape),
                           v_threshold=_u(rng, 0.8, 1.2, shape), v_reset=_u(rng, -0.4, 0.2, shape),
                           w_in=_u(rng, 0.5, 2.0, shape))
    li = nir.LI(tau=_u(rng, 2 * dt, 6 * dt, (4,)), r=_u(rng, 0.5, 2.0, (4,)), v_leak=_u(rng, -0.5, 0.5, (4,)))
    return _chain([
        ("input", nir.Input(np.array([3]))),
        ("fc1", nir.Affine(rng.normal(0.5, 1.2, (5, 3)), rng.normal(0.5, 0.2, 5))),
        ("cuba", cuba_lif),
        ("fc2", nir.Linear(rng.normal(0, 1.0, (4, 5)))),
        ("li", li),
        ("output", nir.Output(np.array([4]))),
    ], rng.normal(1.0, 1.2, (steps, batch, 3)), dt)


def integrators(seed=8, steps=12, batch=2) -> Case:
    """The non-spiking current-based integrator CubaLI and the plain integrator I, on a rank-2 type."""
    rng, dt = np.random.default_rng(seed), 0.25
    shape = (2, 3)
    cuba_li = nir.CubaLI(tau_syn=_u(rng, 2 * dt, 5 * dt, shape), tau_mem=_u(rng, 2 * dt, 6 * dt, shape),
                         r=_u(rng, 0.5, 2.0, shape), v_leak=_u(rng, -0.5, 0.5, shape),
                         w_in=_u(rng, 0.5, 2.0, shape))
    return _chain([
        ("input", nir.Input(np.array(shape))),
        ("cuba_li", cuba_li),
        ("integrator", nir.I(_u(rng, 0.5, 2.0, shape))),
        ("output", nir.Output(np.array(shape))),
    ], rng.normal(0.2, 1.0, (steps, batch, *shape)), dt)


def li_threshold_loop(seed=9, steps=16, batch=2) -> Case:
    """An LI -> Threshold neuron with a recurrent Linear edge: the loop reads z[t-1] (the delayed edge
    leaves the Threshold): the NIR form of a recurrent LIF without reset."""
    rng, dt = np.random.default_rng(seed), 1.0
    nodes = {"input": nir.Input(np.array([3])),
             "fc": nir.Affine(rng.normal(0.3, 0.8, (4, 3)), np.full(4, 0.3)),
             "li": nir.LI(tau=_u(rng, 2, 5, (4,)), r=_u(rng, 0.5, 1.5, (4,)),
                          v_leak=_u(rng, -0.3, 0.3, (4,))),
             "thr": nir.Threshold(_u(rng, 0.6, 1.2, (4,))), "w": nir.Linear(rng.normal(-0.3, 0.6, (4, 4))),
             "output": nir.Output(np.array([4]))}
    edges = [("input", "fc"), ("fc", "li"), ("li", "thr"), ("thr", "output"), ("thr", "w"), ("w", "li")]
    graph = nir.NIRGraph(nodes=dict(nodes), edges=list(edges))
    order = ["input", "fc", "w", "li", "thr", "output"]
    return Case(graph, nodes, edges, order, dt, rng.normal(0.5, 1.0, (steps, batch, 3)))


def delay_threshold(seed=4, steps=9, batch=2) -> Case:
    """A rank-2 input through Scale, a per-element Delay (0..3 steps) and a Threshold."""
    rng, dt = np.random.default_rng(seed), 0.25
    delay = dt * rng.integers(0, 4, (2, 3)).astype(float)
    return _chain([
        ("input", nir.Input(np.array([2, 3]))),
        ("scale", nir.Scale(rng.uniform(-2, 2, (2, 3)))),
        ("delay", nir.Delay(delay)),
        ("thr", nir.Threshold(rng.uniform(-0.5, 0.5, (2, 3)))),
        ("output", nir.Output(np.array([2, 3]))),
    ], rng.normal(0, 1, (steps, batch, 2, 3)), dt)


def torch_flatten(seed=5, steps=8, batch=2) -> Case:
    """PyTorch-style ``Flatten(start_dim=1)`` (dims counted with the batch) before an Affine; NIR's
    own type check refuses it, so the graph is built without it, as such exporters do."""
    rng, dt = np.random.default_rng(seed), 1.0
    return _chain([
        ("input", nir.Input(np.array([2, 3, 3]))),
        ("flat", nir.Flatten(np.array([2, 3, 3]), start_dim=1, end_dim=-1)),
        ("fc", nir.Affine(rng.normal(0, 0.8, (4, 18)), np.zeros(4))),
        ("lif", lif(rng, (4,), dt)),
        ("output", nir.Output(np.array([4]))),
    ], rng.normal(0.3, 1.0, (steps, batch, 2, 3, 3)), dt, torch_flatten=("flat",), type_check=False)


ALL = {"feedforward": feedforward, "conv2d": conv2d, "conv1d": conv1d, "recurrent": recurrent,
       "delay_threshold": delay_threshold, "torch_flatten": torch_flatten, "feedback_loops": feedback_loops,
       "cuba": cuba, "integrators": integrators, "li_threshold_loop": li_threshold_loop}
