"""Runtime configuration: what speeds JAX up on CPU, and a report of what is active.

Two settings matter most on x86 CPUs (measured on a 2-core AMD EPYC, see README):

* tcmalloc preloaded (``LD_PRELOAD=libtcmalloc_minimal.so.4``, Debian ``libtcmalloc-minimal4``):
  removes the page faults of fresh large output buffers.
* ``XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-individual_convolution``: convolutions
  go to Eigen, whose weight gradient is several times faster than YNNPACK's.

Both must be set before the process starts (JAX reads them at start-up), so scripts that
compare configurations run one subprocess per configuration (``tuned_environ``). Benchmarks
that compare libraries also fix the number of threads for all of them (``thread_environ`` for
PyTorch and NumPy, ``pin_threads`` for XLA).

Both settings concern the CPU only: on a GPU the flag is ignored by XLA's GPU compiler and
nothing in tacjax needs either (``describe()`` then reports the backend as the configuration).
``probe(env)`` asks a fresh process which backend and settings an environment gives, without
starting JAX (and so claiming an accelerator) in the calling process.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import subprocess
import sys

__all__ = ["TUNED_XLA_FLAG", "describe", "find_tcmalloc", "pin_threads", "probe", "thread_environ",
           "tuned_environ"]

TUNED_XLA_FLAG = "--xla_cpu_experimental_ynn_fusion_type=-individual_convolution"
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
_TCMALLOC_GLOBS = (
    "/usr/lib/*-linux-gnu/libtcmalloc_minimal.so.4",
    "/usr/lib/libtcmalloc_minimal.so.4",
    "/usr/lib64/libtcmalloc_minimal.so.4",
)
_OPENBLAS_GLOBS = (
    "/usr/lib/*-linux-gnu/openblas-pthread/libopenblas.so.0",
    "/usr/lib/*-linux-gnu/libopenblas.so.0",
)


def _first(patterns) -> str | None:
    for pat in patterns:
        hits = sorted(glob.glob(pat))
        if hits:
            return hits[0]
    return None


def find_tcmalloc() -> str | None:
    """Path of ``libtcmalloc_minimal.so.4`` if installed, else None."""
    return _first(_TCMALLOC_GLOBS)


def find_openblas() -> str | None:
    """Path of an OpenBLAS shared library if installed (speeds up MLX on Linux), else None."""
    return _first(_OPENBLAS_GLOBS)


def tuned_environ(base: dict | None = None, *, tcmalloc: bool = True, eigen_conv: bool = True,
                  openblas: bool = False) -> dict:
    """A copy of ``base`` (default ``os.environ``) with the tuned CPU settings added.

    Args:
        base: environment to extend.
        tcmalloc: preload tcmalloc when it is installed.
        eigen_conv: add ``TUNED_XLA_FLAG`` to ``XLA_FLAGS``.
        openblas: preload OpenBLAS (for MLX on Linux) when it is installed.
    """
    env = dict(os.environ if base is None else base)
    pre = [p for p in env.get("LD_PRELOAD", "").split(":") if p]
    for want, path in ((tcmalloc, find_tcmalloc()), (openblas, find_openblas())):
        if want and path and path not in pre:
            pre.append(path)
    if pre:
        env["LD_PRELOAD"] = ":".join(pre)
    if eigen_conv:
        _add_xla_flags(env, (TUNED_XLA_FLAG,))
    return env


def _add_xla_flags(env: dict, flags) -> None:
    have = env.get("XLA_FLAGS", "").split()
    new = [f for f in flags if f not in have]
    if new:
        env["XLA_FLAGS"] = " ".join(have + new)


def thread_environ(threads: int, base: dict | None = None) -> dict:
    """A copy of ``base`` (default ``os.environ``) with ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and
    ``OPENBLAS_NUM_THREADS`` set to ``threads`` (PyTorch, NumPy, OpenBLAS).

    XLA's CPU thread pool does not read these: limit it with ``pin_threads`` (CPU affinity), done
    in the process itself before JAX starts. The flags ``--xla_cpu_multi_thread_eigen=false
    intra_op_parallelism_threads=1`` are not a substitute: they made the MNIST TAC training step
    3.6x slower than pinning to one core (916 against 257 ms, B = 32, 2-core EPYC).

    Raises:
        ValueError: if ``threads`` is not a positive int.
    """
    _check_threads(threads, "thread_environ")
    env = dict(os.environ if base is None else base)
    for var in _THREAD_VARS:
        env[var] = str(threads)
    return env


def pin_threads(threads: int) -> list[int]:
    """Pin this process to its first ``threads`` allowed CPUs (call before importing JAX or PyTorch).

    XLA sizes its CPU thread pool from the CPUs the process may run on. Returns the CPUs kept.

    Raises:
        ValueError: if ``threads`` is not a positive int or exceeds the CPUs this process may use.
    """
    _check_threads(threads, "pin_threads")
    allowed = sorted(os.sched_getaffinity(0))
    if threads > len(allowed):
        raise ValueError(f"pin_threads: `threads` = {threads} exceeds the {len(allowed)} CPUs this process "
                         f"may use ({allowed}).")
    os.sched_setaffinity(0, allowed[:threads])
    return allowed[:threads]


def _check_threads(threads, fn: str) -> None:
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"{fn}: `threads` must be a positive int; got {threads!r}.")


def _loaded(name: str) -> bool:
    try:
        with open("/proc/self/maps") as f:
            return name in f.read()
    except OSError:
        return False


def describe() -> dict:
    """What this process runs under: JAX version/devices, tcmalloc, XLA flags, CPU count.

    ``config`` is "tuned", "default" or "partial" (which of the two CPU settings are active) on
    the CPU backend, and the backend's name ("gpu", "tpu") elsewhere, where they do not apply.
    """
    import jax

    flags = os.environ.get("XLA_FLAGS", "")
    tc = _loaded("libtcmalloc")
    eig = TUNED_XLA_FLAG in flags
    backend = jax.default_backend()
    cpu_config = "tuned" if (tc and eig) else ("default" if not (tc or eig) else "partial")
    return {
        "jax": jax.__version__,
        "backend": backend,
        "devices": [str(d) for d in jax.devices()],
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "tcmalloc": tc,
        "eigen_conv": eig,
        "xla_flags": flags,
        "config": cpu_config if backend == "cpu" else backend,
    }


def probe(env: dict | None = None, python: str = sys.executable) -> dict:
    """``describe()`` of a fresh ``python`` process started with ``env`` (default ``os.environ``).

    Raises:
        RuntimeError: if that process fails (its stderr is in the message).
    """
    code = "import json, tacjax.runtime as r; print(json.dumps(r.describe()))"
    out = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"probe: `{python} -c describe()` failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _main(argv: list[str]) -> None:
    """``python -m tacjax.runtime --exec SCRIPT [ARGS...]``: run SCRIPT under the tuned settings.

    ``python -m tacjax.runtime`` alone prints ``describe()`` for the tuned environment.
    """
    env = tuned_environ(openblas=True)
    if argv[:1] == ["--exec"] and len(argv) > 1:
        os.execve(sys.executable, [sys.executable, *argv[1:]], env)
    print(json.dumps(probe(env), indent=1))


if __name__ == "__main__":
    _main(sys.argv[1:])
