"""Stop a training run cleanly on Ctrl-C or SIGTERM.

The first SIGINT or SIGTERM asks the engine to stop after the current iteration; the engine then
fires ``COMPLETED``, whose checkpoint handler saves the current iteration, and the run raises
:class:`RunInterrupted`, which the CLI turns into a message saying how to resume and the exit
code of the signal (130 for SIGINT, 143 for SIGTERM, as shells report them). A second Ctrl-C more
than a second later aborts at once, without a checkpoint; one within the second is the same
request (a launcher forwarding the terminal's signal) and says so. While the block runs, ignite's
"terminating due to exception" log lines are dropped: the exception itself reaches the CLI, which
prints it once (an interrupt's would be an empty line).

Under torch.distributed every rank must stop at the same iteration (or the others would wait in
a collective for ever), so there the stop request is shared with an all-reduce after each
iteration instead of stopping the engine from the handler.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import torch
from ignite.engine import Engine, Events

from ganzoo.errors import GanzooError

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# A repeat of the signal within this many seconds is the same request (a launcher forwarding
# the signal that the terminal already sent to the whole process group), not an abort.
REPEAT_GRACE_S = 1.0


def exit_code(signum: int) -> int:
    """The conventional exit status of a process stopped by ``signum`` (128 + its number)."""
    return 128 + int(signum)


class RunInterrupted(GanzooError):
    """Training stopped on a signal after writing a checkpoint; ``exit_code`` is 128 + signum."""

    def __init__(self, signum: int, run_dir: Path, iteration: int) -> None:
        self.signum = int(signum)
        self.exit_code = exit_code(signum)
        name = signal.Signals(self.signum).name
        super().__init__(
            f"{name} received: training stopped after iteration {iteration} and its checkpoint "
            f"is in {Path(run_dir) / 'checkpoints'}. Continue with: ganzoo train --resume {run_dir}"
        )


class _DropTerminationLines(logging.Filter):
    """Drops ignite's "... terminating due to exception: MESSAGE" records: the exception goes on
    to the caller, which reports it (an interrupt would log an empty message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "terminating due to exception" not in record.getMessage()


class StopOnSignal:
    """Context manager asking ``engine`` to stop after the current iteration on SIGINT/SIGTERM.

    ``distributed=True`` also attaches a handler that all-reduces the request after every
    iteration so that every rank stops together (all ranks must use it). ``received`` is the
    signal number that stopped the run, or None.
    """

    def __init__(self, engine: Engine, distributed: bool = False) -> None:
        self.engine = engine
        self.distributed = distributed
        self.received: int | None = None
        self._local: int | None = None
        self._first_at = 0.0
        self._previous: dict[int, Any] = {}
        self._quiet = _DropTerminationLines()
        self._engine_logger: logging.Logger | None = None
        if distributed:
            engine.add_event_handler(Events.ITERATION_COMPLETED, self._sync)

    def __enter__(self) -> StopOnSignal:
        self._engine_logger = getattr(self.engine, "logger", None)
        if self._engine_logger is not None:
            self._engine_logger.addFilter(self._quiet)
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        if self._engine_logger is not None:
            self._engine_logger.removeFilter(self._quiet)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._local is None:
            self._local = signum
            self._first_at = time.monotonic()
            logger.warning(
                "%s received: stopping after this iteration and writing a checkpoint "
                "(press Ctrl-C again to abort without one)",
                signal.Signals(signum).name,
            )
            if not self.distributed:
                self.received = signum
                self.engine.terminate()
        elif signum == signal.SIGINT and time.monotonic() - self._first_at > REPEAT_GRACE_S:
            raise KeyboardInterrupt
        else:
            logger.warning(
                "%s received again within %.0f s: taken as the same request, still stopping "
                "after this iteration (a Ctrl-C after that aborts without a checkpoint)",
                signal.Signals(signum).name,
                REPEAT_GRACE_S,
            )

    def _sync(self, engine: Engine) -> None:
        import ignite.distributed as idist

        flag = idist.all_reduce(torch.tensor([self._local or 0], device=idist.device()), "MAX")
        signum = int(flag.item())
        if signum:
            self.received = signum
            engine.terminate()
