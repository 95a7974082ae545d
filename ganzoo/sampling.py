"""The generator's inputs, drawn in one place; trained generators out of run directories; and
samplers for the evaluation module.

:func:`draw_inputs` is the only place noise (and, for class-conditional generators, labels) is
drawn: training steps, sample grids, evaluation and the mode-collapse benchmarks all call it, so
a conditional model gets labels everywhere and the random streams stay what they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from ganzoo.architectures.protocol import num_classes_of
from ganzoo.config import ExperimentConfig, config_from_dict, data_shape
from ganzoo.data.transforms import from_unit_range
from ganzoo.errors import CheckpointError
from ganzoo.runs import load_checkpoint, load_latest_checkpoint, require_run_dir

logger = logging.getLogger(__name__)


class GeneratorInput(NamedTuple):
    """What a generator is called with: noise ``z`` (N, latent_dim) and, when it is
    class-conditional, class indices ``y`` (N,) (None otherwise)."""

    z: torch.Tensor
    y: torch.Tensor | None = None

    def slice(self, start: int, stop: int) -> GeneratorInput:
        """Rows ``start:stop`` (a process's share of a global batch)."""
        return GeneratorInput(self.z[start:stop], None if self.y is None else self.y[start:stop])

    def to(self, device: torch.device | str) -> GeneratorInput:
        return GeneratorInput(self.z.to(device), None if self.y is None else self.y.to(device))


def draw_inputs(
    n: int,
    latent_dim: int,
    num_classes: int = 0,
    *,
    source: torch.Generator | None = None,
    device: torch.device | str | None = None,
    labels: torch.Tensor | None = None,
) -> GeneratorInput:
    """``n`` standard-normal noise vectors, then (conditional only) ``n`` labels uniform over
    ``num_classes``, from ``source`` (None: the global RNG of ``device``). ``labels`` fixes the
    labels instead of drawing them (e.g. one row per class in a grid).

    The noise is drawn first and exactly as ``torch.randn(n, latent_dim)`` would, so an
    unconditional model's random stream is unchanged by the labels' existence.
    """
    z = torch.randn(n, latent_dim, generator=source, device=device)
    if not num_classes:
        return GeneratorInput(z)
    if labels is None:
        labels = torch.randint(num_classes, (n,), generator=source, device=device)
    return GeneratorInput(z, labels.to(z.device))


def inputs_for(
    generator: nn.Module,
    n: int,
    *,
    source: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> GeneratorInput:
    """:func:`draw_inputs` sized for ``generator`` (its latent_dim and num_classes)."""
    module = getattr(generator, "module", generator)
    return draw_inputs(n, module.latent_dim, num_classes_of(module), source=source, device=device)


def generate(generator: nn.Module, inputs: GeneratorInput) -> torch.Tensor:
    """``generator(z)``, or ``generator(z, y)`` when the inputs carry labels."""
    if inputs.y is None:
        return generator(inputs.z)
    return generator(inputs.z, inputs.y)


def grid_inputs(generator: nn.Module, count: int, seed: int) -> tuple[GeneratorInput, int]:
    """Fixed inputs for a sample grid and its row length: ``count`` images from noise seeded
    ``seed`` (never the global RNG); a conditional generator gets one class per row (as many
    columns as fit, at least one)."""
    module = getattr(generator, "module", generator)
    source = torch.Generator().manual_seed(seed)
    classes = num_classes_of(module)
    if not classes:
        return draw_inputs(count, module.latent_dim, source=source), max(1, int(count**0.5))
    per_class = max(1, count // classes)
    labels = torch.arange(classes).repeat_interleave(per_class)
    inputs = draw_inputs(len(labels), module.latent_dim, classes, source=source, labels=labels)
    return inputs, per_class


@dataclass
class LoadedGenerator:
    """A generator restored from a checkpoint, with the config and iteration it came from."""

    generator: nn.Module
    config: ExperimentConfig
    checkpoint: Path
    iteration: int


def load_generator(
    run_dir: str | Path, checkpoint: str | Path | None = None, prefer_ema: bool = True
) -> LoadedGenerator:
    """The generator of ``run_dir`` from ``checkpoint`` (default: the newest that loads).

    When the checkpoint holds an EMA generator (``train.ema``) and ``prefer_ema``, that is the
    one returned, since it is what the run samples with.
    """
    run_dir = require_run_dir(run_dir)
    if checkpoint is None:
        path, data = load_latest_checkpoint(run_dir)
    else:
        path = Path(checkpoint)
        if not path.is_absolute() and not path.exists():
            path = run_dir / "checkpoints" / path
        data = load_checkpoint(path)
    config = config_from_dict(data["config"], str(path))
    generator = build_generator(config)
    state = data.get("generator_ema") if prefer_ema and "generator_ema" in data else None
    state = state if state is not None else data["generator"]
    try:
        generator.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(
            f"the generator in {path} does not fit its own config "
            f"({str(exc).splitlines()[0]}); the checkpoint is damaged or was edited"
        ) from None
    generator.eval()
    iteration = int(data.get("trainer", {}).get("iteration", 0))
    return LoadedGenerator(generator, config, path, iteration)


def build_generator(config: ExperimentConfig) -> nn.Module:
    """An untrained generator exactly as ``config`` describes it."""
    from ganzoo.architectures import get_architecture
    from ganzoo.data import dataset_info

    shape = data_shape(config, dataset_info(config.data.name))
    return get_architecture(config.architecture).generator(data_shape=shape, **config.generator)


def make_sampler(
    generator: nn.Module,
    seed: int = 0,
    batch_size: int = 100,
    device: torch.device | str = "cpu",
) -> Callable[[int], torch.Tensor]:
    """``sample(n) -> uint8 images (n, C, H, W)``, from seeded noise, in eval mode.

    The same seed gives the same images, so two evaluations of one checkpoint agree. For a
    conditional generator ``sample.labels`` holds the classes of every image drawn so far, in
    order (uniform, drawn with the noise); it is None otherwise.
    """
    device = torch.device(device)
    generator = generator.to(device).eval()
    noise_source = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def sample(n: int) -> torch.Tensor:
        inputs = _draw_batches(noise_source, generator, n, batch_size)
        if inputs[0].y is not None:
            drawn = [] if sample.labels is None else [sample.labels]
            sample.labels = torch.cat(drawn + [batch.y for batch in inputs])
        return torch.cat([_generate(generator, batch, device) for batch in inputs])

    sample.labels = None
    return sample


def sample_rows(
    generator: nn.Module,
    total: int,
    rows: torch.Tensor,
    *,
    seed: int = 0,
    draw_size: int,
    batch_size: int = 100,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Images number ``rows`` (indices below ``total``) of the ``total`` that
    ``make_sampler(generator, seed, batch_size)`` gives when called for ``draw_size`` images at a
    time, as an evaluation suite draws them.

    All ``total`` noise vectors are drawn (cheap) so that each row gets exactly its own; only
    the chosen rows go through the generator. Several processes can so split one evaluation's
    samples and together produce the very images one process would.
    """
    rows = torch.as_tensor(rows, dtype=torch.long)
    if rows.numel() == 0 or rows.min() < 0 or rows.max() >= total:
        raise ValueError(f"rows must be a non-empty set of indices below {total}")
    device = torch.device(device)
    generator = generator.to(device).eval()
    every = _draw_evaluation_inputs(generator, total, seed, draw_size, batch_size)
    z = every.z[rows]
    y = None if every.y is None else every.y[rows]
    with torch.no_grad():
        return torch.cat(
            [
                _generate(generator, GeneratorInput(z, y).slice(start, start + batch_size), device)
                for start in range(0, len(z), batch_size)
            ]
        )


def sample_labels(
    generator: nn.Module, total: int, *, seed: int = 0, draw_size: int, batch_size: int = 100
) -> torch.Tensor | None:
    """The classes of the ``total`` images :func:`sample_rows` gives (None: unconditional)."""
    return _draw_evaluation_inputs(generator, total, seed, draw_size, batch_size).y


def _draw_evaluation_inputs(
    generator: nn.Module, total: int, seed: int, draw_size: int, batch_size: int
) -> GeneratorInput:
    """All ``total`` inputs a sampler seeded ``seed`` draws when called for ``draw_size`` images
    at a time (as an evaluation suite calls it), in order."""
    noise_source = torch.Generator().manual_seed(seed)
    drawn: list[GeneratorInput] = []
    for call_start in range(0, total, draw_size):  # one sample(n) call of the suite at a time
        call_size = min(draw_size, total - call_start)
        drawn += _draw_batches(noise_source, generator, call_size, batch_size)
    z = torch.cat([d.z for d in drawn])
    return GeneratorInput(z, None if drawn[0].y is None else torch.cat([d.y for d in drawn]))


def _draw_batches(
    noise_source: torch.Generator, generator: nn.Module, n: int, batch_size: int
) -> list[GeneratorInput]:
    """The inputs one ``sample(n)`` call draws: ``n`` of them in batches of ``batch_size``."""
    return [
        inputs_for(generator, min(batch_size, n - start), source=noise_source)
        for start in range(0, n, batch_size)
    ]


def _generate(generator: nn.Module, inputs: GeneratorInput, device: torch.device) -> torch.Tensor:
    """uint8 images from ``inputs``."""
    return from_unit_range(generate(generator, inputs.to(device)).float().cpu())


def describe(loaded: LoadedGenerator) -> dict[str, Any]:
    """Where the samples came from, for result files."""
    return {
        "checkpoint": str(loaded.checkpoint),
        "iteration": loaded.iteration,
        "architecture": loaded.config.architecture,
        "generator_activation": loaded.config.generator.get("activation"),
        "discriminator_activation": loaded.config.discriminator.get("activation"),
        "seed": loaded.config.seed,
    }
