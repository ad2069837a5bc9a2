"""Verified checkpoints with orbax: one per completed epoch, under ``directory/<epoch>``.

A checkpoint holds three items, written together by one atomic orbax save (a temporary folder
renamed when complete): ``state`` (the training state pytree: parameters, other variables,
optimiser state), ``history`` (the metrics rows, JSON) and ``meta`` (JSON): the epoch, the sha256
of the state's arrays and of the history, the dtype and shape of every state leaf, the caller's
configuration ``fingerprint`` and a sha256 of ``meta`` itself.

Restore verifies all of it. A checkpoint that cannot be read or does not match its checksums (a
flipped bit, a truncated or missing file, bad JSON or tensorstore data) is reported by a
``CorruptCheckpointWarning`` naming its folder and what is wrong, and the next older one is
tried; once a good one is found the corrupt newer ones are moved to ``directory/corrupt/``. A
fingerprint that differs raises ``CheckpointConfigError`` listing the differing fields (unless
``allow_config_change``); a state that does not fit the target's shapes always does.

Retention is done here, not by orbax: a save is read back and verified first, and only then are
checkpoints beyond the newest ``max_to_keep`` deleted, so the newest verified checkpoint is never
deleted. One process writes to a folder at a time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import warnings
from typing import Any, NamedTuple

import jax
import numpy as np
import orbax.checkpoint as ocp

from tacjax.train._checks import check_dir, check_int
from tacjax.train.fingerprint import fingerprint_diff, json_digest, tree_digest

__all__ = ["CheckpointConfigError", "CheckpointError", "CorruptCheckpointWarning", "EpochCheckpointer",
           "Restored"]

FORMAT = "tacjax-checkpoint/1"
_PARTIAL = re.compile(r"^\d+\.(orbax-checkpoint-tmp.*|deleting)$")


class CheckpointError(RuntimeError):
    """A checkpoint could not be written, verified or read (the message names its folder)."""


class CheckpointConfigError(ValueError):
    """The checkpoint was written for another configuration (the message lists the differing fields)."""


class CorruptCheckpointWarning(UserWarning):
    """A checkpoint failed verification and was skipped (the message names its folder and the fault)."""


class Restored(NamedTuple):
    """What ``EpochCheckpointer.restore`` returns: the completed ``epoch``, the ``state`` (in the
    target's structure), the metrics ``history`` (one dict per epoch) and the saved ``fingerprint``."""

    epoch: int
    state: Any
    history: list[dict]
    fingerprint: dict


class _Corrupt(Exception):
    pass


def _state_spec(state) -> dict[str, str]:
    return {jax.tree_util.keystr(p): f"{np.dtype(x.dtype).name}{list(np.shape(x))}"
            for p, x in jax.tree_util.tree_leaves_with_path(state)}


def _meta(epoch: int, state, history: list[dict], fingerprint: dict) -> dict:
    meta = {"format": FORMAT, "epoch": epoch, "state_sha256": tree_digest(state),
            "history_sha256": json_digest(history), "state_spec": _state_spec(state),
            "fingerprint": fingerprint}
    return {**meta, "meta_sha256": json_digest(meta)}


class EpochCheckpointer:
    """Save and restore ``(state, history)`` under ``directory/<epoch>`` (epochs completed), verified.

    Args:
        directory: checkpoint folder (created if missing; an existing file is an error).
        max_to_keep: how many newest checkpoints to keep (an int >= 1), or None for all.
    """

    def __init__(self, directory: str | os.PathLike, max_to_keep: int | None = 2):
        self.directory = check_dir(directory, "EpochCheckpointer", "directory")
        self.max_to_keep = None if max_to_keep is None else check_int(max_to_keep, "EpochCheckpointer",
                                                                      "max_to_keep")
        os.makedirs(self.directory, exist_ok=True)
        for name in os.listdir(self.directory):  # left by a process killed while saving or deleting
            if _PARTIAL.match(name):
                shutil.rmtree(os.path.join(self.directory, name), ignore_errors=True)
        self._ckptr = ocp.Checkpointer(ocp.CompositeCheckpointHandler())

    def path(self, epoch: int) -> str:
        """The folder of ``epoch``'s checkpoint."""
        return os.path.join(self.directory, str(epoch))

    def epochs(self) -> list[int]:
        """Stored epochs, ascending (complete saves; not yet verified)."""
        return sorted(int(n) for n in os.listdir(self.directory)
                      if n.isdigit() and os.path.isdir(os.path.join(self.directory, n)))

    def latest_epoch(self) -> int | None:
        """The newest stored epoch (not yet verified), or None if there is none."""
        stored = self.epochs()
        return stored[-1] if stored else None

    def save(self, epoch: int, state, history: list[dict], fingerprint: dict | None = None) -> str:
        """Save after ``epoch`` completed epochs, read it back, verify it, then apply retention.

        Args:
            epoch: completed epochs (an int >= 0), newer than every stored checkpoint.
            state: pytree of arrays.
            history: JSON-serialisable list of dicts.
            fingerprint: JSON-serialisable dict describing the configuration (see
                ``tacjax.train.fingerprint``); ``restore`` compares it.

        Returns:
            The checkpoint's folder.
        """
        epoch = check_int(epoch, "EpochCheckpointer.save", "epoch", minimum=0)
        if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
            raise TypeError(f"EpochCheckpointer.save: `history` must be a list of dicts; "
                            f"got {type(history).__name__}.")
        latest = self.latest_epoch()
        if latest is not None and latest >= epoch:
            raise ValueError(f"EpochCheckpointer.save: `epoch` = {epoch} is not newer than the stored "
                             f"checkpoint {self.path(latest)}; restore() first (it sets corrupt newer "
                             f"ones aside) or use another folder.")
        fingerprint = {} if fingerprint is None else fingerprint
        try:
            json.dumps([history, fingerprint])
        except (TypeError, ValueError) as e:
            raise TypeError(f"EpochCheckpointer.save: `history` and `fingerprint` must be JSON-serialisable "
                            f"(lists, dicts, str, int, float, bool, None): {e}") from e
        path = self.path(epoch)
        meta = _meta(epoch, state, history, fingerprint)
        args = ocp.args.Composite(state=ocp.args.StandardSave(state), history=ocp.args.JsonSave(history),
                                  meta=ocp.args.JsonSave(meta))
        try:
            self._ckptr.save(path, args=args)
        except Exception as e:
            raise CheckpointError(f"EpochCheckpointer.save: writing {path} failed: "
                                  f"{type(e).__name__}: {e}") from e
        try:
            self._read(epoch, state, None, False)
        except _Corrupt as e:
            raise CheckpointError(f"EpochCheckpointer.save: {path} failed verification right after "
                                  f"writing ({e}); no older checkpoint was deleted.") from e
        self._retain(epoch)
        return path

    def restore(self, target, epoch: int | None = None, *, fingerprint: dict | None = None,
                allow_config_change: bool = False) -> Restored:
        """Restore the newest good checkpoint (or exactly ``epoch``) into the structure of ``target``.

        Args:
            target: a state pytree of the right structure, dtypes and shardings (e.g. the fresh one).
            epoch: a stored epoch to restore; None tries the newest first, then older ones.
            fingerprint: the current configuration; compared with the saved one when given.
            allow_config_change: warn instead of raising when the fingerprints differ (fine-tuning).
                Fields named ``info.*`` are never compared.

        Returns:
            ``Restored(epoch, state, history, fingerprint)``.

        Raises:
            FileNotFoundError: no checkpoint in the folder (or no checkpoint ``epoch``).
            CheckpointConfigError: the fingerprint differs (without ``allow_config_change``) or the
                saved state does not fit ``target``.
            CheckpointError: no stored checkpoint (or ``epoch``) passes verification.
        """
        stored = self.epochs()
        if not stored or (epoch is not None and epoch not in stored):
            raise FileNotFoundError(f"EpochCheckpointer.restore: no checkpoint "
                                    f"{'' if epoch is None else f'of epoch {epoch} '}in {self.directory} "
                                    f"(stored epochs: {stored}).")
        problems: dict[int, str] = {}
        for e in ([epoch] if epoch is not None else stored[::-1]):
            try:
                out = self._read(e, target, fingerprint, allow_config_change)
            except _Corrupt as c:
                problems[e] = str(c)
                warnings.warn(f"checkpoint {self.path(e)} is corrupt and was skipped: {c}",
                              CorruptCheckpointWarning, stacklevel=2)
                continue
            if epoch is None:
                self._set_aside(problems)
            return out
        listing = "; ".join(f"{self.path(e)}: {p}" for e, p in problems.items())
        raise CheckpointError(f"EpochCheckpointer.restore: no usable checkpoint in {self.directory} "
                              f"({listing}). Move the folder away to start afresh.")

    def close(self) -> None:
        """Release orbax's resources."""
        self._ckptr.close()

    # -- verification, retention -------------------------------------------------------------

    def _load(self, path: str, what: str, **items):
        try:
            return self._ckptr.restore(path, args=ocp.args.Composite(**items))
        except Exception as e:  # orbax, tensorstore, JSON, OS errors: all mean "cannot read"
            msg = " ".join(str(e).split())[:300]
            raise _Corrupt(f"its {what} cannot be read ({type(e).__name__}: {msg})") from e

    def _read(self, epoch: int, target, fingerprint: dict | None, allow_config_change: bool) -> Restored:
        path = self.path(epoch)
        meta = self._load(path, "metadata", meta=ocp.args.JsonRestore())["meta"]
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise _Corrupt(f"its metadata is not a {FORMAT} record")
        body = {k: v for k, v in meta.items() if k != "meta_sha256"}
        if json_digest(body) != meta.get("meta_sha256") or meta.get("epoch") != epoch:
            raise _Corrupt("its metadata does not match its checksum")
        if fingerprint is not None:
            diff = fingerprint_diff(meta["fingerprint"], fingerprint)
            if diff and not allow_config_change:
                raise CheckpointConfigError(
                    f"checkpoint {path} was written for another configuration:\n  " + "\n  ".join(diff)
                    + "\nUse a new checkpoint folder, or pass allow_config_change=True to fine-tune from it.")
            if diff:
                warnings.warn(f"checkpoint {path}: configuration changed (allow_config_change=True): "
                              + "; ".join(diff), UserWarning, stacklevel=3)
        spec_diff = fingerprint_diff(meta["state_spec"], _state_spec(target))
        if spec_diff:
            raise CheckpointConfigError(f"checkpoint {path} holds a state that does not fit this model "
                                        f"and optimiser:\n  " + "\n  ".join(spec_diff[:20]))
        out = self._load(path, "arrays or history", state=ocp.args.StandardRestore(target),
                         history=ocp.args.JsonRestore())
        if tree_digest(out["state"]) != meta["state_sha256"]:
            raise _Corrupt("its arrays do not match their sha256 checksum")
        history = out["history"]
        if not isinstance(history, list) or json_digest(history) != meta["history_sha256"]:
            raise _Corrupt("its history does not match its sha256 checksum")
        return Restored(epoch, out["state"], list(history), meta["fingerprint"])

    def _set_aside(self, problems: dict[int, str]) -> None:
        """Move the corrupt checkpoints into ``directory/corrupt/`` (kept for inspection)."""
        for e in problems:
            dest = os.path.join(self.directory, "corrupt", f"{e}-{time.time_ns()}")
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            os.replace(self.path(e), dest)
            warnings.warn(f"corrupt checkpoint {self.path(e)} moved to {dest}", CorruptCheckpointWarning,
                          stacklevel=3)

    def _retain(self, newest_verified: int) -> None:
        if self.max_to_keep is None:
            return
        for e in self.epochs()[:-self.max_to_keep]:
            if e != newest_verified:
                doomed = self.path(e) + ".deleting"
                os.replace(self.path(e), doomed)  # atomic: a kill leaves no half-deleted checkpoint
                shutil.rmtree(doomed, ignore_errors=True)
