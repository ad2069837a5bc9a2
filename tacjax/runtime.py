"""Runtime configuration: what speeds JAX up on CPU, and a report of what is active.

Two settings matter most on x86 CPUs (measured on a 2-core AMD EPYC, see README):

* tcmalloc preloaded (``LD_PRELOAD=libtcmalloc_minimal.so.4``, Debian ``libtcmalloc-minimal4``):
  removes the page faults of fresh large output buffers.
* ``XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-individual_convolution``: convolutions
  go to Eigen, whose weight gradient is several times faster than YNNPACK's.

Both must be set before the process starts (JAX reads them at start-up), so scripts that
compare configurations run one subprocess per configuration (``tuned_environ``).
"""

from __future__ import annotations

import glob
import os
import platform

__all__ = ["TUNED_XLA_FLAG", "describe", "find_tcmalloc", "tuned_environ"]

TUNED_XLA_FLAG = "--xla_cpu_experimental_ynn_fusion_type=-individual_convolution"
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
    if eigen_conv and TUNED_XLA_FLAG not in env.get("XLA_FLAGS", ""):
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + TUNED_XLA_FLAG).strip()
    return env


def _loaded(name: str) -> bool:
    try:
        with open("/proc/self/maps") as f:
            return name in f.read()
    except OSError:
        return False


def describe() -> dict:
    """What this process runs under: JAX version/devices, tcmalloc, XLA flags, CPU count."""
    import jax

    flags = os.environ.get("XLA_FLAGS", "")
    tc = _loaded("libtcmalloc")
    eig = TUNED_XLA_FLAG in flags
    return {
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "tcmalloc": tc,
        "eigen_conv": eig,
        "xla_flags": flags,
        "config": "tuned" if (tc and eig) else ("default" if not (tc or eig) else "partial"),
    }


def _main(argv: list[str]) -> None:
    """``python -m tacjax.runtime --exec SCRIPT [ARGS...]``: run SCRIPT under the tuned settings.

    ``python -m tacjax.runtime`` alone prints ``describe()`` for the tuned environment.
    """
    import subprocess
    import sys

    env = tuned_environ(openblas=True)
    if argv[:1] == ["--exec"] and len(argv) > 1:
        os.execve(sys.executable, [sys.executable, *argv[1:]], env)
    code = "import json, tacjax.runtime as r; print(json.dumps(r.describe(), indent=1))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    print(out.stdout or out.stderr)


if __name__ == "__main__":
    import sys

    _main(sys.argv[1:])
