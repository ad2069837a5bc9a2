"""Pieces the PyTorch libraries' workers share: threads, device, layout conversion, the benches.

Arrays from ``peers.reference`` are converted to PyTorch's layouts: images NCHW ``[T, B, C, H, W]``,
conv weights OIHW, dense weights ``[out, in]`` with the input features in PyTorch's (C, H, W) flatten
order, so every library starts from the same network. The training step: Adam (lr 1e-3), cross-entropy
on the time-mean of the readout membrane.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from peers.harness import Bench

__all__ = ["DEVICE", "device_peak_bytes", "grad_bench", "mnist_tensors", "runtime", "set_weights", "setup",
           "sync", "tensor", "train_bench"]

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def setup(threads: int) -> None:
    """Intra-op and inter-op threads of this process."""
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # already set (only once per process)
        pass


def runtime() -> dict:
    """PyTorch version, device and intra-op threads of this process."""
    return {"torch": torch.__version__, "device": str(DEVICE), "threads": torch.get_num_threads()}


def sync(out) -> None:
    """Wait for queued device work (a no-op on the CPU, where PyTorch runs eagerly)."""
    del out
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def device_peak_bytes() -> int | None:
    return int(torch.cuda.max_memory_allocated()) if DEVICE.type == "cuda" else None


def tensor(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.ascontiguousarray(a), device=DEVICE, requires_grad=grad)


def mnist_tensors(data: dict) -> dict:
    """``reference.mnist_data`` in PyTorch layouts (see the module docstring)."""
    c2, classes = data["w2"].shape[-1], data["w3"].shape[-1]
    side = int(round((data["w3"].shape[0] // c2) ** 0.5))
    w3 = data["w3"].reshape(side, side, c2, classes).transpose(3, 2, 0, 1).reshape(classes, -1)
    return {"x": tensor(data["x"].transpose(0, 1, 4, 2, 3)), "y": tensor(data["y"].astype(np.int64)),
            "w1": tensor(data["w1"].transpose(3, 2, 0, 1)), "w2": tensor(data["w2"].transpose(3, 2, 0, 1)),
            "w3": tensor(w3)}


def set_weights(pairs) -> None:
    """Copy ``(module, tensor)`` pairs into the modules' ``weight``."""
    with torch.no_grad():
        for module, value in pairs:
            module.weight.copy_(value)


def grad_bench(loss_fn: Callable[[torch.Tensor], torch.Tensor], weight: torch.nn.Parameter) -> Bench:
    """Forward + backward of ``loss_fn()`` into ``weight.grad`` (cleared before each step)."""

    def step():
        weight.grad = None
        loss = loss_fn()
        loss.backward()
        return (loss.detach(),)

    return Bench(step, sync)


def train_bench(model: torch.nn.Module, readout_fn: Callable[[torch.Tensor], torch.Tensor], x, y) -> Bench:
    """One Adam step on the cross-entropy of the time-mean of ``readout_fn(x)`` ``[T, B, C]``."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(readout_fn(x).mean(0), y)
        loss.backward()
        opt.step()
        return (loss.detach(),)

    return Bench(step, sync)
