"""Learning-rate schedules: ``train.lr_decay: linear`` takes each network's rate linearly from
its configured value to 0 over the run (the SNGAN / WGAN-GP baselines' schedule).

The rate is a function of the iteration alone (the lr for update i is ``lr * (1 - (i - 1) / T)``,
and 0 once all T updates are done), so a resumed run continues at exactly the right value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from ignite.engine import Engine, Events

SCHEDULES = ("none", "linear")


def linear_decay(base_lr: float, done: int, total: int) -> float:
    """The learning rate after ``done`` of ``total`` updates: base_lr * (1 - done / total)."""
    return base_lr * max(0.0, 1.0 - done / total)


def attach_lr_decay(
    engine: Engine,
    schedule: str,
    optimizers: Sequence[tuple[torch.optim.Optimizer, float]],
    total: Callable[[], int],
) -> None:
    """Set each optimizer's rate (from its base rate) before the run and after every update."""
    if schedule == "none":
        return
    if schedule != "linear":
        raise ValueError(f"unknown learning-rate schedule {schedule!r}; known: {SCHEDULES}")

    def apply(engine: Engine) -> None:
        done, end = engine.state.iteration, total()
        for optimizer, base_lr in optimizers:
            for group in optimizer.param_groups:
                group["lr"] = linear_decay(base_lr, done, end)

    engine.add_event_handler(Events.STARTED, apply)
    engine.add_event_handler(Events.ITERATION_COMPLETED, apply)
