"""Flax NNX modules: spiking layers that hold parameters and call the pure tacjax core."""

from tacjax.nn.layers import SpikingConv, SpikingDense, default_kernel_init, max_pool_spikes

__all__ = ["SpikingConv", "SpikingDense", "default_kernel_init", "max_pool_spikes"]
