"""Data parallelism: a 2-device CPU mesh gives the same loss and update as one device (also for
time-major input, split on axis 1); batches the mesh cannot split are refused."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import jax, numpy as np
    from flax import nnx
    from tacjax.models import MNISTNet
    from tacjax.train import (batch_mesh, evaluate, fit, make_optimizer, make_train_step, rate_encoder,
                              replicate, shard_batch, split_model)
    assert len(jax.devices()) == 2, jax.devices()
    rng = np.random.default_rng(0)
    x = rng.random((8, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 10, 8).astype(np.int32)
    g, p, r = split_model(MNISTNet(in_size=8, channels=(2, 4), rngs=nnx.Rngs(0)))
    tx = make_optimizer(1e-2, 10)
    step = make_train_step(g, tx, rate_encoder(4), loss="membrane")
    key = jax.random.key(1)
    p1, _, m1 = step(p, r, tx.init(p), x, y, key)
    mesh = batch_mesh()
    ps, rs, os_ = replicate(mesh, (p, r, tx.init(p)))
    xs, ys = shard_batch(mesh, x, y)
    assert len(xs.sharding.device_set) == 2
    p2, _, m2 = step(ps, rs, os_, xs, ys, key)
    np.testing.assert_allclose(float(m1["loss"]), float(m2["loss"]), rtol=1e-5)
    for a, b in zip(jax.tree.leaves(p1), jax.tree.leaves(p2)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
    e1 = evaluate(g, p, r, (x[:6], y[:6]), encoder=rate_encoder(4), batch_size=4)
    e2 = evaluate(g, ps, rs, (x[:6], y[:6]), encoder=rate_encoder(4), batch_size=4, mesh=mesh)
    np.testing.assert_allclose(e1["loss"], e2["loss"], rtol=1e-5)
    tm = np.asarray(rate_encoder(4)(key, x))  # time-major [T, N, ...]: batches along axis 1
    e3 = evaluate(g, p, r, (tm[:, :6], y[:6]), encoder=None, batch_size=4)
    e4 = evaluate(g, ps, rs, (tm[:, :6], y[:6]), encoder=None, batch_size=4, mesh=mesh)
    np.testing.assert_allclose(e3["loss"], e4["loss"], rtol=1e-5)
    assert e3["num_samples"] == e4["num_samples"] == 6
    for bad in (lambda: shard_batch(mesh, x[:3]),
                lambda: fit(MNISTNet(in_size=8, channels=(2, 4), rngs=nnx.Rngs(0)), (x, y),
                            encoder=rate_encoder(4), epochs=1, batch_size=3, mesh=mesh, progress=False),
                lambda: evaluate(g, p, r, (x, y), encoder=rate_encoder(4), batch_size=3, mesh=mesh)):
        try:
            bad()
        except ValueError as e:
            assert "divisible" in str(e), e
        else:
            raise AssertionError("a batch the mesh cannot split was accepted")
    print("OK", float(m1["loss"]), float(m2["loss"]))
""")


def test_two_device_mesh_matches_single_device():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2").strip()
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK" in out.stdout
