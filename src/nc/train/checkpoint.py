"""Orbax checkpoints of the whole train state, for exact resumption.

A checkpoint holds params, optimizer state and step; the data order is a function of the step
(``nc.train.data_order``), so restoring a checkpoint restores the run exactly. Orbax writes each
step to a temporary directory and renames it when complete, so a crash never leaves a partial one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orbax.checkpoint as ocp


class Checkpointer:
    """Save / restore train states under ``directory`` (keeps the newest ``max_to_keep``)."""

    def __init__(self, directory: str | Path, max_to_keep: int = 2):
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True, enable_async_checkpointing=False)
        self._manager = ocp.CheckpointManager(Path(directory).absolute(), options=options)

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def save(self, step: int, state: Any) -> None:
        self._manager.save(step, args=ocp.args.StandardSave(state), force=True)
        self._manager.wait_until_finished()

    def restore(self, step: int, abstract_state: Any) -> Any:
        """Restore ``step`` into the structure, dtypes and shardings of ``abstract_state``."""
        return self._manager.restore(step, args=ocp.args.StandardRestore(abstract_state))

    def close(self) -> None:
        self._manager.close()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
