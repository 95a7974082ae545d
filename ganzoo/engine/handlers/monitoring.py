"""What a running training shows: running averages, progress, the NaN guard, and the scalars
(losses, the loss's statistics, learning rates, gradient norms, activation parameters) written
to ``metrics.jsonl`` and TensorBoard every ``train.log_every`` iterations and at the last one.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import ignite.distributed as idist
import torch
from ignite.engine import Engine, Events
from torch import nn

from ganzoo.architectures import activation_layers
from ganzoo.engine.runlog import RunLog
from ganzoo.engine.state import RunStatus

logger = logging.getLogger(__name__)


def attach_running_averages(engine: Engine, keys: Sequence[str], alpha: float = 0.98) -> None:
    """``avg_<key>``: an exponential running average (``alpha`` 0.98) of each logged key.

    Ignite's RunningAverage reads each value to the host every iteration; this one keeps the
    averages on the device as float64 0-d tensors (the same arithmetic as Python floats), read
    only by whoever logs them. Reset when a run (re)starts, as Ignite's is.
    """
    averages: dict[str, torch.Tensor | float] = {}
    world_size = idist.get_world_size()

    def reset(engine: Engine) -> None:
        averages.clear()

    def update(engine: Engine) -> None:
        for key in keys:
            value = engine.state.output[key]
            value = value.detach().double() if torch.is_tensor(value) else float(value)
            if world_size > 1:
                value = idist.all_reduce(value) / world_size
            if key in averages:
                averages[key] = averages[key] * alpha + (1.0 - alpha) * value
            else:
                averages[key] = value
            engine.state.metrics[f"avg_{key}"] = averages[key]

    engine.add_event_handler(Events.STARTED, reset)
    engine.add_event_handler(Events.ITERATION_COMPLETED, update)


def attach_nan_guard(
    engine: Engine,
    status: RunStatus,
    keys: Sequence[str],
    read_at: Callable[[int], bool] | None = None,
) -> None:
    """Stop at a NaN/inf in any of ``keys`` and remember where; nothing is saved after it.

    The check itself stays on the device: the first bad iteration is kept there and read only
    on the iterations ``read_at`` accepts (those that log, sample, evaluate or save) and at
    the end, so training never waits for the device in between; None reads every iteration.
    """
    first_bad: list[torch.Tensor] = []  # on the device: the first bad iteration, or -1

    def check(engine: Engine) -> None:
        iteration = engine.state.iteration
        values = [engine.state.output[k] for k in keys]
        if not all(torch.is_tensor(v) for v in values):
            values = [torch.as_tensor(float(v)) for v in values]
        finite = torch.stack([v.detach().double() for v in values]).isfinite().all()
        if not first_bad:
            first_bad.append(torch.full((), -1, dtype=torch.int64, device=finite.device))
        now = torch.full_like(first_bad[0], iteration)
        first_bad[0] = torch.where(finite | (first_bad[0] >= 0), first_bad[0], now)
        if read_at is None or read_at(iteration):
            read(engine)

    def read(engine: Engine) -> None:
        if not first_bad:
            return
        flag = first_bad[0]
        if idist.get_world_size() > 1:  # every rank stops together, at the earliest
            flag = torch.where(flag < 0, torch.full_like(flag, 2**62), flag).to(idist.device())
            flag = idist.all_reduce(flag, "MIN")
            flag = torch.where(flag == 2**62, torch.full_like(flag, -1), flag)
        bad_at = int(flag)
        if bad_at >= 0 and status.nan_iteration is None:
            status.nan_iteration = bad_at
            logger.error("non-finite loss at iteration %d: %s", bad_at, engine.state.output)
            engine.terminate()

    engine.add_event_handler(Events.ITERATION_COMPLETED, check)
    engine.add_event_handler(Events.COMPLETED, read)


def attach_progress(
    engine: Engine,
    total: Callable[[], int],
    keys: Sequence[str],
    closers: list[Callable[[], None]],
    terminal: bool | None = None,
) -> None:
    """On a terminal, a bar counting iterations; elsewhere (CI, a pipe, nohup) a compact log
    line about every 5% of the run and at its end, instead of a bar's fragments."""
    if terminal is None:
        terminal = sys.stderr.isatty()
    if terminal:
        _attach_bar(engine, total, keys, closers)
    else:
        _attach_progress_lines(engine, total, keys)


def _averages(engine: Engine, keys: Sequence[str]) -> str:
    metrics = engine.state.metrics
    return ", ".join(f"{k} {metrics[f'avg_{k}']:.4g}" for k in keys if f"avg_{k}" in metrics)


def _attach_bar(
    engine: Engine,
    total: Callable[[], int],
    keys: Sequence[str],
    closers: list[Callable[[], None]],
) -> None:
    from tqdm.auto import tqdm

    bars: list[Any] = []
    shown = [0.0]  # when the averages were last shown: reading them waits for the device

    def close(*_: Any) -> None:
        while bars:
            bars.pop().close()

    def update(engine: Engine) -> None:
        if not bars:
            start = engine.state.iteration - 1
            bars.append(tqdm(total=total(), initial=start, desc="iterations", unit="it"))
        bars[0].update(1)
        now = time.perf_counter()
        if now - shown[0] >= 1.0:
            shown[0] = now
            bars[0].set_postfix_str(_averages(engine, keys), refresh=False)

    engine.add_event_handler(Events.ITERATION_COMPLETED, update)
    engine.add_event_handler(Events.COMPLETED, close)  # before the run directory is printed
    closers.append(close)


def _attach_progress_lines(engine: Engine, total: Callable[[], int], keys: Sequence[str]) -> None:
    started: list[tuple[float, int]] = []

    def log(engine: Engine) -> None:
        iteration, end = engine.state.iteration, total()
        if not started:
            started.append((time.perf_counter(), iteration - 1))
        every = max(1, end // 20)
        if iteration % every and iteration != end:
            return
        since, first = started[0]
        rate = (iteration - first) / max(time.perf_counter() - since, 1e-9)
        logger.info(
            "iteration %d/%d (%.0f%%), %.2f it/s: %s",
            iteration,
            end,
            100 * iteration / max(end, 1),
            rate,
            _averages(engine, keys),
        )

    engine.add_event_handler(Events.ITERATION_COMPLETED, log)


def activation_parameters(model: nn.Module, prefix: str) -> dict[str, torch.Tensor]:
    """Every learnable activation parameter, named ``prefix/<layer>/<param>``."""
    found = {}
    for layer_name, module in activation_layers(model):
        for param_name, param in module.named_parameters():
            found[f"{prefix}/{layer_name}/{param_name}"] = param.detach()
    return found


def attach_scalar_log(
    engine: Engine,
    run_log: RunLog,
    networks: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    every: int,
) -> None:
    """Every ``every`` iterations and at the last one: a metrics.jsonl line and TensorBoard
    scalars of the step's output, running averages, learning rates (``lr_<network>``) and
    activation parameters (scalars; histograms when per-channel)."""

    def scalars(engine: Engine) -> dict[str, float]:
        values = {k: float(v) for k, v in engine.state.output.items()}
        values.update({k: float(v) for k, v in engine.state.metrics.items()})
        for suffix, optimizer in optimizers.items():
            values[f"lr_{suffix}"] = optimizer.param_groups[0]["lr"]
        for prefix, model in networks.items():
            for name, param in activation_parameters(model, prefix).items():
                if param.numel() == 1:
                    values[name] = float(param)
        return values

    last_logged: list[int] = []  # the end may fall on a logged iteration: log it once

    def log(engine: Engine) -> None:
        iteration = engine.state.iteration
        if last_logged == [iteration] or engine.state.output is None:
            return
        values = scalars(engine)
        run_log.append({"iteration": iteration, "epoch": engine.state.epoch, **values})
        run_log.scalars(iteration, values)
        for prefix, model in networks.items():
            for name, param in activation_parameters(model, prefix).items():
                if param.numel() > 1:
                    run_log.histogram(name, param.cpu(), iteration)
        last_logged[:] = [iteration]

    engine.add_event_handler(Events.ITERATION_COMPLETED(every=every) | Events.COMPLETED, log)
