"""``from_nir``: a NIR graph as a tacjax network (JAX): a parameter pytree and pure, jitted functions.

The graph is checked and translated once (``tacjax.nir.graph.build_plan``, NumPy); the network
then runs the plan one time step at a time (``tacjax.nir.steps``). ``tacjax.mlx.nir.loader`` is the
MLX twin.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from tacjax import _checks
from tacjax.common.arguments import check_float
from tacjax.nir.graph import FN, Plan, batch_size, build_plan, describe, io_shapes, read_graph, runtime_shape
from tacjax.nir.steps import STATEFUL, STATELESS
from tacjax.surrogate import SpikeFn, fast_sigmoid
from tacjax.surrogate import _resolve_surrogate as resolve_surrogate

__all__ = ["NIRNetwork", "from_nir"]

Params = dict[str, dict[str, jax.Array]]
State = dict[str, dict[str, Any]]


class NIRNetwork:
    """A loaded NIR graph: ``params`` (a pytree) and pure functions of it.

    Attributes:
        params: dict node name -> dict of float32 arrays (tacjax layouts: dense ``kernel``
            ``[in, out]``, conv ``kernel`` ``(*k, in/groups, out)``, per-element neuron arrays
            channels last; LIF and IF nodes hold ``beta``, ``threshold`` (the next float above
            NIR's), ``v_leak``, ``v_reset`` and ``gain``, the factor on their input). Every leaf can
            be differentiated (fine-tune the network with any optax optimizer).
        input_shape, output_shape: per-sample shapes, channels last (NIR ``(C, H, W)`` is
            ``(H, W, C)``).
        plan: the checked graph (``tacjax.nir.graph.Plan``): run order, shapes, feedback edges.
        notes: how ambiguous parts of the graph were read (e.g. a PyTorch-style Flatten).
        dt: the step the neurons were discretised with.

    ``apply(params, x, state=None) -> (y, final_state)`` runs ``x`` ``[T, B, *input_shape]``
    (floating; computed in float32) and returns ``y`` ``[T, B, *output_shape]``;
    ``step(params, state, x_t) -> (state, y_t)`` runs one step of ``[B, *input_shape]``, from
    ``init_state(batch)``. Both are ``jax.jit``-compiled and differentiable; ``net(x)`` is
    ``apply(net.params, x)[0]``.
    """

    def __init__(self, plan: Plan, params: Params, dt: float, surrogate: SpikeFn):
        self.plan, self.params, self.dt, self.notes = plan, params, dt, plan.notes
        self.surrogate = surrogate
        self.input_shape, self.output_shape = io_shapes(plan)
        self._step = jax.jit(self._run_step)
        self._apply = jax.jit(self._run)

    def __repr__(self) -> str:
        return describe(self.plan, self.dt)

    def __call__(self, x: jax.Array) -> jax.Array:
        """``apply(self.params, x)[0]``: the output ``[T, B, *output_shape]``."""
        return self.apply(self.params, x)[0]

    def init_state(self, batch) -> State:
        """Zero state for a batch of ``batch`` samples (an int or ``(B,)``): neuron membranes,
        delay lines and the previous outputs that feedback edges read."""
        b = batch_size(batch, "NIRNetwork.init_state")
        nodes = {n.name: STATEFUL[n.spec.kind][0](n.spec.config, (b, *runtime_shape(n.spec.out_shape)))
                 for n in self.plan.nodes if n.spec.kind in STATEFUL}
        shapes = {n.name: n.spec.out_shape for n in self.plan.nodes}
        feedback = {s: jnp.zeros((b, *runtime_shape(shapes[s])), jnp.float32) for s in self.plan.feedback}
        return {"nodes": nodes, "feedback": feedback}

    def step(self, params: Params, state: State, x_t: jax.Array) -> tuple[State, jax.Array]:
        """One time step: ``x_t`` ``[B, *input_shape]`` -> ``(state, y_t [B, *output_shape])``."""
        x_t = self._check_input(x_t, 1, "NIRNetwork.step", "[B, *input_shape]")
        self._check_tree(params, self.params, "params", "NIRNetwork.step")
        self._check_tree(state, self.init_state(x_t.shape[0]), "state", "NIRNetwork.step")
        return self._step(params, state, x_t)

    def apply(self, params: Params, x: jax.Array, state: State | None = None) -> tuple[jax.Array, State]:
        """Run ``x`` ``[T, B, *input_shape]`` from ``state`` (zeros if None): ``(y [T, B, *output_shape],
        final_state)``; a ``lax.scan`` of ``step``."""
        x = self._check_input(x, 2, "NIRNetwork.apply", "[T, B, *input_shape]")
        self._check_tree(params, self.params, "params", "NIRNetwork.apply")
        if state is not None:
            self._check_tree(state, self.init_state(x.shape[1]), "state", "NIRNetwork.apply")
        return self._apply(params, x, state)

    def _run(self, params, x, state):
        state = self.init_state(x.shape[1]) if state is None else state
        state, y = jax.lax.scan(lambda s, xt: self._run_step(params, s, xt), state, x)
        return y, state

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

    def _check_input(self, x, lead: int, fn: str, expected: str) -> jax.Array:
        x = jnp.asarray(x)
        if x.ndim != lead + len(self.input_shape) or tuple(x.shape[lead:]) != self.input_shape:
            raise ValueError(f"{fn}: `x` must be {expected} with input_shape = {self.input_shape} "
                             f"(channels last); got shape {tuple(x.shape)}.")
        _checks.check_floating(x, "x", fn)
        return x.astype(jnp.float32)

    @staticmethod
    def _check_tree(tree, like, name: str, fn: str) -> None:
        ok = jax.tree.structure(tree) == jax.tree.structure(like)
        if ok:
            shapes = [(np.shape(a), np.shape(b)) for a, b in zip(jax.tree.leaves(tree), jax.tree.leaves(like),
                                                                  strict=True)]
            ok = all(a == b for a, b in shapes)
        if not ok:
            want = jax.tree.map(np.shape, like)
            raise ValueError(f"{fn}: `{name}` must have the structure and shapes {want}; got "
                             f"{jax.tree.map(np.shape, tree)}.")


def from_nir(graph_or_path, *, dt: float = 1.0, surrogate: SpikeFn | str = fast_sigmoid) -> NIRNetwork:
    """Load a NIR graph (a ``nir.NIRGraph`` or the path of a NIR file) as a ``NIRNetwork``.

    Args:
        graph_or_path: the graph, or a path that ``nir.read`` reads.
        dt: the time step that discretises NIR's continuous-time neurons (forward Euler; see
            ``tacjax.nir`` for the semantics). A positive float; every time constant must be >= dt.
        surrogate: spike function (or its name) that shapes the gradient of every spiking node;
            the forward spikes follow NIR exactly whatever it is.

    Returns:
        A ``NIRNetwork`` mapping ``[T, B, *input_shape]`` to ``[T, B, *output_shape]``.

    Raises:
        ValueError naming the node and what is missing for an unsupported node type or parameter,
        a graph with a missing edge or mismatched shapes, or a file that cannot be read.
    """
    dt = check_float(dt, FN, "dt")
    surrogate = resolve_surrogate(surrogate, FN)
    plan = build_plan(read_graph(graph_or_path), dt)
    params = {n.name: {k: jnp.asarray(v) for k, v in n.spec.params.items()}
              for n in plan.nodes if n.spec.params}
    return NIRNetwork(plan, params, dt, surrogate)
