"""Runtime configuration helpers."""

import tacjax.runtime as rt


def test_tuned_environ_adds_flag_once_and_keeps_base():
    env = rt.tuned_environ({"XLA_FLAGS": "--foo", "PATH": "/bin"}, tcmalloc=False)
    assert env["XLA_FLAGS"] == f"--foo {rt.TUNED_XLA_FLAG}"
    assert env["PATH"] == "/bin"
    again = rt.tuned_environ(env, tcmalloc=False)
    assert again["XLA_FLAGS"].count(rt.TUNED_XLA_FLAG) == 1
    plain = rt.tuned_environ({}, tcmalloc=False, eigen_conv=False)
    assert "XLA_FLAGS" not in plain and "LD_PRELOAD" not in plain


def test_tcmalloc_preloaded_only_when_installed():
    env = rt.tuned_environ({}, eigen_conv=False)
    path = rt.find_tcmalloc()
    assert (env.get("LD_PRELOAD") == path) if path else ("LD_PRELOAD" not in env)


def test_describe_reports_config():
    d = rt.describe()
    assert d["backend"] == "cpu" or d["backend"]
    assert d["config"] in ("default", "tuned", "partial")
    assert d["eigen_conv"] == (rt.TUNED_XLA_FLAG in d["xla_flags"])
