"""tacjax.nir.from_nir against a NumPy forward-Euler simulation of graphs built with nir's primitives."""

import subprocess
import sys

import pytest

pytest.importorskip("nir.ir", reason="needs the optional `nir` package (pip install 'tacjax[nir]')")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import nir  # noqa: E402
import nir_graphs as G  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from nir_reference import channels_first, channels_last, min_margin, simulate  # noqa: E402

from tacjax.nir import from_nir  # noqa: E402

MARGIN = 1e-4  # the float64 reference stays this far from every threshold: float32 cannot flip a spike


def run(net, x_cf):
    y, _ = net.apply(net.params, jnp.asarray(channels_last(x_cf), jnp.float32))
    return channels_first(np.asarray(y))


@pytest.mark.parametrize("name", sorted(G.ALL))
def test_matches_euler_reference(name):
    case = G.ALL[name]()
    ref, traces = simulate(case.nodes, case.edges, case.order, case.x, case.dt, case.torch_flatten)
    assert min_margin(traces) > MARGIN, "the drive comes too close to a threshold to compare exactly"
    for node, (v, thr) in traces.items():
        assert 0 < np.mean(v > thr) < 1, f"{node} never or always fires: the comparison would be weak"
    np.testing.assert_allclose(run(from_nir(case.graph, dt=case.dt), case.x), ref, rtol=1e-5, atol=1e-5)
    assert np.abs(ref).max() > 0


def test_layout_is_channels_last():
    case = G.conv2d()
    net = from_nir(case.graph, dt=case.dt)
    assert net.input_shape == (7, 6, 2) and net.output_shape == (3,)
    w = case.graph.nodes["conv1"].weight  # (C_out, C_in, kx, ky) -> (kx, ky, C_in, C_out)
    np.testing.assert_array_equal(net.params["conv1"]["kernel"], np.transpose(w, (2, 3, 1, 0)).astype("f4"))
    tau = case.graph.nodes["lif1"].tau  # (C, H, W) -> (H, W, C)
    np.testing.assert_allclose(net.params["lif1"]["beta"], np.moveaxis(1 - case.dt / tau, 0, -1), rtol=1e-6)


def test_recurrent_edge_reads_previous_step():
    """snnTorch's recurrent subgraph: I[t] = x[t] + W_rec z[t-1] + b, checked by hand for one neuron:
    the delayed edge leaves the neuron, so the bias of w_rec reaches the neuron from t = 0 on."""
    lif = nir.LIF(tau=np.array([1.0]), r=np.array([1.0]), v_leak=np.zeros(1), v_threshold=np.array([0.5]),
                  v_reset=np.zeros(1))  # dt = tau: v = r*I each step, no memory
    graph = nir.NIRGraph(nodes={"input": nir.Input(np.array([1])), "lif": lif,
                                "w_rec": nir.Affine(np.array([[1.0]]), np.array([0.3])),
                                "output": nir.Output(np.array([1]))},
                         edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
    net = from_nir(graph, dt=1.0)
    x = np.array([0.3, 0.0, 0.0, 0.0, -2.0, 0.0])[:, None, None]  # with the bias: 0.6 at t = 0 fires,
    y = np.asarray(net(jnp.asarray(x, jnp.float32)))[:, 0, 0]  # then 1.3 each step until x = -2
    np.testing.assert_array_equal(y, [1, 1, 1, 1, 0, 0])
    assert net.plan.feedback == ("lif",)


def test_fires_on_strictly_greater_like_nir():
    """A membrane exactly at the threshold does not fire (NIR: v > thr), one float above does."""
    thr = np.float32(0.7)
    lif = nir.LIF(tau=np.array([1.0, 1.0]), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.full(2, thr),
                  v_reset=np.zeros(2))
    ifn = nir.IF(r=np.ones(2), v_threshold=np.full(2, thr), v_reset=np.zeros(2))
    x = np.array([[thr, np.nextafter(thr, np.float32(2))]], np.float32)[None]  # [T=1, B=1, 2]
    for node in (lif, ifn, nir.Threshold(np.full(2, thr))):
        net = from_nir(nir.NIRGraph.from_list(nir.Input(np.array([2])), node, nir.Output(np.array([2]))))
        np.testing.assert_array_equal(np.asarray(net(jnp.asarray(x)))[0, 0], [0.0, 1.0])


@pytest.mark.parametrize("name", ["feedforward", "recurrent", "delay_threshold", "conv1d"])
def test_step_by_step_equals_apply(name):
    case = G.ALL[name]()
    net = from_nir(case.graph, dt=case.dt)
    x = jnp.asarray(channels_last(case.x), jnp.float32)
    y_all, final = net.apply(net.params, x)
    state = net.init_state(x.shape[1])
    ys = []
    for t in range(x.shape[0]):
        state, y = net.step(net.params, state, x[t])
        ys.append(y)
    np.testing.assert_array_equal(np.stack(ys), np.asarray(y_all))
    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(final), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_apply_continues_from_a_state():
    case = G.recurrent()
    net = from_nir(case.graph, dt=case.dt)
    x = jnp.asarray(case.x, jnp.float32)
    y_all, _ = net.apply(net.params, x)
    y1, mid = net.apply(net.params, x[:7])
    y2, _ = net.apply(net.params, x[7:], mid)
    np.testing.assert_array_equal(np.concatenate([y1, y2]), y_all)


@pytest.mark.parametrize("name", ["feedforward", "conv2d", "recurrent", "delay_threshold", "torch_flatten"])
def test_file_round_trip(name, tmp_path):
    case = G.ALL[name]()
    path = tmp_path / f"{name}.nir"
    nir.write(path, case.graph)
    from_file, from_graph = from_nir(path, dt=case.dt), from_nir(case.graph, dt=case.dt)
    np.testing.assert_array_equal(run(from_file, case.x), run(from_graph, case.x))
    assert run(from_file, case.x).any()


def test_fine_tuning_lowers_the_loss():
    case = G.feedforward()
    net = from_nir(case.graph, dt=case.dt)
    x = jnp.asarray(case.x, jnp.float32)
    target = jnp.array([0.5, 0.0, 0.5, 0.2])

    def loss(params):
        return jnp.mean((net.apply(params, x)[0].mean(axis=(0, 1)) - target) ** 2)

    value_and_grad = jax.jit(jax.value_and_grad(loss))
    first, grads = value_and_grad(net.params)
    assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))
    assert np.abs(grads["fc1"]["kernel"]).max() > 0 and np.abs(grads["fc2"]["kernel"]).max() > 0
    opt = optax.adam(0.05)

    @jax.jit
    def train_step(params, opt_state):
        value, grads = jax.value_and_grad(loss)(params)
        updates, opt_state = opt.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, value

    params, opt_state = net.params, opt.init(net.params)
    for _ in range(15):
        params, opt_state, _ = train_step(params, opt_state)
    assert float(value_and_grad(params)[0]) < 0.5 * float(first)


def test_import_tacjax_nir_without_nir_installed():
    code = ("import sys; sys.modules['nir'] = None\n"
            "import tacjax, tacjax.nir\n"
            "assert 'Semantics' in tacjax.nir.__doc__\n"
            "try:\n    tacjax.nir.from_nir\nexcept ImportError as e:\n    print('ERR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ERR" in out.stdout and "tacjax[nir]" in out.stdout
