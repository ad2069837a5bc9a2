"""The study script at smoke size: every configuration runs and every output is written."""

import importlib.util
import json
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("reproduce", ROOT / "scripts" / "reproduce.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_smoke_run_writes_tables_and_plots(tmp_path, capsys):
    rep = _script()
    out = tmp_path / "res"
    res = rep.main(["--smoke", "--dataset", "synthetic", "--out", str(out), "--no-progress"])
    runs = res["datasets"]["synthetic"]["runs"]
    assert [r["config"] for r in runs] == ["baseline", "tac_K2", "tac_K4", "tac_tp_K2"]
    # conv calls per sample, 3 conv layers at T=4: TAC runs the whole net at T/K steps (3 * T/K),
    # TAC-TP aggregates K frames in every layer (3 * T/K too, but keeps T LIF steps)
    assert [r["conv_calls"] for r in runs] == [12, 6, 3, 6]
    assert runs[0]["train_speedup"] == 1.0
    for r in runs:
        assert 0.0 <= r["test_accuracy"] <= 1.0
        assert r["train_s_per_epoch"] > 0 and r["infer_ms_per_sample"] > 0
        assert list(rep._layer_order(r["rates"])) == ["input", "conv1", "conv2", "conv3", "fc"]
    md = (out / "results.md").read_text()
    assert "smoke" in md and "| tac_tp_K2 | 4 | 2 | 6 |" in md
    assert json.loads((out / "results.json").read_text())["datasets"]["synthetic"]["runs"][1]["k"] == 2
    for name in ("synthetic_acc_speedup_vs_k.png", "spike_raster.png"):
        assert (out / name).stat().st_size > 1000
    assert (out / "synthetic" / "runs" / "baseline.csv").exists()
    assert "runtime:" in capsys.readouterr().out


def test_image_data_lookup_without_download(tmp_path, monkeypatch):
    from tacjax.data import write_idx

    rep = _script()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TACJAX_DATA", raising=False)
    loaded, why = rep._load_images("mnist", str(tmp_path / "nothing"), 5, 3)
    assert loaded is None and "not found" in why
    d = tmp_path / "data" / "mnist"
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("t10k", 4)):
        write_idx(d / f"{split}-images-idx3-ubyte", rng.integers(0, 255, (n, 28, 28), dtype=np.uint8))
        write_idx(d / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8))
    (tr, te), why = rep._load_images("mnist", str(tmp_path / "data"), 5, 3)
    assert why is None and tr[0].shape == (5, 28, 28) and te[1].shape == (3,)
