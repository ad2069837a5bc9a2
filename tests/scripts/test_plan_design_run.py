"""plan_design_run.py: the hand-picked plans fit each T and build; main runs the study with plan="auto"."""

from types import SimpleNamespace

from flax import nnx

from tacjax.models import ConvSNN
from tacjax.study import grid


def test_plans_fit_the_steps_and_build(load_script):
    mod = load_script("plan_design_run")
    small = mod.extra_plans(SimpleNamespace(configs=grid(4, (2,), (), 2, prefix="T4_")))
    # (tac 4, tac 4) leaves conv2 one step, K = 8 and 16 exceed T = 4
    assert [c.label for c in small] == ["T4_x_tac_tp4_tac4", "T4_x_tac_tp4_tac_tp4"]
    full = mod.extra_plans(SimpleNamespace(configs=grid(16, (2,), (2,), 3)))
    assert len(full) == len(mod.PLANS[3]) and full[0].label == "x_baseline1_tac4_tac1"
    for c in small + full:
        ConvSNN(num_steps=c.num_steps, in_size=16, in_channels=2, channels=(2,) * len(c.modes), num_classes=2,
                modes=c.modes, ks=c.ks, rngs=nnx.Rngs(0))


def test_main_runs_the_study_with_the_automatic_plan(monkeypatch, tmp_path, load_script):
    mod = load_script("plan_design_run")
    seen = {}
    monkeypatch.setattr(mod, "run_study", lambda opts, argv, extra_configs: seen.update(
        opts=opts, argv=argv, extra=extra_configs) or {"ok": True})
    assert mod.main(["--smoke", "--out", str(tmp_path), "--no-progress"]) == {"ok": True}
    assert seen["opts"].plan == "auto" and seen["opts"].protocol == "smoke" and not seen["opts"].progress
    assert seen["extra"] is mod.extra_plans
    assert seen["argv"] == ["--smoke", "--out", str(tmp_path), "--no-progress"]
