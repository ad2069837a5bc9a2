"""``from_nir``: a NIR graph as a tacjax network in MLX: a parameter tree and pure functions of it.

The twin of ``tacjax.nir.loader``: the same plan (``tacjax.nir.graph.build_plan``, NumPy), run one
time step at a time (``tacjax.mlx.nir.steps``). MLX has no ``lax.scan`` and no ``jit`` here:
``apply`` is a Python loop over T that builds one lazy graph (call ``mx.eval`` on the result).
"""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import numpy as np
from mlx.utils import tree_flatten, tree_map

from tacjax.common.arguments import check_float
from tacjax.mlx import _checks
from tacjax.mlx.nir.steps import STATEFUL, STATELESS
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid
from tacjax.mlx.surrogate import _resolve_surrogate as resolve_surrogate
from tacjax.nir.graph import FN, Plan, batch_size, build_plan, describe, io_shapes, read_graph, runtime_shape

__all__ = ["NIRNetwork", "from_nir"]

Params = dict[str, dict[str, mx.array]]
State = dict[str, dict[str, Any]]


class NIRNetwork:
    """A loaded NIR graph in MLX: ``params`` (a tree of ``mx.array``) and pure functions of it.

    As ``tacjax.nir.NIRNetwork``, with MLX layouts: dense and conv weights are named ``weight``,
    ``[out, in]`` and ``(out, *k, in/groups)`` (the JAX loader's ``kernel`` is ``[in, out]`` and
    ``(*k, in/groups, out)``); everything else has the same names, shapes and values.
    ``apply(params, x, state=None) -> (y [T, B, *output_shape], final_state)``,
    ``step(params, state, x_t) -> (state, y_t)`` from ``init_state(batch)``, ``net(x)``;
    differentiate with ``mx.grad`` / ``mx.value_and_grad`` over ``params``.
    """

    def __init__(self, plan: Plan, params: Params, dt: float, surrogate: SpikeFn):
        self.plan, self.params, self.dt, self.notes = plan, params, dt, plan.notes
        self.surrogate = surrogate
        self.input_shape, self.output_shape = io_shapes(plan)

    def __repr__(self) -> str:
        return describe(self.plan, self.dt)

    def __call__(self, x: mx.array) -> mx.array:
        """``apply(self.params, x)[0]``: the output ``[T, B, *output_shape]``."""
        return self.apply(self.params, x)[0]

    def init_state(self, batch) -> State:
        """Zero state for a batch of ``batch`` samples (an int or ``(B,)``): neuron membranes,
        delay lines and the previous outputs that feedback edges read."""
        b = batch_size(batch, "NIRNetwork.init_state")
        nodes = {n.name: STATEFUL[n.spec.kind][0](n.spec.config, (b, *runtime_shape(n.spec.out_shape)))
                 for n in self.plan.nodes if n.spec.kind in STATEFUL}
        shapes = {n.name: n.spec.out_shape for n in self.plan.nodes}
        feedback = {s: mx.zeros((b, *runtime_shape(shapes[s])), mx.float32) for s in self.plan.feedback}
        return {"nodes": nodes, "feedback": feedback}

    def step(self, params: Params, state: State, x_t: mx.array) -> tuple[State, mx.array]:
        """One time step: ``x_t`` ``[B, *input_shape]`` -> ``(state, y_t [B, *output_shape])``."""
        x_t = self._check_input(x_t, 1, "NIRNetwork.step", "[B, *input_shape]")
        self._check_tree(params, self.params, "params", "NIRNetwork.step")
        self._check_tree(state, self.init_state(x_t.shape[0]), "state", "NIRNetwork.step")
        return self._run_step(params, state, x_t)

    def apply(self, params: Params, x: mx.array, state: State | None = None) -> tuple[mx.array, State]:
        """Run ``x`` ``[T, B, *input_shape]`` from ``state`` (zeros if None): ``(y [T, B, *output_shape],
        final_state)``; a Python loop of ``step``."""
        x = self._check_input(x, 2, "NIRNetwork.apply", "[T, B, *input_shape]")
        self._check_tree(params, self.params, "params", "NIRNetwork.apply")
        if state is not None:
            self._check_tree(state, self.init_state(x.shape[1]), "state", "NIRNetwork.apply")
        return self._run(params, x, state)

    def _run(self, params, x, state):
        state = self.init_state(x.shape[1]) if state is None else state
        ys = []
        for t in range(x.shape[0]):
            state, y = self._run_step(params, state, x[t])
            ys.append(y)
        return mx.stack(ys), state

    def _run_step(self, params, state, x):
        values, nodes = {}, {}
        for n in self.plan.nodes:
            terms = [values[s] for s in n.sources] + [state["feedback"][s] for s in n.delayed]
            u = x if n.name == self.plan.input else sum(terms[1:], terms[0])
            p, cfg = params.get(n.name, {}), n.spec.config
            if n.spec.kind in STATEFUL:
                nodes[n.name], values[n.name] = STATEFUL[n.spec.kind][1](p, cfg, state["nodes"][n.name], u,
                                                                         self.surrogate)
            else:
                values[n.name] = STATELESS[n.spec.kind](p, cfg, u, self.surrogate)
        feedback = {s: values[s] for s in self.plan.feedback}
        return {"nodes": nodes, "feedback": feedback}, values[self.plan.output]

    def _check_input(self, x, lead: int, fn: str, expected: str) -> mx.array:
        x = _checks.asarray(x)
        if x.ndim != lead + len(self.input_shape) or tuple(x.shape[lead:]) != self.input_shape:
            raise ValueError(f"{fn}: `x` must be {expected} with input_shape = {self.input_shape} "
                             f"(channels last); got shape {tuple(x.shape)}.")
        _checks.check_floating(x, "x", fn)
        return x.astype(mx.float32)

    @staticmethod
    def _check_tree(tree, like, name: str, fn: str) -> None:
        def shapes(t):
            return [(k, tuple(v.shape)) for k, v in tree_flatten(t)]

        if not isinstance(tree, dict) or shapes(tree) != shapes(like):
            want = tree_map(lambda a: tuple(a.shape), like)
            got = tree_map(lambda a: tuple(getattr(a, "shape", ())), tree) if isinstance(tree, dict) else tree
            raise ValueError(f"{fn}: `{name}` must have the structure and shapes {want}; got {got}.")


def _mlx_layout(name: str, a: np.ndarray) -> tuple[str, mx.array]:
    """A plan parameter (JAX layout) as its MLX name and layout: ``kernel`` -> ``weight`` with the
    output axis first (dense ``[out, in]``, conv ``(out, *k, in/groups)``)."""
    if name == "kernel":
        return "weight", mx.array(np.ascontiguousarray(np.moveaxis(a, -1, 0)))
    return name, mx.array(a)


def from_nir(graph_or_path, *, dt: float = 1.0, surrogate: SpikeFn | str = fast_sigmoid) -> NIRNetwork:
    """Load a NIR graph (a ``nir.NIRGraph`` or the path of a NIR file) as an MLX ``NIRNetwork``.

    The same arguments, semantics and errors as ``tacjax.nir.from_nir`` (see ``tacjax.nir``).
    """
    dt = check_float(dt, FN, "dt")
    surrogate = resolve_surrogate(surrogate, FN)
    plan = build_plan(read_graph(graph_or_path), dt)
    params = {n.name: dict(_mlx_layout(k, v) for k, v in n.spec.params.items())
              for n in plan.nodes if n.spec.params}
    return NIRNetwork(plan, params, dt, surrogate)
