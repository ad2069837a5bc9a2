"""Backend-free layer shared by the JAX core (``tacjax``) and the MLX mirror (``tacjax.mlx``).

Everything here imports only the Python standard library and NumPy: argument checks and their
messages, the chunk geometry of TAC, aggregation weights as plain numbers, the PSU matrices'
formulas, names and constants (``RESETS``, ``WEIGHTS``, ...), the NamedTuples that public
functions return, and docstring fragments that both backends repeat. A test loads these
modules with jax, flax and mlx blocked, so nothing here may import them.
"""
