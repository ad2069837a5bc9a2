"""Runtime configuration helpers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_thread_environ_sets_thread_counts_and_keeps_base():
    env = rt.thread_environ(1, {"XLA_FLAGS": "--foo", "PATH": "/bin"})
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["XLA_FLAGS"] == "--foo" and env["PATH"] == "/bin"
    assert rt.thread_environ(4, {})["OMP_NUM_THREADS"] == "4"


@pytest.mark.parametrize("fn", [rt.thread_environ, rt.pin_threads])
def test_thread_helpers_reject_bad_counts(fn):
    for bad in (0, -1, True, 1.0):
        with pytest.raises(ValueError, match=f"{fn.__name__}: `threads`"):
            fn(bad) if fn is rt.pin_threads else fn(bad, {})


def test_pin_threads_in_a_child_process():
    code = ("import os, tacjax.runtime as r; print(r.pin_threads(1), len(os.sched_getaffinity(0)));"
            "r.pin_threads(len(os.sched_getaffinity(0)) + 1)")
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": root})
    first = sorted(os.sched_getaffinity(0))[0]
    assert out.stdout.split("]")[0] == f"[{first}" and out.stdout.split()[-1] == "1"
    assert "pin_threads: `threads` = 2 exceeds the 1 CPUs" in out.stderr


def test_probe_describes_a_fresh_process_with_the_given_environment():
    root = str(Path(__file__).resolve().parents[1])
    base = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}  # `make test` may preload tcmalloc
    env = rt.tuned_environ({**base, "PYTHONPATH": root}, tcmalloc=False)
    d = rt.probe(env)
    assert d["backend"] == "cpu" and d["eigen_conv"] is True and rt.TUNED_XLA_FLAG in d["xla_flags"]
    assert d["tcmalloc"] is False and d["config"] == "partial"  # this process's preload is not inherited
    with pytest.raises(RuntimeError, match="probe: .* failed"):
        rt.probe(env, python="false")
