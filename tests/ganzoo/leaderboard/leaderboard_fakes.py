"""Fast fake leaderboard tasks with known answers, shared by the leaderboard tests (a uniquely
named module, so worker processes of a parallel run can import it by name)."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import torch

from evaluation.metrics import METRICS, ResultKey
from evaluation.metrics import Metric as RegisteredMetric
from ganzoo.activations import create_activation
from ganzoo.leaderboard.tasks import Cell, Metric, Task

CALLS: list[tuple[str, str, int]] = []  # (task, activation, seed) of every in-process run
# Set by tests that run leaderboards in other processes (or through the environment, which
# spawned workers inherit): each run appends "task activation seed pid" here and takes SECONDS,
# so that concurrent runs overlap.
LOG: str | None = os.environ.get("GANZOO_FAKE_LOG")
SECONDS = float(os.environ.get("GANZOO_FAKE_SECONDS", "0"))


def _scored_by_the_task(inputs):
    raise AssertionError("the fake tasks compute their scores themselves")


# The leaderboard reads every direction from the metric registry: the fake scores are declared
# there once, "score" better higher and "extra" better lower.
for _name, _direction in (("score", "higher"), ("extra", "lower")):
    if _name not in METRICS:
        METRICS.register(
            _name,
            RegisteredMetric("generator", (ResultKey(_name, _direction),), _scored_by_the_task),
        )


def score(activation: str, kwargs: dict, seed: int) -> float:
    """The activation's value at x = -1, plus 0.001 per seed: sigmoid (0.27) > relu (0) >
    leaky_relu (-0.2) > elu (-0.63) > tanh (-0.76) > identity (-1)."""
    module = create_activation(activation, **kwargs)
    return float(module(torch.tensor([-1.0])).item()) + 0.001 * seed


def run_fake(task: Task, cell: Cell, work_dir: Path) -> dict:
    """A curve that climbs linearly to the activation's score over the budget."""
    CALLS.append((task.name, cell.activation, cell.seed))
    if LOG is not None:
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(f"{task.name} {cell.activation} {cell.seed} {os.getpid()}\n")
        time.sleep(SECONDS)
    final = score(cell.activation, dict(cell.kwargs), cell.seed)
    if cell.activation == "nan_maker":
        final = math.nan
    curve = [
        {"iteration": i, "score": final * i / task.budget, "extra": float(cell.seed)}
        for i in task.eval_points
    ]
    return {"curve": curve}


def fake_task(name: str = "fake", version: int = 1, budget: int = 100) -> Task:
    return Task(
        name=name,
        version=version,
        description="a fake task for tests",
        budget=budget,
        eval_points=(budget // 4, budget // 2, budget),
        metrics=(Metric("score", "score"), Metric("extra", "extra")),
        run=run_fake,
        settings={"kind": "fake"},
    )


def run_interrupted_at_tanh(task: Task, cell: Cell, work_dir: Path) -> dict:
    """Like :func:`run_fake`, but Ctrl-C arrives while tanh trains."""
    if cell.activation == "tanh":
        raise KeyboardInterrupt
    return run_fake(task, cell, work_dir)


def run_dying_at_tanh(task: Task, cell: Cell, work_dir: Path) -> dict:
    """Like :func:`run_fake`, but the worker process dies outright (as if killed) on tanh."""
    if cell.activation == "tanh":
        import os

        os._exit(9)
    return run_fake(task, cell, work_dir)
