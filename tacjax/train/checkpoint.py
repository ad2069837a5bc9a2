"""Checkpoint and resume with orbax: one checkpoint per completed epoch.

A checkpoint holds the training state pytree (parameters, non-parameter variables, optimiser
state) and the metrics history (JSON). Restoring uses the freshly initialised state as the
target, so structure, dtypes and shardings come from the running program.
"""

from __future__ import annotations

import os

import orbax.checkpoint as ocp

__all__ = ["EpochCheckpointer"]


class EpochCheckpointer:
    """Save/restore ``(state, history)`` under ``directory/<epoch>`` (epochs completed).

    Args:
        directory: checkpoint folder (created if missing).
        max_to_keep: how many recent epochs to keep.
    """

    def __init__(self, directory: str | os.PathLike, max_to_keep: int = 2):
        self.directory = os.path.abspath(os.fspath(directory))
        opts = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
        self._mngr = ocp.CheckpointManager(self.directory, options=opts)

    def latest_epoch(self) -> int | None:
        """Number of completed epochs in the newest checkpoint, or None if there is none."""
        return self._mngr.latest_step()

    def save(self, epoch: int, state, history: list[dict]) -> None:
        """Save after ``epoch`` completed epochs and wait until it is on disk."""
        self._mngr.save(epoch, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                       history=ocp.args.JsonSave(history)))
        self._mngr.wait_until_finished()

    def restore(self, target, epoch: int | None = None):
        """Restore ``(state, history)`` of ``epoch`` (default latest) into the structure of ``target``."""
        epoch = self.latest_epoch() if epoch is None else epoch
        if epoch is None:
            raise FileNotFoundError(f"EpochCheckpointer.restore: no checkpoint in {self.directory}.")
        out = self._mngr.restore(epoch, args=ocp.args.Composite(state=ocp.args.StandardRestore(target),
                                                                history=ocp.args.JsonRestore()))
        return out["state"], list(out["history"])

    def close(self) -> None:
        """Release the manager's resources."""
        self._mngr.close()
