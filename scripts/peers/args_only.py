"""Check a script's command line without running it: ``python args_only.py SCRIPT [ARGS...]``.

Runs SCRIPT as ``__main__`` (its folder first on ``sys.path``, as ``python SCRIPT`` has it) with
``argparse.ArgumentParser.parse_args`` replaced: ARGS go through the script's own parser, so an unknown
option, a bad type or an invalid choice exits with code 2 and argparse's message as the script would,
and accepted ARGS stop the script with code 0 before it does any work (checks the script makes after
parsing are not run). ``scripts/gpu_check.sh`` uses it for the steps named in ``GPU_CHECK_ARGS_ONLY``
(its CPU smoke test: those scripts have their own smoke tests in tests/scripts/).
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys


def main(argv: list[str]) -> None:
    if not argv or not argv[0].endswith(".py"):
        raise SystemExit("usage: args_only.py SCRIPT.py [ARGS...]")
    script = argv[0]
    real = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        real(self, args, namespace)
        print(f"args_only: {script} accepts {' '.join(argv[1:]) or '(no arguments)'}", flush=True)
        raise SystemExit(0)

    argparse.ArgumentParser.parse_args = parse_then_stop
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")
    raise SystemExit(f"args_only: {script} finished without calling ArgumentParser.parse_args")


if __name__ == "__main__":
    main(sys.argv[1:])
