"""Bad graphs, files and arguments give clear errors that name the node and what is wrong."""

import dataclasses

import pytest

pytest.importorskip("nir.ir", reason="needs the optional `nir` package (pip install 'tacjax[nir]')")

import jax.numpy as jnp  # noqa: E402
import nir  # noqa: E402
import nir_graphs as G  # noqa: E402
import numpy as np  # noqa: E402

from tacjax.nir import from_nir  # noqa: E402


@dataclasses.dataclass(eq=False)
class Mystery(nir.NIRNode):
    """A primitive tacjax does not know."""

    gain: np.ndarray

    def __post_init__(self):
        self.input_type = {"input": np.array(self.gain.shape)}
        self.output_type = {"output": np.array(self.gain.shape)}


def lif(n=3, tau=2.0):
    return nir.LIF(tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n),
                   v_reset=np.zeros(n))


def graph(nodes, edges):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def chain(*nodes):
    names = [f"n{i}" for i in range(len(nodes))]
    return graph(dict(zip(names, nodes, strict=True)), list(zip(names[:-1], names[1:], strict=True)))


IN3, OUT3 = nir.Input(np.array([3])), nir.Output(np.array([3]))
TWO = {"i": IN3, "a": lif(), "b": lif(), "o": OUT3}

BAD = {
    "unknown primitive": (chain(IN3, Mystery(np.ones(3)), OUT3), r"'n1' has type Mystery.*supported"),
    "mismatched shapes": (chain(nir.Input(np.array([5])), nir.Affine(np.ones((3, 4)), np.zeros(3)), OUT3),
                          r"'n1' \(Affine\).*\(4,\).*receives shape \(5,\)"),
    "neuron parameter shape": (chain(IN3, lif(4), OUT3), r"'n1' \(LIF\).*`tau` has shape \(4,\).*\(3,\)"),
    "output shape": (chain(IN3, lif(3), nir.Output(np.array([4]))), r"'n2' \(Output\).*\(4,\).*\(3,\)"),
    "unreachable node": (graph(TWO, [("i", "a"), ("a", "o"), ("b", "o")]), r"\['b'\] cannot be reached from"),
    "dangling node": (graph(TWO, [("i", "a"), ("a", "o"), ("a", "b")]), r"\['b'\] never reach the Output"),
    "edge to a missing node": (graph({"i": IN3, "a": lif(), "o": OUT3}, [("i", "a"), ("a", "x"), ("a", "o")]),
                               r"names node 'x', which is not in the graph"),
    "duplicate edge": (graph({"i": IN3, "a": lif(), "o": OUT3}, [("i", "a"), ("i", "a"), ("a", "o")]),
                       r"duplicate edge \('i', 'a'\)"),
    "two inputs": (graph({"i": IN3, "j": IN3, "o": OUT3}, [("i", "o"), ("j", "o")]), r"exactly one Input"),
    "no output": (graph({"i": IN3, "a": lif()}, [("i", "a")]), r"exactly one Input and one Output"),
    "tau below dt": (chain(IN3, lif(3, tau=0.5), OUT3), r"'n1' \(LIF\).*`tau` has values below dt"),
    "fractional delay": (chain(IN3, nir.Delay(np.array([1.0, 0.5, 2.0])), OUT3),
                         r"'n1' \(Delay\).*whole number"),
    "batched affine": (chain(IN3, nir.Linear(np.ones((2, 3, 3))), OUT3), r"'n1' \(Linear\).*2-D"),
    "same padding with stride": (
        chain(nir.Input(np.array([1, 4, 4])),
              nir.Conv2d(None, np.ones((1, 1, 3, 3)), 2, "same", 1, 1, np.zeros(1)),
              nir.Output(np.array([1, 2, 2]))), r"'n1' \(Conv2d\).*'same' needs stride 1"),
    "conv channels": (chain(nir.Input(np.array([2, 4, 4])),
                            nir.Conv2d(None, np.ones((1, 3, 3, 3)), 1, 1, 1, 1, np.zeros(1)),
                            nir.Output(np.array([1, 4, 4]))), r"'n1' \(Conv2d\).*C_in = 3"),
    "flatten that fits nothing": (chain(nir.Input(np.array([2, 3])), nir.Flatten(None, 0, -1),
                                        nir.Affine(np.ones((2, 5)), np.zeros(2)), nir.Output(np.array([2]))),
                                  r"'n1' \(Flatten\).*consumers need \[\(5,\)\]"),
    "non-finite weight": (chain(IN3, nir.Linear(np.full((3, 3), np.nan)), OUT3),
                          r"'n1' \(Linear\).*non-finite"),
    "subgraph without output": (graph({"i": IN3, "s": graph({"a": IN3}, []), "o": OUT3},
                                      [("i", "s"), ("s", "o")]), r"subgraph 's' must have exactly one Input"),
}


@pytest.mark.parametrize("what", sorted(BAD))
def test_bad_graph_is_refused_by_name(what):
    g, pattern = BAD[what]
    with pytest.raises(ValueError, match=pattern):
        from_nir(g)


def test_corrupt_and_missing_files(tmp_path):
    good = tmp_path / "good.nir"
    nir.write(good, G.feedforward().graph)
    data = good.read_bytes()
    truncated, garbage = tmp_path / "truncated.nir", tmp_path / "garbage.nir"
    truncated.write_bytes(data[: len(data) // 2])
    garbage.write_bytes(b"not an HDF5 file" * 64)
    for path in (truncated, garbage):
        with pytest.raises(ValueError, match=r"cannot read the NIR file .*(corrupt|truncated)"):
            from_nir(path)
    with pytest.raises(FileNotFoundError, match="no NIR file"):
        from_nir(tmp_path / "missing.nir")


def test_bad_arguments():
    g = G.feedforward().graph
    for dt in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="from_nir: `dt`"):
            from_nir(g, dt=dt)
    with pytest.raises(TypeError, match="`graph_or_path` must be a nir.NIRGraph or a path"):
        from_nir(42)
    with pytest.raises(ValueError, match="surrogate"):
        from_nir(g, surrogate="nope")


def test_bad_inputs_to_the_network():
    net = from_nir(G.feedforward().graph, dt=0.5)
    with pytest.raises(ValueError, match=r"NIRNetwork.apply: `x` must be \[T, B, \*input_shape\].*\(3,\)"):
        net.apply(net.params, jnp.zeros((4, 2, 5)))
    with pytest.raises(TypeError, match="floating dtype"):
        net.apply(net.params, jnp.zeros((4, 2, 3), jnp.int32))
    with pytest.raises(ValueError, match="`state` must have the structure and shapes"):
        net.apply(net.params, jnp.zeros((4, 2, 3)), net.init_state(5))
    with pytest.raises(ValueError, match="`params` must have the structure and shapes"):
        net.apply({"fc1": net.params["fc1"]}, jnp.zeros((4, 2, 3)))
    with pytest.raises(ValueError, match=r"NIRNetwork.step: `x` must be \[B, \*input_shape\]"):
        net.step(net.params, net.init_state(2), jnp.zeros((4, 2, 3)))
    with pytest.raises(ValueError, match="`batch` must be an int B or"):
        net.init_state((2, 3))
