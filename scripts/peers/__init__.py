"""Per-library workers of ``scripts/bench_peers.py`` (one module per library) and their shared harness."""
