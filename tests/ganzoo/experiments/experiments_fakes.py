"""Fake runs for the experiment tests (a uniquely named module, so worker processes, submitit
jobs and the separate runners of the concurrency test import it by name).

A fake run sleeps ``seconds``, appends "<label> <pid>" to the calls log named in its payload
(O_APPEND: whole lines from many processes) and returns a curve whose final score is
``seed + 10 * index``: known answers that show which cell a record belongs to.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ganzoo.experiments import Cell, RecordStore, make_executor, run_grid


def run_fake(payload: dict, work_dir: Path) -> dict:
    with open(payload["log"], "a", encoding="utf-8") as log:
        log.write(f"{payload['label']} {os.getpid()}\n")
    time.sleep(payload.get("seconds", 0.0))
    deadline = time.monotonic() + 60  # wait for the other workers to start (busy machines)
    while _pids(payload["log"]) < payload.get("peers", 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    if payload.get("fail"):
        raise ValueError(f"fake failure in {payload['label']}")
    score = payload["seed"] + 10 * payload["index"]
    curve = [{"iteration": i, "score": score * i / 100} for i in (50, 100)]
    return {"status": "ok", "curve": curve, "final": curve[-1]}


def _pids(log: str) -> int:
    """How many distinct processes have logged a call."""
    with open(log, encoding="utf-8") as lines:
        return len({line.split()[1] for line in lines})


def fake_cells(
    log: Path, count: int, seconds: float = 0.0, fail: tuple = (), peers: int = 1
) -> list[Cell]:
    """``count`` cells (index 0.., seeds 0 and 1) in group "fake"; with ``peers``, each call
    waits until that many processes have logged one."""
    cells = []
    for number in range(count):
        index, seed = divmod(number, 2)
        label = f"cell{index}-seed{seed}"
        payload = {"log": str(log), "label": label, "index": index, "seed": seed}
        payload.update(seconds=seconds, fail=label in fail, peers=peers)
        cells.append(Cell("fake", {"index": index, "seed": seed}, label, payload))
    return cells


def run_board(store: str, log: str, count: int, seconds: float, jobs: int = 1) -> tuple:
    """One runner over ``count`` fake cells (the concurrency test starts several at once)."""
    summary = run_grid(
        fake_cells(Path(log), count, seconds),
        RecordStore(store),
        run_fake,
        executor=make_executor("local", jobs=jobs),
    )
    return summary.trained, summary.reused


def calls(log: Path) -> list[str]:
    """The labels of every fake run so far, in order."""
    if not log.exists():
        return []
    return [line.split()[0] for line in log.read_text().splitlines()]
