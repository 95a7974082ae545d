"""The grid runner: an experiment's cells (factors x seeds) that the store lacks, run on an
executor, each claimed in the store while it trains and recorded by the process that trained it;
a failure is stored, never stops the others; an interrupt stores nothing (docs/experiments.md).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.engine.result import INTERRUPTED, RunResult
from ganzoo.errors import GanzooError
from ganzoo.experiments.executors import Executor, InlineExecutor, Lost
from ganzoo.experiments.store import FAILED, RecordStore

logger = logging.getLogger(__name__)

RunFunction = Callable[[Any, Path], Mapping[str, Any]]  # (payload, work_dir) -> record
Progress = Callable[[str], None]
TRAINED, REUSED, BUSY = "trained", "reused", "busy"


@dataclass(frozen=True)
class Cell:
    """One run of a grid: its store ``group`` (a task, a study), the ``key`` its record is
    found by, a ``label`` for people and the ``payload`` the run function takes."""

    group: str
    key: Mapping[str, Any]
    label: str
    payload: Any


@dataclass
class RunSummary:
    """Cells trained here, reused (from the store or a concurrent runner), failed (of trained)."""

    trained: int = 0
    reused: int = 0
    failed: int = 0


def grid(factors: Mapping[str, Iterable[Any]], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """Every combination of the factors' levels, seed by seed (so an experiment stopped early
    still has complete sets per seed): ``[{factor: level, ..., "seed": s}, ...]``."""
    return [
        {**dict(zip(factors, levels)), "seed": seed}
        for seed in seeds
        for levels in itertools.product(*factors.values())
    ]


def failed_record(error: str, seconds: float = 0.0) -> dict[str, Any]:
    return {"status": FAILED, "error": error, "seconds": round(seconds, 3)}


def is_done(record: Mapping[str, Any] | None, retry_failed: bool) -> bool:
    """Whether a cell with this record needs no run (with ``retry_failed``: a failed one does)."""
    return record is not None and not (retry_failed and record["status"] == FAILED)


def require_finished(result: RunResult) -> RunResult:
    """A cell's :func:`ganzoo.train` result if the run is complete; an interrupted one raises
    KeyboardInterrupt (the cell is not stored and resumes), another stop a GanzooError."""
    if result.status == INTERRUPTED:
        raise KeyboardInterrupt(result.detail or "the training run was interrupted")
    if not result.ok:
        raise GanzooError(f"the training run {result.status}: {result.detail}")
    return result


def run_claimed(
    store_root: Path, cell: Cell, run: RunFunction, retry_failed: bool
) -> tuple[str, dict[str, Any] | None]:
    """In a worker: claim ``cell``, run it unless recorded by now, store its record (failed for
    any Exception; KeyboardInterrupt stores nothing). (TRAINED|REUSED, record) or (BUSY, None)."""
    store = RecordStore(store_root)
    with store.claim(cell.group, cell.key) as mine:
        if not mine:
            return BUSY, None
        existing = store.get(cell.group, cell.key)
        if is_done(existing, retry_failed):
            return REUSED, existing
        start = time.perf_counter()
        try:
            record = dict(run(cell.payload, store.work_dir(cell.group, cell.key)))
        except Exception as exc:
            logger.debug("run failed", exc_info=True)
            error = f"{type(exc).__name__}: {exc}".strip()
            record = failed_record(error, time.perf_counter() - start)
        record.setdefault("seconds", round(time.perf_counter() - start, 3))
        store.put(cell.group, cell.key, record)
        return TRAINED, record


def run_grid(
    cells: Sequence[Cell],
    store: RecordStore,
    run: RunFunction,
    executor: Executor | None = None,
    retry_failed: bool = False,
    progress: Progress | None = None,
) -> RunSummary:
    """Run every cell the store lacks (with ``retry_failed``, the failed ones again) on
    ``executor`` (default: here, one after the other)."""
    say = progress or (lambda message: logger.info("%s", message))
    executor = executor or InlineExecutor()
    todo = [cell for cell in cells if not is_done(store.get(cell.group, cell.key), retry_failed)]
    summary = RunSummary(reused=len(cells) - len(todo))
    say(f"{len(todo)} cell(s) to run, {summary.reused} reused from {store.root}")
    while todo:
        busy = []
        calls = [(store.root, cell, run, retry_failed) for cell in todo]
        with contextlib.closing(executor.map_unordered(run_claimed, calls)) as results:
            for index, outcome in results:
                cell = todo[index]
                if isinstance(outcome, Lost):
                    outcome = (TRAINED, failed_record(outcome.reason))
                    store.put(cell.group, cell.key, outcome[1])
                status, record = outcome
                if status == BUSY:
                    busy.append(cell)
                    continue
                if status == REUSED:
                    summary.reused += 1
                    text = "reused"
                else:
                    summary.trained += 1
                    summary.failed += record["status"] == FAILED
                    text = "failed: " + record["error"] if record["status"] == FAILED else "ok"
                    text += f" ({record.get('seconds', 0):.0f} s)"
                say(f"[{summary.trained + summary.reused}/{len(cells)}] {cell.label}: {text}")
        todo = _wait_for_others(busy, store, say)
        summary.reused += len(busy) - len(todo)
    return summary


def _wait_for_others(busy: list[Cell], store: RecordStore, say: Progress) -> list[Cell]:
    """Wait until the runners holding ``busy`` cells let go; the cells they left without a
    record (that runner was stopped) come back to be run here."""
    if busy:
        say(f"waiting for {len(busy)} cell(s) another run of this store is training")
    missing = []
    for cell in busy:
        with store.claim(cell.group, cell.key, wait=True):
            if store.get(cell.group, cell.key) is None:
                missing.append(cell)
    return missing
