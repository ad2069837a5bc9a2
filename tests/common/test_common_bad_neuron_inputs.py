"""Bad input to the synaptic, adaptive, recurrent and leaky-integrator neurons raises a clear error
in both backends: the table of ``test_common_bad_inputs`` (same fixture and rule), for these names."""

from __future__ import annotations

import numpy as np
import pytest
from test_common_bad_inputs import B4, INF, NAN, W44, _ints, backend  # noqa: F401  (backend: fixture)

Z23 = np.zeros((2, 3), np.float32)  # a per-step state of X3 ([T, B, C] = [4, 2, 3])
W33 = np.zeros((3, 3), np.float32)  # recurrent weights for X3's N = 3


def _syn(B, **kw):
    return B.tj.synaptic_scan(B.x, B.tj.SynapticParams(**kw))


def _alif(B, **kw):
    return B.tj.alif_scan(B.x, B.tj.ALIFParams(**kw))


def _state(B, cls, *fields):
    return getattr(B.tj, cls)(*(B.arr(f) for f in fields))


CASES = [
    ("synaptic alpha nan", lambda B: _syn(B, alpha=NAN), ValueError,
     r"^synaptic_scan: `params.alpha` must be finite.*got nan"),
    ("synaptic alpha > 1", lambda B: _syn(B, alpha=1.5), ValueError,
     r"^synaptic_scan: `params.alpha` .*\[0.0, 1.0\]; got 1.5"),
    ("synaptic alpha shape", lambda B: _syn(B, alpha=B.arr(np.ones(5, np.float32))), ValueError,
     r"^synaptic_scan: `params.alpha` of shape \(5,\) does not broadcast.*\(2, 3\)"),
    ("synaptic beta nan", lambda B: _syn(B, beta=NAN), ValueError,
     r"^synaptic_scan: `params.beta` must be finite"),
    ("synaptic v_reset inf", lambda B: _syn(B, reset="zero", v_reset=INF), ValueError,
     r"^synaptic_scan: `params.v_reset` must be finite"),
    ("synaptic params type", lambda B: B.tj.synaptic_scan(B.x, B.tj.LIFParams()), TypeError,
     r"^synaptic_scan: `params` must be a .*SynapticParams; got .*LIFParams"),
    ("SynapticParams reset", lambda B: B.tj.SynapticParams(reset="soft"), ValueError,
     r"^SynapticParams: unknown reset 'soft'"),
    ("SynapticParams detach", lambda B: B.tj.SynapticParams(detach_reset=1), TypeError,
     r"^SynapticParams: `detach_reset` must be a bool; got int 1"),
    ("synaptic x int", lambda B: B.tj.synaptic_scan(_ints(B, B.x)), TypeError,
     r"^synaptic_scan: argument `x` must have a floating dtype.*int32"),
    ("synaptic state0 tuple", lambda B: B.tj.synaptic_scan(B.x, state0=(B.arr(Z23), B.arr(Z23))), TypeError,
     r"^synaptic_scan: `state0` must be a NamedTuple SynapticState\(i, v\) whose fields have the per-step "
     r"state shape \(2, 3\); got builtins.tuple"),
    ("synaptic state0 shape",
     lambda B: B.tj.synaptic_scan(B.x, state0=_state(B, "SynapticState", Z23, np.zeros((2, 4), np.float32))),
     ValueError, r"^synaptic_scan: `state0.v` must have the per-step state shape \(2, 3\); got \(2, 4\)"),
    ("synaptic state0 int",
     lambda B: B.tj.synaptic_scan(B.x, state0=_state(B, "SynapticState", Z23.astype(np.int32), Z23)),
     TypeError, r"^synaptic_scan: argument `state0.i` must have a floating dtype"),
    ("synaptic surrogate", lambda B: B.tj.synaptic_scan(B.x, surrogate="relu"), ValueError,
     r"^synaptic_scan: unknown surrogate 'relu'"),
    ("synaptic_step state shape",
     lambda B: B.tj.synaptic_step(_state(B, "SynapticState", B4[:3], B4[:3]), B.x[0]), ValueError,
     r"^synaptic_step: `state.i` must have the per-step state shape \(2, 3\); got \(3,\)"),
    ("alif b < 0", lambda B: _alif(B, b=-0.1), ValueError,
     r"^alif_scan: `params.b` must be finite and in \[0.0, inf\]; got -0.1"),
    ("alif b nan", lambda B: _alif(B, b=NAN), ValueError, r"^alif_scan: `params.b` must be finite"),
    ("alif rho nan", lambda B: _alif(B, rho=NAN), ValueError, r"^alif_scan: `params.rho` must be finite"),
    ("alif rho > 1", lambda B: _alif(B, rho=1.01), ValueError,
     r"^alif_scan: `params.rho` .*\[0.0, 1.0\]; got 1.01"),
    ("alif b shape", lambda B: _alif(B, b=B.arr(np.ones(4, np.float32))), ValueError,
     r"^alif_scan: `params.b` of shape \(4,\) does not broadcast"),
    ("ALIFParams reset", lambda B: B.tj.ALIFParams(reset="hard"), ValueError,
     r"^ALIFParams: unknown reset 'hard'"),
    ("alif x int", lambda B: B.tj.alif_scan(_ints(B, B.x)), TypeError,
     r"^alif_scan: argument `x` must have a floating"),
    ("alif state0 type", lambda B: B.tj.alif_scan(B.x, state0=_state(B, "SynapticState", Z23, Z23)),
     TypeError,
     r"^alif_scan: `state0` must be a NamedTuple ALIFState\(v, a\) .*got tacjax\..*SynapticState"),
    ("alif_step state tuple", lambda B: B.tj.alif_step((B.arr(Z23), B.arr(Z23)), B.x[0]), TypeError,
     r"^alif_step: `state` must be a NamedTuple ALIFState\(v, a\)"),
    ("rlif w_rec rank", lambda B: B.tj.rlif_scan(B.x, B.arr(B4[:3])), ValueError,
     r"^rlif_scan: argument `w_rec` must have exactly 2 dimensions, shape \[N, N\]; got shape \(3,\)"),
    ("rlif w_rec shape", lambda B: B.tj.rlif_scan(B.x, B.arr(W44)), ValueError,
     r"^rlif_scan: `w_rec` must have shape \(N, N\) with N = x.shape\[-1\] = \(3, 3\); got \(4, 4\)"),
    ("rlif w_rec 3x4", lambda B: B.tj.rlif_scan(B.x, B.arr(W44[:3])), ValueError,
     r"^rlif_scan: `w_rec` must have shape .*got \(3, 4\)"),
    ("rlif w_rec int", lambda B: B.tj.rlif_scan(B.x, _ints(B, B.arr(W33))), TypeError,
     r"^rlif_scan: argument `w_rec` must have a floating"),
    ("rlif x rank", lambda B: B.tj.rlif_scan(B.x[:, 0, 0], B.arr(W33)), ValueError,
     r"^rlif_scan: argument `x` must have at least 2 dimensions, shape \[T, \.\.\., N\]"),
    ("rlif x int", lambda B: B.tj.rlif_scan(_ints(B, B.x), B.arr(W33)), TypeError,
     r"^rlif_scan: argument `x` must have a floating"),
    ("rlif beta nan", lambda B: B.tj.rlif_scan(B.x, B.arr(W33), B.tj.LIFParams(beta=NAN)), ValueError,
     r"^rlif_scan: `params.beta` must be finite"),
    ("rlif params type", lambda B: B.tj.rlif_scan(B.x, B.arr(W33), B.tj.ALIFParams()), TypeError,
     r"^rlif_scan: `params` must be a .*LIFParams; got .*ALIFParams"),
    ("rlif state0 tuple", lambda B: B.tj.rlif_scan(B.x, B.arr(W33), state0=(B.arr(Z23), B.arr(Z23))),
     TypeError, r"^rlif_scan: `state0` must be a NamedTuple RLIFState\(v, s\)"),
    ("rlif state0 shape",
     lambda B: B.tj.rlif_scan(B.x, B.arr(W33), state0=_state(B, "RLIFState", Z23, Z23[0])), ValueError,
     r"^rlif_scan: `state0.s` must have the per-step state shape \(2, 3\); got \(3,\)"),
    ("rlif_step w_rec", lambda B: B.tj.rlif_step(_state(B, "RLIFState", Z23, Z23), B.x[0], B.arr(W44)),
     ValueError, r"^rlif_step: `w_rec` must have shape \(N, N\) .*got \(4, 4\)"),
    ("li beta nan", lambda B: B.tj.li_scan(B.x, NAN), ValueError,
     r"^li_scan: `beta` must be finite.*got nan"),
    ("li beta > 1", lambda B: B.tj.li_scan(B.x, 1.5), ValueError,
     r"^li_scan: `beta` must be finite and in \[0.0, 1.0\]; got 1.5"),
    ("li beta str", lambda B: B.tj.li_scan(B.x, "0.9"), TypeError, r"^li_scan: `beta` must be a real number"),
    ("li beta shape", lambda B: B.tj.li_scan(B.x, B.arr(B4)), ValueError,
     r"^li_scan: `beta` of shape \(4,\) does not broadcast.*\(2, 3\)"),
    ("li x int", lambda B: B.tj.li_scan(_ints(B, B.x)), TypeError,
     r"^li_scan: argument `x` must have a floating"),
    ("li v0 shape", lambda B: B.tj.li_scan(B.x, v0=B.arr(B4[:3])), ValueError,
     r"^li_scan: `v0` must have the per-step state shape \(2, 3\); got \(3,\)"),
    ("li_step shapes", lambda B: B.tj.li_step(B.x[0, 0], B.x[0]), ValueError,
     r"^li_step: `v` and `x` must have the same shape"),
    ("li_step v int", lambda B: B.tj.li_step(_ints(B, B.x[0]), B.x[0]), TypeError,
     r"^li_step: argument `v` must have a floating"),
]


def test_case_ids_are_unique():
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(backend, case):  # noqa: F811  (the imported fixture)
    _, call, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        call(backend)
