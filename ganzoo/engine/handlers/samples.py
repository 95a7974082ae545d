"""Sample grids from fixed inputs every ``train.sample_every`` iterations and at the end: a PNG
in ``samples/`` and an image in TensorBoard; a conditional generator gets one class per row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from ignite.engine import Engine, Events
from torch import nn

from ganzoo.engine.runlog import RunLog, write_failure
from ganzoo.engine.state import RunStatus
from ganzoo.sampling import GeneratorInput, generate, grid_inputs


@torch.no_grad()
def sample_images(generator: nn.Module, inputs: GeneratorInput) -> torch.Tensor:
    """Generator outputs for ``inputs`` in eval mode (batch-norm running statistics)."""
    was_training = generator.training
    generator.eval()
    try:
        device = next(generator.parameters()).device
        return generate(generator, inputs.to(device)).float().cpu()
    finally:
        generator.train(was_training)


def attach_sample_grid(
    engine: Engine,
    run_log: RunLog,
    status: RunStatus,
    sampling_generator: Callable[[], nn.Module],
    samples_dir: Path,
    count: int,
    seed: int,
    every: int,
) -> None:
    """Save a grid of ``count`` samples (inputs seeded ``seed``, never the global RNG)."""
    from torchvision.utils import make_grid, save_image

    inputs, row_length = grid_inputs(sampling_generator(), count, seed)
    last_saved: list[int] = []

    def save(engine: Engine) -> None:
        iteration = engine.state.iteration
        if not status.healthy or last_saved == [iteration]:
            return
        images = sample_images(sampling_generator(), inputs)
        if images.dim() != 4:  # non-image data (2-D points) has no grid
            return
        grid = make_grid(images, nrow=row_length, normalize=True, value_range=(-1, 1))
        path = samples_dir / f"iter_{iteration:07d}.png"
        try:
            samples_dir.mkdir(parents=True, exist_ok=True)
            save_image(grid, path)
        except OSError as exc:
            path.unlink(missing_ok=True)  # never leave a truncated PNG
            raise write_failure(path, exc, samples_dir.parent) from None
        run_log.image("samples", grid, iteration)
        last_saved[:] = [iteration]

    engine.add_event_handler(Events.ITERATION_COMPLETED(every=every) | Events.COMPLETED, save)
