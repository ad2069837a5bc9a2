"""Shared test configuration: deterministic hypothesis profile sized for 2-core CI; JAX random numbers
compiled on flat shapes (the same values, a fraction of the compile time: ``tests/_fast_rng.py``)."""

import os

import _fast_rng
from hypothesis import settings

_fast_rng.install()

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=15, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
