"""Bad input to the functional core raises a clear error in both backends (issue 13).

One table, run against ``tacjax`` and, when mlx is installed, ``tacjax.mlx``: each case asserts
the exception type and that the message names the function and the argument (and, where it
is a value, the value received). The messages come from ``tacjax.common``, so the two backends
must agree word for word.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

NAN, INF = float("nan"), float("inf")
X3 = np.full((4, 2, 3), 0.5, np.float32)  # [T, B, C]
F3 = np.full(3, 0.9, np.float32)
W44 = np.zeros((4, 4), np.float32)
B4 = np.zeros(4, np.float32)


def _jax():
    import jax
    import jax.numpy as jnp

    import tacjax

    return SimpleNamespace(tj=tacjax, par=tacjax.parallel, arr=jnp.asarray, key=lambda: jax.random.key(0),
                           int32=jnp.int32, x=jnp.asarray(X3))


def _mlx():
    mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")
    import tacjax.mlx as tm

    return SimpleNamespace(tj=tm, par=tm.parallel, arr=mx.array, key=lambda: mx.random.key(0),
                           int32=mx.int32, x=mx.array(X3))


@pytest.fixture(params=["jax", "mlx"], scope="module")
def backend(request):
    return _jax() if request.param == "jax" else _mlx()


def _lif(B, **kw):
    return B.tj.lif_scan(B.x, B.tj.LIFParams(**kw))


def _tac(B, **kw):
    return B.tj.tac(B.x, lambda z: z, 2, **kw)


def _ints(B, z):
    return z.astype(B.int32)


CASES = [
    # neurons: parameter values, types and shapes
    ("lif beta nan", lambda B: _lif(B, beta=NAN), ValueError,
     r"^lif_scan: `params.beta` must be finite.*got nan"),
    ("lif beta inf", lambda B: _lif(B, beta=INF), ValueError,
     r"^lif_scan: `params.beta` must be finite.*got inf"),
    ("lif beta < 0", lambda B: _lif(B, beta=-0.1), ValueError,
     r"^lif_scan: `params.beta` .*\[0.0, 1.0\]; got -0.1"),
    ("lif beta > 1", lambda B: _lif(B, beta=1.5), ValueError,
     r"^lif_scan: `params.beta` .*\[0.0, 1.0\]; got 1.5"),
    ("lif beta array nan", lambda B: _lif(B, beta=B.arr(np.array([0.5, NAN, 0.9], np.float32))), ValueError,
     r"^lif_scan: `params.beta` must be finite.*\(1 of 3 values, e.g. nan\)"),
    ("lif beta str", lambda B: _lif(B, beta="0.9"), TypeError,
     r"^lif_scan: `params.beta` must be a real number.*'0.9'"),
    ("lif threshold nan", lambda B: _lif(B, threshold=NAN), ValueError,
     r"^lif_scan: `params.threshold` must be finite"),
    ("lif threshold inf", lambda B: _lif(B, threshold=-INF), ValueError,
     r"^lif_scan: `params.threshold`.*-inf"),
    ("lif v_leak nan", lambda B: _lif(B, v_leak=NAN), ValueError,
     r"^lif_scan: `params.v_leak` must be finite"),
    ("lif v_reset inf", lambda B: _lif(B, reset="zero", v_reset=INF), ValueError,
     r"^lif_scan: `params.v_reset`"),
    ("lif v_leak shape", lambda B: _lif(B, v_leak=B.arr(np.zeros(4, np.float32))), ValueError,
     r"^lif_scan: `params.v_leak` of shape \(4,\) does not broadcast.*\(2, 3\)"),
    ("lif beta shape", lambda B: _lif(B, beta=B.arr(np.ones(5, np.float32))), ValueError,
     r"^lif_scan: `params.beta` of shape \(5,\)"),
    ("lif params dict", lambda B: B.tj.lif_scan(B.x, {"beta": 0.9}), TypeError,
     r"^lif_scan: `params` must be a .*LIFParams; got builtins.dict"),
    ("LIFParams reset", lambda B: B.tj.LIFParams(reset="soft"), ValueError,
     r"^LIFParams: unknown reset 'soft'"),
    ("LIFParams reset type", lambda B: B.tj.LIFParams(reset=1), TypeError,
     r"^LIFParams: `reset` must be one of .*got int 1"),
    ("LIFParams detach", lambda B: B.tj.LIFParams(detach_reset="yes"), TypeError,
     r"^LIFParams: `detach_reset` must be a bool; got str"),
    ("lif x int", lambda B: B.tj.lif_scan(_ints(B, B.x)), TypeError,
     r"^lif_scan: argument `x` must have a floating dtype.*int32"),
    ("lif x rank", lambda B: B.tj.lif_scan(B.arr(np.float32(1.0))), ValueError,
     r"^lif_scan: argument `x` must have at least 1"),
    ("lif v0 shape", lambda B: B.tj.lif_scan(B.x, v0=B.arr(np.zeros(3, np.float32))), ValueError,
     r"^lif_scan: `v0` must have the per-step state shape \(2, 3\); got \(3,\)"),
    ("lif surrogate type", lambda B: B.tj.lif_scan(B.x, surrogate=3), TypeError,
     r"^lif_scan: `surrogate` must be a spike function.*got int 3"),
    ("lif surrogate name", lambda B: B.tj.lif_scan(B.x, surrogate="relu"), ValueError,
     r"^lif_scan: unknown surrogate 'relu'"),
    ("lif unroll 0", lambda B: B.tj.lif_scan(B.x, unroll=0), ValueError,
     r"^lif_scan: `unroll` must be an int in \[1, inf\]; got 0"),
    ("lif unroll float", lambda B: B.tj.lif_scan(B.x, unroll=1.5), TypeError,
     r"^lif_scan: `unroll` must be an int; got float"),
    ("lif_step shapes", lambda B: B.tj.lif_step(B.x[0, 0], B.x[0]), ValueError,
     r"^lif_step: `v` and `x` must have the same shape"),
    ("lif_step v int", lambda B: B.tj.lif_step(_ints(B, B.x[0]), B.x[0]), TypeError,
     r"^lif_step: argument `v` must have a floating"),
    ("lif_step threshold", lambda B: B.tj.lif_step(B.x[0], B.x[0], B.tj.LIFParams(threshold=NAN)), ValueError,
     r"^lif_step: `params.threshold` must be finite"),
    # TAC (static K)
    ("tac k 0", lambda B: B.tj.tac(B.x, lambda z: z, 0), ValueError,
     r"^tac: `k` must satisfy 1 <= k <= T = 4; got k=0"),
    ("tac k > T", lambda B: B.tj.tac(B.x, lambda z: z, 5), ValueError,
     r"^tac: `k` must satisfy 1 <= k <= T = 4; got k=5"),
    ("tac k float", lambda B: B.tj.tac(B.x, lambda z: z, 2.0), TypeError,
     r"^tac: `k` must be an int; got float 2.0"),
    ("tac k str", lambda B: B.tj.tac(B.x, lambda z: z, "2"), TypeError, r"^tac: `k` must be an int; got str"),
    ("tac_tp k bool", lambda B: B.tj.tac_tp(B.x, lambda z: z, True), TypeError,
     r"^tac_tp: `k` must be an int; got bool"),
    ("tac op tuple", lambda B: B.tj.tac(B.x, lambda z: (z, z), 2), TypeError,
     r"^tac: `op` must return one .*array \[N, \.\.\.out\]; it returned tuple"),
    ("tac op float", lambda B: B.tj.tac(B.x, lambda z: 1.0, 2), TypeError,
     r"^tac: `op` must return one .*returned float 1.0"),
    ("tac op not callable", lambda B: B.tj.tac(B.x, "conv", 2), TypeError,
     r"^tac: `op` must be a callable.*got str 'conv'"),
    ("tac op batch", lambda B: B.tj.tac(B.x, lambda z: z[0], 2), ValueError,
     r"^tac: `op` must keep the batch axis: given a batch of 4"),
    ("tac op int", lambda B: B.tj.tac(B.x, lambda z: _ints(B, z), 2), TypeError,
     r"^tac: argument `op\(x\)` must have a floating dtype.*int32"),
    ("tac weights name", lambda B: _tac(B, weights="exp"), ValueError, r"^tac: unknown weights 'exp'"),
    ("tac weights None", lambda B: _tac(B, weights=None), TypeError,
     r"^tac: `weights` must be one of .*got NoneType"),
    ("tac weights nan", lambda B: _tac(B, weights=B.arr(np.array([0.5, NAN], np.float32))), ValueError,
     r"^tac: `weights` must be finite"),
    ("tac weights shape", lambda B: _tac(B, weights=B.arr(np.ones(3, np.float32))), ValueError,
     r"^tac: explicit `weights` must have shape \(K,\) = \(2,\); got \(3,\)"),
    ("tac agg_beta unused", lambda B: _tac(B, weights="sum", agg_beta=0.5), ValueError,
     r"^tac: `agg_beta` is used only by weights='beta'; got weights=sum and agg_beta=0.5"),
    ("tac agg_beta nan", lambda B: _tac(B, agg_beta=NAN), ValueError, r"^tac: `agg_beta` must be finite"),
    ("tac agg_beta > 1", lambda B: _tac(B, agg_beta=2.0), ValueError,
     r"^tac: `agg_beta` .*\[0.0, 1.0\]; got 2.0"),
    ("tac beta nan", lambda B: _tac(B, params=B.tj.LIFParams(beta=NAN)), ValueError,
     r"^tac: `params.beta` must be finite"),
    ("tac threshold nan", lambda B: _tac(B, params=B.tj.LIFParams(threshold=NAN)), ValueError,
     r"^tac: `params.threshold`"),
    ("tac_tp v_leak inf", lambda B: B.tj.tac_tp(B.x, lambda z: z, 2, B.tj.LIFParams(v_leak=INF)), ValueError,
     r"^tac_tp: `params.v_leak`"),
    ("tac_tp share", lambda B: B.tj.tac_tp(B.x, lambda z: z, 2, share="split"), ValueError,
     r"^tac_tp: unknown share 'split'"),
    ("tac_tp share None", lambda B: B.tj.tac_tp(B.x, lambda z: z, 2, share=None), TypeError,
     r"^tac_tp: `share` must be one of"),
    ("tac per-channel beta", lambda B: _tac(B, params=B.tj.LIFParams(beta=B.arr(F3))),
     ValueError, r"^tac: params.beta has shape \(3,\) \(per output channel\).*pass `agg_beta`"),
    ("tac v0 shape", lambda B: _tac(B, v0=B.arr(np.zeros((2, 4), np.float32))), ValueError,
     r"^tac: `v0` must have"),
    ("tac surrogate", lambda B: _tac(B, surrogate="nope"), ValueError, r"^tac: unknown surrogate 'nope'"),
    ("tac x int", lambda B: B.tj.tac(_ints(B, B.x), lambda z: z, 2), TypeError,
     r"^tac: argument `x` must have a floating"),
    ("tac params type", lambda B: _tac(B, params=(0.9, 1.0)), TypeError,
     r"^tac: `params` must be a .*LIFParams; got builtins.tuple"),
    ("aggregate k 0", lambda B: B.tj.aggregate(B.x, 0), ValueError,
     r"^aggregate: `k` must satisfy 1 <= k <= T = 4; got k=0"),
    ("aggregate beta nan", lambda B: B.tj.aggregate(B.x, 2, "beta", NAN), ValueError,
     r"^aggregate: `beta` must be finite"),
    ("aggregate beta < 0", lambda B: B.tj.aggregate(B.x, 2, "beta", -0.5), ValueError,
     r"^aggregate: `beta` .*got -0.5"),
    ("aggregation_weights k 0", lambda B: B.tj.aggregation_weights(0), ValueError,
     r"^aggregation_weights: `k` must be an int in \[1, inf\]; got 0"),
    ("aggregation_weights k float", lambda B: B.tj.aggregation_weights(2.5), TypeError,
     r"^aggregation_weights: `k` must be an int; got float 2.5"),
    ("aggregation_weights dtype", lambda B: B.tj.aggregation_weights(2, dtype=B.int32), TypeError,
     r"^aggregation_weights: `dtype` must be a floating dtype"),
    ("aggregation_weights name", lambda B: B.tj.aggregation_weights(2, "exp"), ValueError,
     r"^aggregation_weights: unknown weights 'exp'"),
    ("init_weight_logits beta 0", lambda B: B.tj.init_weight_logits(3, 0.0), ValueError,
     r"^init_weight_logits: `beta` must be finite and in \(0.0, 1.0\]; got 0.0"),
    ("init_weight_logits beta > 1", lambda B: B.tj.init_weight_logits(3, 1.5), ValueError,
     r"^init_weight_logits: `beta`.*1.5"),
    ("init_weight_logits beta nan", lambda B: B.tj.init_weight_logits(3, NAN), ValueError,
     r"^init_weight_logits: `beta`.*nan"),
    ("init_weight_logits k 0", lambda B: B.tj.init_weight_logits(0), ValueError,
     r"^init_weight_logits: `k` must be an int in \[1, inf\]; got 0"),
    ("init_weight_logits beta array",
     lambda B: B.tj.init_weight_logits(3, B.arr(np.array([0.5, 0.9]))), ValueError,
     r"^init_weight_logits: `beta` must be a scalar"),
    ("chunk_lengths k 0", lambda B: B.tj.chunk_lengths(4, 0), ValueError,
     r"^chunk_lengths: `k` must satisfy 1 <= k <= T = 4; got k=0"),
    ("chunk_lengths k > T", lambda B: B.tj.chunk_lengths(4, 6), ValueError, r"^chunk_lengths: `k` .*got k=6"),
    ("chunk_lengths T < 0", lambda B: B.tj.chunk_lengths(-4, 2), ValueError,
     r"^chunk_lengths: `num_steps` must be an int in \[1, inf\]; got -4"),
    ("chunk_lengths T float", lambda B: B.tj.chunk_lengths(4.0, 2), TypeError,
     r"^chunk_lengths: `num_steps` must be an int; got float 4.0"),
    ("conv_calls baseline k 0", lambda B: B.tj.conv_calls(8, 0, "baseline"), ValueError,
     r"^conv_calls: `k` must satisfy"),
    ("conv_calls T < 0", lambda B: B.tj.conv_calls(-1, 1, "tac"), ValueError,
     r"^conv_calls: `num_steps` must be an int in \[1, inf\]; got -1"),
    ("conv_calls mode", lambda B: B.tj.conv_calls(8, 2, "fast"), ValueError,
     r"^conv_calls: unknown mode 'fast'"),
    ("conv_calls k > T", lambda B: B.tj.conv_calls(8, 9, "tac_tp"), ValueError,
     r"^conv_calls: `k` .*got k=9"),
    # TAC (shape-stable forms; a concrete K is checked like the static one)
    ("aggregate_dynamic k 0", lambda B: B.tj.aggregate_dynamic(B.x, 0), ValueError,
     r"^aggregate_dynamic: `k` must satisfy 1 <= k <= T = 4; got k=0"),
    ("aggregate_dynamic k > T", lambda B: B.tj.aggregate_dynamic(B.x, 5), ValueError,
     r"^aggregate_dynamic: `k` .*got k=5"),
    ("tac_dynamic k float", lambda B: B.tj.tac_dynamic(B.x, lambda z: z, 1.5), TypeError,
     r"^tac_dynamic: `k` must be a scalar integer.*float 1.5"),
    ("tac_tp_dynamic k vector",
     lambda B: B.tj.tac_tp_dynamic(B.x, lambda z: z, B.arr(np.array([1, 2]))), TypeError,
     r"^tac_tp_dynamic: `k` must be a scalar integer.*shape \(2,\)"),
    ("chunk_mask T 0", lambda B: B.tj.chunk_mask(0, 1), ValueError,
     r"^chunk_mask: `num_steps` must be an int in \[1, inf\]; got 0"),
    ("chunk_mask k > T", lambda B: B.tj.chunk_mask(4, 9), ValueError,
     r"^chunk_mask: `k` must satisfy 1 <= k <= T = 4; got k=9"),
    ("aggregate_dynamic beta nan", lambda B: B.tj.aggregate_dynamic(B.x, 2, "beta", NAN), ValueError,
     r"^aggregate_dynamic: `beta` must be finite"),
    ("aggregate_dynamic weights",
     lambda B: B.tj.aggregate_dynamic(B.x, 2, B.arr(np.ones(2, np.float32))), TypeError,
     r"^aggregate_dynamic: explicit weight arrays are not supported"),
    ("tac_dynamic per-channel beta", lambda B: B.tj.tac_dynamic(B.x, lambda z: z, 2,
                                                                 B.tj.LIFParams(beta=B.arr(F3))),
     ValueError, r"^tac_dynamic: per-channel params.beta \(shape \(3,\)\)"),
    ("tac_tp_dynamic share", lambda B: B.tj.tac_tp_dynamic(B.x, lambda z: z, 2, share="x"), ValueError,
     r"^tac_tp_dynamic: unknown share 'x'"),
    ("tac_dynamic threshold",
     lambda B: B.tj.tac_dynamic(B.x, lambda z: z, 2, B.tj.LIFParams(threshold=INF)), ValueError,
     r"^tac_dynamic: `params.threshold` must be finite"),
    ("tac_dynamic op tuple", lambda B: B.tj.tac_dynamic(B.x, lambda z: (z,), 2), TypeError,
     r"^tac_dynamic: `op` must return one"),
    # parallel neurons
    ("psu tau nan", lambda B: B.par.psu(B.x, tau=NAN), ValueError,
     r"^psu: `tau` must be finite and in \(1.0, inf\]; got nan"),
    ("psu tau 1", lambda B: B.par.psu(B.x, tau=1.0), ValueError, r"^psu: `tau` .*got 1.0"),
    ("psu threshold nan", lambda B: B.par.psu(B.x, threshold=NAN), ValueError,
     r"^psu: `threshold` must be finite"),
    ("psu threshold inf", lambda B: B.par.psu(B.x, threshold=INF, method="scan"), ValueError,
     r"^psu: `threshold`.*inf"),
    ("psu method", lambda B: B.par.psu(B.x, method="fft"), ValueError, r"^psu: unknown method 'fft'"),
    ("psu sigma", lambda B: B.par.psu(B.x, sigma=0.5), TypeError,
     r"^psu: `sigma` must be an elementwise function.*float 0.5"),
    ("psu surrogate", lambda B: B.par.psu(B.x, surrogate=None), TypeError,
     r"^psu: `surrogate` must be a spike function"),
    ("psu_matrices T 0", lambda B: B.par.psu_matrices(0), ValueError,
     r"^psu_matrices: `num_steps` must be an int in \[1, inf\]; got 0"),
    ("psu_matrices dtype", lambda B: B.par.psu_matrices(4, 2.0, B.int32), TypeError,
     r"^psu_matrices: `dtype` must be a floating"),
    ("ipsu w shape", lambda B: B.par.ipsu(B.x, B.arr(W44[:3, :3]), B.arr(B4)), ValueError,
     r"^ipsu: `w` must have shape \(T, T\) = \(4, 4\); got \(3, 3\)"),
    ("ipsu w int", lambda B: B.par.ipsu(B.x, _ints(B, B.arr(W44)), B.arr(B4)), TypeError,
     r"^ipsu: argument `w` must have a floating"),
    ("rpsu b shape", lambda B: B.par.rpsu(B.x, B.arr(W44), B.arr(B4[:2])), ValueError,
     r"^rpsu: `b` must have shape \(T,\) = \(4,\)"),
    ("rpsu tau", lambda B: B.par.rpsu(B.x, B.arr(W44), B.arr(B4), tau=0.5), ValueError,
     r"^rpsu: `tau` .*got 0.5"),
    ("rpsu sigma", lambda B: B.par.rpsu(B.x, B.arr(W44), B.arr(B4), sigma="sigmoid"), TypeError,
     r"^rpsu: `sigma` must be"),
    ("psn w shape", lambda B: B.par.psn(B.x, B.arr(W44[:2]), B.arr(B4)), ValueError,
     r"^psn: `w` must have shape \(T, T\)"),
    ("masked_psn order 0", lambda B: B.par.masked_psn(B.x, B.arr(W44), B.arr(B4), 0), ValueError,
     r"^masked_psn: `order` must satisfy 1 <= order <= T = 4; got order=0"),
    ("masked_psn order float", lambda B: B.par.masked_psn(B.x, B.arr(W44), B.arr(B4), 1.5), TypeError,
     r"^masked_psn: `order` must be an int; got float 1.5"),
    ("sliding_psn kernel rank", lambda B: B.par.sliding_psn(B.x, B.arr(W44)), ValueError,
     r"^sliding_psn: `kernel` must have shape"),
    ("sliding_psn threshold", lambda B: B.par.sliding_psn(B.x, B.arr(B4[:2]), NAN), ValueError,
     r"^sliding_psn: `threshold` must be finite"),
    ("linear_recurrence a nan", lambda B: B.par.linear_recurrence(NAN, B.x), ValueError,
     r"^linear_recurrence: `a` must be finite"),
    ("linear_recurrence a shape",
     lambda B: B.par.linear_recurrence(B.arr(np.ones(5, np.float32)), B.x), ValueError,
     r"^linear_recurrence: `a` of shape \(5,\) does not broadcast"),
    ("linear_recurrence b int", lambda B: B.par.linear_recurrence(0.5, _ints(B, B.x)), TypeError,
     r"^linear_recurrence: argument `b` must have a floating"),
    # surrogates
    ("get_surrogate type", lambda B: B.tj.get_surrogate(3), TypeError,
     r"^get_surrogate: `surrogate` must be one of .*got int 3"),
    ("get_surrogate name", lambda B: B.tj.get_surrogate("relu"), ValueError,
     r"^get_surrogate: unknown surrogate 'relu'"),
    ("get_surrogate slope 0", lambda B: B.tj.get_surrogate("atan", 0.0), ValueError,
     r"^get_surrogate: `slope` must be finite and in \(0.0, inf\]; got 0.0"),
    ("get_surrogate slope str", lambda B: B.tj.get_surrogate("atan", "2"), TypeError,
     r"^get_surrogate: `slope` must be a real number"),
    ("fast_sigmoid int", lambda B: B.tj.fast_sigmoid(_ints(B, B.x)), TypeError,
     r"^fast_sigmoid: argument `x` must have a floating"),
    ("surrogate_grad fn", lambda B: B.tj.surrogate_grad(None, B.x), TypeError,
     r"^surrogate_grad: `spike_fn` must be a spike function"),
    ("surrogate_grad x int", lambda B: B.tj.surrogate_grad("atan", _ints(B, B.x)), TypeError,
     r"^surrogate_grad: argument `x` must have a floating"),
    # encoders
    ("rate key array", lambda B: B.tj.rate(B.x, B.x, 3), TypeError,
     r"^rate: `key` must be one .*PRNG key.*float32 with shape \(4, 2, 3\)"),
    ("rate key None", lambda B: B.tj.rate(None, B.x, 3), TypeError,
     r"^rate: `key` must be one .*got NoneType None"),
    ("rate x nan", lambda B: B.tj.rate(B.key(), B.arr(np.array([0.5, NAN], np.float32)), 3), ValueError,
     r"^rate: `x` must be finite and in \[0.0, 1.0\].*nan"),
    ("rate x 255", lambda B: B.tj.rate(B.key(), B.arr(np.array([0.0, 255.0], np.float32)), 3), ValueError,
     r"^rate: `x` .*e.g. 255.0"),
    ("rate x < 0", lambda B: B.tj.rate(B.key(), B.arr(np.array([-0.1], np.float32)), 3), ValueError,
     r"^rate: `x` .*-0.1"),
    ("rate gain nan", lambda B: B.tj.rate(B.key(), B.x, 3, gain=NAN), ValueError,
     r"^rate: `gain` must be finite.*nan"),
    ("rate gain < 0", lambda B: B.tj.rate(B.key(), B.x, 3, gain=-1.0), ValueError,
     r"^rate: `gain` .*\(0.0, inf\]; got -1.0"),
    ("rate gain inf", lambda B: B.tj.rate(B.key(), B.x, 3, gain=INF), ValueError, r"^rate: `gain` .*got inf"),
    ("rate num_steps 0", lambda B: B.tj.rate(B.key(), B.x, 0), ValueError,
     r"^rate: `num_steps` must be an int in \[1, inf\]; got 0"),
    ("rate num_steps float", lambda B: B.tj.rate(B.key(), B.x, 2.5), TypeError,
     r"^rate: `num_steps` must be an int; got float 2.5"),
    ("rate dtype", lambda B: B.tj.rate(B.key(), B.x, 3, dtype=B.int32), TypeError,
     r"^rate: `dtype` must be a floating dtype"),
    ("latency tau nan", lambda B: B.tj.latency(B.x, 3, method="log", tau=NAN), ValueError,
     r"^latency: `tau` must be finite"),
    ("latency tau 0", lambda B: B.tj.latency(B.x, 3, tau=0.0), ValueError, r"^latency: `tau` .*got 0.0"),
    ("latency threshold nan", lambda B: B.tj.latency(B.x, 3, threshold=NAN), ValueError,
     r"^latency: `threshold` must be finite"),
    ("latency threshold 1", lambda B: B.tj.latency(B.x, 3, threshold=1.0), ValueError,
     r"^latency: `threshold` must be finite and in \[0.0, 1.0\); got 1.0"),
    ("latency threshold < 0", lambda B: B.tj.latency(B.x, 3, threshold=-0.1), ValueError,
     r"^latency: `threshold` .*-0.1"),
    ("latency x inf", lambda B: B.tj.latency(B.arr(np.array([INF], np.float32)), 3), ValueError,
     r"^latency: `x` must be finite"),
    ("latency num_steps", lambda B: B.tj.latency(B.x, -1), ValueError,
     r"^latency: `num_steps` must be an int in \[1, inf\]; got -1"),
    ("latency method type", lambda B: B.tj.latency(B.x, 3, method=3), TypeError,
     r"^latency: `method` must be one of"),
    ("delta threshold nan", lambda B: B.tj.delta(B.x, threshold=NAN), ValueError,
     r"^delta: `threshold` must be finite"),
    ("delta threshold inf", lambda B: B.tj.delta(B.x, threshold=INF), ValueError,
     r"^delta: `threshold` .*inf"),
    ("delta threshold < 0", lambda B: B.tj.delta(B.x, threshold=-1.0), ValueError,
     r"^delta: `threshold` .*-1.0"),
    ("delta x nan", lambda B: B.tj.delta(B.arr(np.array([[0.1], [NAN]], np.float32))), ValueError,
     r"^delta: `x` must be finite"),
    ("delta x int", lambda B: B.tj.delta(_ints(B, B.x)), TypeError,
     r"^delta: argument `x` must have a floating"),
    ("repeat num_steps 0", lambda B: B.tj.repeat(B.x, 0), ValueError,
     r"^repeat: `num_steps` must be an int in \[1, inf\]; got 0"),
    ("repeat num_steps str", lambda B: B.tj.repeat(B.x, "3"), TypeError,
     r"^repeat: `num_steps` must be an int; got str '3'"),
]


def test_case_ids_are_unique():
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(backend, case):
    _, call, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        call(backend)
