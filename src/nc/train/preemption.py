"""When a training run saves a checkpoint besides its schedule: on a stop signal, on a wall-clock cadence.

A cluster ends a job at its time limit with SIGTERM (``sbatch --signal=TERM@<s>`` sends it earlier, as a
warning) and SIGKILL shortly after; a lost node gives no warning at all. ``StopSignals`` turns SIGTERM,
SIGINT and SIGUSR1 into a flag that the loop checks after each step, so the run checkpoints and exits
(``TrainingStopped``) instead of losing everything since its last checkpoint; ``CheckpointClock`` bounds
what a SIGKILL can lose to ``checkpoint_every_min`` minutes. Neither changes the trajectory: a
checkpoint is a copy of the state, and the data order is a function of the step.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)


class TrainingStopped(RuntimeError):
    """The run stopped on a signal after checkpointing ``step``; running it again resumes there."""

    def __init__(self, step: int, signum: int):
        self.step, self.signum = step, signum
        super().__init__(
            f"stopped by {signal.Signals(signum).name} after step {step}: checkpoint saved, "
            "run the job again to resume from it"
        )


class StopSignals:
    """Context manager: while active, a stop signal sets ``received`` (the signal number) instead of
    ending the process. Outside the main thread (where Python cannot install handlers) it does nothing."""

    def __init__(self, signals=STOP_SIGNALS):
        self.signals = tuple(signals)
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:
        self.received = signum

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in self.signals}
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}


class CheckpointClock:
    """Due every ``every_min`` minutes of wall time since the last checkpoint (never when 0)."""

    def __init__(self, every_min: float, clock=time.monotonic):
        if every_min < 0:
            raise ValueError(f"checkpoint_every_min must be >= 0, got {every_min!r}")
        self.every_s = 60.0 * every_min
        self._clock = clock
        self._last = clock()

    def due(self) -> bool:
        return self.every_s > 0 and self._clock() - self._last >= self.every_s

    def reset(self) -> None:
        self._last = self._clock()
