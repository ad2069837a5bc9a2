"""Smoke test: scripts/nir_subtract_gap.py runs at tiny sizes and its numbers are consistent."""

import pytest

pytest.importorskip("nir.ir", reason="needs the optional `nir` package (pip install 'tacjax[nir]')")


def test_nir_subtract_gap_smoke(load_script, capsys):
    res = load_script("nir_subtract_gap").main(["--smoke"])
    assert res["export_equals_reset_zero"]  # the opt-in graph is the reset-"zero" network exactly
    assert set(res["layers"]) == {"conv1", "conv2", "fc"}
    for layer in res["layers"].values():
        assert 0 <= layer["differing"] <= 1 and 0 < layer["rate_subtract"] < 1
    assert res["layers"]["conv1"]["differing"] > 0  # subtract and zero reset do differ
    assert '"differing"' in capsys.readouterr().out
