"""A NIR graph as a plan that both backends run (backend-free: NumPy and ``nir``; no JAX, no MLX).

``build_plan(graph, dt)`` turns a ``nir.NIRGraph`` into a ``Plan``: subgraphs inlined (their
Input and Output nodes become identities, names joined with "."), every edge and node checked,
the edges that close a cycle found, a run order, every node's input and output shape, and each
node translated by ``tacjax.nir.nodes`` into a ``Spec`` (parameters in tacjax's layout). The JAX
loader (``tacjax.nir.loader``) and the MLX loader (``tacjax.mlx.nir.loader``) run the same plan.

Cycles: every edge runs within the step except one *feedback* edge per cycle, whose target reads
the source's output of the previous step (zeros before the first step: the source's initial
state). A depth-first walk from the Input, following each node's outgoing edges in the graph's
edge order, finds a cycle; its feedback edge is the edge leaving the cycle's last neuron, Delay
or Threshold (``FEEDBACK_SOURCES``) before the walk closes the cycle, or the closing edge when
the cycle has none of them; walks repeat until no cycle is left. So snnTorch's recurrent subgraph
``input -> lif -> w_rec -> lif`` delays ``lif -> w_rec``: ``I[t] = x[t] + W z[t-1] + b``. The
other edges form an acyclic graph, run in topological order (ties in the walk's order).
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np

from tacjax.common.arguments import check_int
from tacjax.nir._compat import require_nir
from tacjax.nir.nodes import HANDLERS, NodeContext, Spec, expected_input_shape, fail

__all__ = ["FN", "Plan", "PlanNode", "batch_size", "build_plan", "describe", "io_shapes", "read_graph",
           "runtime_shape"]

FN = "from_nir"


class PlanNode(NamedTuple):
    """One node of a plan: its ``Spec``, its NIR input shape and where its input comes from."""

    name: str
    nir_type: str
    spec: Spec
    in_shape: tuple[int, ...]
    sources: tuple[str, ...]  # same-step inputs, summed (edges in the graph's order)
    delayed: tuple[str, ...]  # previous-step inputs (feedback edges), added to the sum


class Plan(NamedTuple):
    """A checked, ordered NIR graph. ``nodes`` run in order (the Input first)."""

    nodes: tuple[PlanNode, ...]
    input: str
    output: str
    feedback: tuple[str, ...]  # nodes whose output of the previous step some node reads
    notes: tuple[str, ...]  # readings of the graph that a user should know about


def runtime_shape(shape) -> tuple[int, ...]:
    """The per-sample array shape tacjax uses for a NIR type: ``(C, *S)`` -> ``(*S, C)`` (channels
    last) for rank >= 2; rank-1 types as they are."""
    shape = tuple(int(n) for n in shape)
    return shape[1:] + shape[:1] if len(shape) >= 2 else shape


def io_shapes(plan: Plan) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The per-sample input and output shapes of a plan, channels last (``runtime_shape``)."""
    by_name = {n.name: n for n in plan.nodes}
    return runtime_shape(by_name[plan.input].in_shape), runtime_shape(by_name[plan.output].spec.out_shape)


def describe(plan: Plan, dt: float) -> str:
    """A loaded network as text: its step, input and output shapes, and one line per node."""
    shape_in, shape_out = io_shapes(plan)
    head = f"NIRNetwork(dt={dt}, input {shape_in}, output {shape_out})"
    rows = [f"  {n.name}: {n.nir_type} -> {n.spec.kind}, {n.in_shape} -> {n.spec.out_shape}"
            + (f", feedback from {list(n.delayed)}" if n.delayed else "") for n in plan.nodes]
    return "\n".join([head, *rows])


def batch_size(batch, fn: str) -> int:
    """``batch`` (an int B or ``(B,)``) as an int >= 1."""
    if isinstance(batch, tuple | list):
        if len(batch) != 1:
            raise ValueError(f"{fn}: `batch` must be an int B or (B,); got {batch!r}.")
        batch = batch[0]
    return check_int(batch, fn, "batch")


def read_graph(graph_or_path):
    """A ``nir.NIRGraph`` from a graph or a path to a NIR (HDF5) file; clear errors otherwise."""
    nir = require_nir()
    if isinstance(graph_or_path, nir.NIRGraph):
        return graph_or_path
    if not isinstance(graph_or_path, str | os.PathLike):
        raise TypeError(f"{FN}: `graph_or_path` must be a nir.NIRGraph or a path to a NIR file; got "
                        f"{type(graph_or_path).__name__}.")
    path = os.fspath(graph_or_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{FN}: no NIR file at {path!r}.")
    try:  # our own checks run on the graph; nir's type check would add nodes and stop earlier
        graph = nir.read(path, type_check=False)
    except Exception as e:  # h5py and nir raise many kinds (OSError, KeyError, AssertionError, ...)
        raise ValueError(f"{FN}: cannot read the NIR file {path!r} (corrupt, truncated or not a NIR "
                         f"graph): {type(e).__name__}: {e}") from e
    if not isinstance(graph, nir.NIRGraph):
        raise ValueError(f"{FN}: the NIR file {path!r} holds a {type(graph).__name__}, not a NIRGraph.")
    return graph


def _inline(graph, prefix: str, nodes: dict, edges: list, passthrough: set) -> None:
    """Add ``graph``'s nodes (subgraphs inlined) and edges to ``nodes``/``edges``, names prefixed."""
    nir = require_nir()
    entry, exit_ = {}, {}
    for name, node in graph.nodes.items():
        full = prefix + str(name)
        if isinstance(node, nir.NIRGraph):
            ins = [k for k, n in node.nodes.items() if isinstance(n, nir.Input)]
            outs = [k for k, n in node.nodes.items() if isinstance(n, nir.Output)]
            if len(ins) != 1 or len(outs) != 1:
                raise ValueError(f"{FN}: subgraph {full!r} must have exactly one Input and one Output "
                                 f"node; it has Inputs {ins} and Outputs {outs}.")
            _inline(node, full + ".", nodes, edges, passthrough)
            entry[name], exit_[name] = f"{full}.{ins[0]}", f"{full}.{outs[0]}"
            passthrough.update((entry[name], exit_[name]))
        elif full in nodes:
            raise ValueError(f"{FN}: two nodes are named {full!r} once subgraphs are inlined; rename one.")
        else:
            nodes[full] = node
    for edge in graph.edges:
        if len(edge) != 2:
            raise ValueError(f"{FN}: edge {edge!r}{_where(prefix)} is not a (source, target) pair.")
        a, b = (str(e) for e in edge)
        for end in (a, b):
            if end not in graph.nodes:
                raise ValueError(f"{FN}: edge ({a!r}, {b!r}){_where(prefix)} names node {end!r}, which "
                                 f"is not in the graph (nodes: {sorted(map(str, graph.nodes))}).")
        edges.append((exit_.get(a, prefix + a), entry.get(b, prefix + b)))


def _where(prefix: str) -> str:
    return f" in subgraph {prefix[:-1]!r}" if prefix else ""


def _endpoints(graph, nodes: dict) -> tuple[str, str]:
    """The names of the graph's one top-level Input and one Output node."""
    nir = require_nir()
    ins = [str(k) for k, n in graph.nodes.items() if isinstance(n, nir.Input)]
    outs = [str(k) for k, n in graph.nodes.items() if isinstance(n, nir.Output)]
    if len(ins) != 1 or len(outs) != 1:
        raise ValueError(f"{FN}: the graph must have exactly one Input and one Output node (tacjax "
                         f"networks map one input to one output); it has Inputs {ins} and Outputs {outs}.")
    return ins[0], outs[0]


FEEDBACK_SOURCES = frozenset({"LIF", "IF", "CubaLIF", "LI", "CubaLI", "I", "Delay", "Threshold"})
"""NIR node types a cycle's delayed edge leaves: those that hold state across steps, and Threshold,
which makes the spikes of an ``LI -> Threshold`` neuron (so such a loop reads ``z[t-1]`` too)."""


def _walk(start: str, succ: dict[str, list[str]]) -> list[str]:
    """Depth-first walk from ``start`` over every edge: the nodes it reaches, in reverse post-order."""
    seen, post = {start}, []
    stack = [(start, iter(succ[start]))]
    while stack:
        node, it = stack[-1]
        for nxt in it:
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, iter(succ[nxt])))
                break
        else:
            stack.pop()
            post.append(node)
    return post[::-1]


def _first_cycle(roots, succ, skip) -> tuple[list[str], tuple[str, str]] | None:
    """The first cycle a depth-first walk from ``roots`` meets, ignoring the edges in ``skip``:
    (the walk's path, ending at the source of the closing edge; the closing edge), or None."""
    done: set[str] = set()
    for root in roots:
        if root in done:
            continue
        path, stack = [root], [iter(succ[root])]
        while stack:
            for nxt in stack[-1]:
                if (path[-1], nxt) in skip:
                    continue
                if nxt in path:
                    return path, (path[-1], nxt)
                if nxt not in done:
                    path.append(nxt)
                    stack.append(iter(succ[nxt]))
                    break
            else:
                stack.pop()
                done.add(path.pop())
    return None


def _feedback_edges(order: list[str], succ: dict, nodes: dict) -> set[tuple[str, str]]:
    """One edge per cycle that reads the previous step (see the module docstring)."""
    delayed: set[tuple[str, str]] = set()
    while (found := _first_cycle(order, succ, delayed)) is not None:
        path, closing = found
        cycle = path[path.index(closing[1]):]
        along = [*zip(cycle, cycle[1:], strict=False), closing]
        sources = [e for e in along if type(nodes[e[0]]).__name__ in FEEDBACK_SOURCES]
        delayed.add(sources[-1] if sources else closing)
    return delayed


def _run_order(order: list[str], edges: list, delayed: set) -> list[str]:
    """A topological order of the edges that run within the step; ties follow ``order``."""
    rank = {n: i for i, n in enumerate(order)}
    pending = {n: sum(1 for a, b in edges if b == n and (a, b) not in delayed) for n in order}
    ready, out = [n for n in order if pending[n] == 0], []
    while ready:
        node = min(ready, key=rank.__getitem__)
        ready.remove(node)
        out.append(node)
        for a, b in edges:
            if a == node and (a, b) not in delayed:
                pending[b] -= 1
                if pending[b] == 0:
                    ready.append(b)
    return out


def _check_connected(nodes: dict, edges: list, order: list[str], output: str) -> None:
    reached = set(order)
    missing = [n for n in nodes if n not in reached]
    if missing:
        raise ValueError(f"{FN}: nodes {missing} cannot be reached from the Input node (an edge is "
                         "missing); every node must receive input.")
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        pred[b].append(a)
    seen, todo = {output}, [output]
    while todo:
        for p in pred[todo.pop()]:
            if p not in seen:
                seen.add(p)
                todo.append(p)
    dead = [n for n in nodes if n not in seen]
    if dead:
        raise ValueError(f"{FN}: the outputs of nodes {dead} never reach the Output node (an edge is "
                         "missing); tacjax would have to drop them.")


def build_plan(graph, dt: float) -> Plan:
    """Check ``graph`` (a ``nir.NIRGraph``) and translate it for step ``dt``; see the module docstring."""
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    passthrough: set[str] = set()
    _inline(graph, "", nodes, edges, passthrough)
    first, last = _endpoints(graph, nodes)
    if len(set(edges)) != len(edges):
        dup = next(e for e in edges if edges.count(e) > 1)
        raise ValueError(f"{FN}: duplicate edge {dup}; NIR sums a node's inputs, so a repeated edge is "
                         "ambiguous.")
    for name, node in nodes.items():
        kind = "passthrough" if name in passthrough else type(node).__name__
        if kind not in HANDLERS:
            raise ValueError(f"{FN}: node {name!r} has type {type(node).__name__}, which tacjax cannot "
                             f"load; supported: {sorted(k for k in HANDLERS if k != 'passthrough')}.")
    for a, b in edges:
        if b == first:
            raise ValueError(f"{FN}: edge ({a!r}, {b!r}) leads into the Input node.")
        if a == last:
            raise ValueError(f"{FN}: edge ({a!r}, {b!r}) leaves the Output node.")
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    order = _walk(first, succ)
    _check_connected(nodes, edges, order, last)
    specs, in_shapes, notes = _translate(nodes, edges, order, passthrough, first, float(dt))
    delayed = _feedback_edges(order, succ, nodes)
    plan_nodes = tuple(
        PlanNode(name, type(nodes[name]).__name__, specs[name], in_shapes[name],
                 tuple(a for a, b in edges if b == name and (a, b) not in delayed),
                 tuple(a for a, b in edges if b == name and (a, b) in delayed))
        for name in _run_order(order, edges, delayed))
    feedback = tuple(n for n in order if any(a == n for a, _ in delayed))
    return Plan(plan_nodes, first, last, feedback, tuple(notes))


def _translate(nodes, edges, order, passthrough, first, dt):
    """Each node's input shape and ``Spec``, in the walk's order (a node's shape comes from an edge
    the walk took before it); then every edge's shape is checked against its target's input."""
    specs, in_shapes, notes = {}, {}, []
    for name in order:
        node = nodes[name]
        if name == first:
            in_shapes[name] = _input_shape(name, node)
        else:
            source = next(a for a, b in edges if b == name and a in specs)
            in_shapes[name] = specs[source].out_shape
        consumers = [expected_input_shape(nodes[b]) for a, b in edges if a == name]
        kind = "passthrough" if name in passthrough else type(node).__name__
        specs[name] = HANDLERS[kind](NodeContext(name, node, in_shapes[name], dt, consumers))
        notes.extend(specs[name].config.get("notes", ()))
    for name in order:
        shapes = {a: specs[a].out_shape for a, b in edges if b == name}
        if any(s != in_shapes[name] for s in shapes.values()):
            raise ValueError(f"{FN}: node {name!r} receives inputs of different shapes {shapes}; NIR "
                             "adds a node's inputs, so their shapes must agree.")
    return specs, in_shapes, notes


def _input_shape(name: str, node) -> tuple[int, ...]:
    shape = node.input_type.get("input") if isinstance(node.input_type, dict) else None
    if shape is None or np.ndim(shape) != 1 or len(shape) == 0:
        fail(name, node, f"the Input node needs a shape of rank >= 1 (its NIR type); got {shape!r}.")
    shape = tuple(int(n) for n in np.asarray(shape).tolist())
    if min(shape) < 1:
        fail(name, node, f"every dimension of the input shape must be >= 1; got {shape}.")
    return shape
