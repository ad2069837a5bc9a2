"""``to_nir``: a tacjax network as a NIR graph that ``from_nir`` loads back to the same spikes.

The model is walked as a chain of ``tacjax.nn`` layers (a ``SpikingSequential``, its
subclasses ``ConvSNN``/``MNISTNet``/``DVSGestureNet``, nested chains, or one layer); each layer
adds its NIR nodes (``tacjax.nir.export_nodes``) between one ``Input`` and one ``Output`` node.
What is exported, what is refused and why: ``to_nir``'s docstring and ``tacjax.nir``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from tacjax.aggregate import aggregation_weights
from tacjax.common.arguments import check_bool, check_float
from tacjax.nir._compat import require_nir
from tacjax.nir.export_nodes import Builder, emitters, resolve_perm

__all__ = ["to_nir"]

FN = "to_nir"


def _chain(model, prefix: str) -> list[tuple[str, object]]:
    """The model's layers in order as ``(name, layer)``, nested chains inlined (names joined by ".")."""
    from tacjax.nn import SpikingSequential

    if not isinstance(model, SpikingSequential):
        return [(prefix.rstrip(".") or type(model).__name__.lower(), model)]
    layers, names = model._chain()
    out = []
    for layer, name in zip(layers, names, strict=True):
        out += _chain(layer, f"{prefix}{name if name is not None else type(layer).__name__.lower()}.")
    return out


def _is_dropout(layer) -> bool:
    from tacjax.nn import SpikingDropout

    return isinstance(layer, SpikingDropout)


def _nir_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A per-sample channels-last shape as NIR's type: ``(*S, C)`` -> ``(C, *S)``."""
    return (shape[-1], *shape[:-1]) if len(shape) >= 2 else shape


def _input_shape(model, layers, input_shape) -> tuple[int, ...]:
    """The NIR input type: from ``input_shape`` (channels last), the model, or the first dense layer."""
    fixed = None
    if hasattr(model, "in_size") and hasattr(model, "in_channels"):
        fixed = (model.in_size, model.in_size, model.in_channels)
    else:
        first = next((layer for _, layer in layers if not _is_dropout(layer)), None)
        if first is not None and hasattr(first, "kernel") and np.ndim(first.kernel[...]) == 2:
            fixed = (first.in_features,)
    if input_shape is None:
        if fixed is None:
            raise ValueError(f"{FN}: the model does not fix its input's spatial shape (it starts with "
                             f"{type(layers[0][1]).__name__}); pass input_shape=(H, W, C) (or (L, C)), "
                             "channels last, per sample.")
        return _nir_shape(fixed)
    try:
        shape = tuple(int(n) for n in input_shape)
    except TypeError:
        shape = ()
    if not shape or min(shape) < 1 or (fixed is not None and shape != tuple(fixed)):
        want = f"{tuple(fixed)}" if fixed is not None else "a tuple of ints >= 1"
        raise ValueError(f"{FN}: `input_shape` must be {want} (per sample, channels last); got "
                         f"{input_shape!r}.")
    return _nir_shape(shape)


def _tac_plan(layers) -> tuple[str | None, int, np.ndarray | None]:
    """The name, K and aggregation weights of a TAC collapse first layer (else None, 1, None);
    a ValueError naming the layer for every other TAC / TAC-TP layer with K > 1."""
    tac_name, k, weights = None, 1, None
    weighted = [(i, n, layer) for i, (n, layer) in enumerate(layers) if not _is_dropout(layer)]
    for i, name, layer in weighted:
        mode, lk = getattr(layer, "mode", "baseline"), getattr(layer, "k", 1)
        if mode == "baseline" or lk == 1:
            continue
        where = f"layer {name!r} ({type(layer).__name__}, mode {mode!r}, k={lk})"
        if mode == "tac_tp":
            raise ValueError(f"{FN}: {where}: TAC-TP (preserve) drives K neuron steps with one chunk "
                             "current; NIR has no temporal aggregation or hold, so it cannot be exported "
                             "(only a TAC collapse layer as the first layer can; see tacjax.nir).")
        if (i, name, layer) != weighted[0]:
            raise ValueError(f"{FN}: {where}: a TAC collapse layer can be exported only as the network's "
                             f"first layer (the graph then runs one step per chunk on the aggregated "
                             f"input); here it follows layer {weighted[0][1]!r}.")
        tac_name, k = name, lk
        if layer.agg_logits is not None:
            weights = np.asarray(layer.agg_weights(), np.float32)
        else:
            beta = jnp.asarray(layer.neuron_params().beta, jnp.float32)
            weights = np.asarray(aggregation_weights(k, "beta", jnp.mean(beta) if beta.ndim else beta))
    return tac_name, k, weights


def to_nir(model, *, dt: float = 1.0, input_shape=None, approximate_subtract: bool = False):
    """Export a tacjax network as a ``nir.NIRGraph`` (NIR 1.0.x); ``from_nir(graph, dt=dt)`` gives
    the model's outputs.

    Args:
        model: a ``tacjax.nn`` layer, a ``SpikingSequential`` (nested ones too), ``ConvSNN``,
            ``MNISTNet`` or ``DVSGestureNet``. Parameters are read as they are now (learned
            ``beta``/``threshold`` included); ``SpikingDropout`` exports as the identity (eval).
        dt: the step the graph's time constants are written for (``tau = dt/(1-beta)``); load
            it with the same ``dt``. A positive float.
        input_shape: the per-sample input shape, channels last (``(H, W, C)``, ``(L, C)``);
            needed only when the model does not fix it (a chain starting with a conv or a pool).
        approximate_subtract: export reset "subtract" neurons as NIR's reset to ``v_reset = 0``
            (not exact: see ``tacjax.nir`` for the measured spike difference); by default they
            raise.

    Returns:
        A ``nir.NIRGraph`` (checked by ``nir``'s type inference) with one ``Input`` of NIR type
        ``(C, *S)``, one ``Output``, node names ``"<layer>.<part>"``, and ``metadata``
        ``{"source": "tacjax", "dt": ...}``; a network whose first layer is a TAC collapse layer
        also holds ``"aggregate_k"`` and ``"aggregate_weights"`` and its ``"dt"`` is ``K*dt``:
        load it with ``from_nir(graph, dt=K*dt)`` and feed it ``tacjax.aggregate(x, K,
        weights=graph.metadata["aggregate_weights"])`` (T a multiple of K).

    Raises:
        ValueError naming the layer for what NIR cannot express exactly: reset "subtract"
        (unless ``approximate_subtract``), the adaptive (ALIF) neuron, TAC-TP layers and TAC
        layers after the first, asymmetric padding, a max-pool of non-spike input, a per-channel
        ``beta`` mixing 1 and values below 1, a synaptic neuron with ``alpha`` or ``beta`` 1.
        TypeError for a layer type ``to_nir`` does not know.
    """
    nir = require_nir()
    dt = check_float(dt, FN, "dt")
    approximate_subtract = check_bool(approximate_subtract, FN, "approximate_subtract")
    table = emitters()
    layers = _chain(model, "")
    for name, layer in layers:
        if type(layer) not in table:
            raise TypeError(f"{FN}: layer {name!r} is a {type(layer).__name__}, which to_nir cannot export; "
                            f"supported: {sorted(c.__name__ for c in table)} and SpikingSequential chains.")
    shape = _input_shape(model, layers, input_shape)
    tac_name, k, weights = _tac_plan(layers)
    b = Builder(shape, dt * k, approximate_subtract)
    for name, layer in layers:
        table[type(layer)](b, layer, name, k if name == tac_name else 1)
    resolve_perm(b, "flatten_order")
    out = b.shape
    b.add("output", nir.Output(output_type={"output": np.array(out)}), out, b.binary)
    metadata = {"source": "tacjax", "dt": dt * k}
    if weights is not None:
        metadata.update(aggregate_k=k, aggregate_weights=weights)
    return nir.NIRGraph(nodes=b.nodes, edges=b.edges, metadata=metadata)
