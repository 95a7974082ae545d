"""Trained generators out of run directories, and samplers for the evaluation module."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo.config import ExperimentConfig, config_from_dict, data_shape
from ganzoo.errors import CheckpointError
from ganzoo.runs import load_checkpoint, load_latest_checkpoint, require_run_dir

logger = logging.getLogger(__name__)


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

    The same seed gives the same images, so two evaluations of one checkpoint agree.
    """
    device = torch.device(device)
    generator = generator.to(device).eval()
    noise_source = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def sample(n: int) -> torch.Tensor:
        noise = _draw_noise(noise_source, generator.latent_dim, n, batch_size)
        return torch.cat([_generate(generator, z, device) for z in noise])

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
    noise_source = torch.Generator().manual_seed(seed)
    noise = []
    for call_start in range(0, total, draw_size):  # one sample(n) call of the suite at a time
        call_size = min(draw_size, total - call_start)
        noise += _draw_noise(noise_source, generator.latent_dim, call_size, batch_size)
    mine = torch.cat(noise)[rows]
    with torch.no_grad():
        return torch.cat([_generate(generator, z, device) for z in mine.split(batch_size)])


def _draw_noise(
    noise_source: torch.Generator, latent_dim: int, n: int, batch_size: int
) -> list[torch.Tensor]:
    """The noise one ``sample(n)`` call draws: ``n`` vectors in batches of ``batch_size``."""
    return [
        torch.randn(min(batch_size, n - start), latent_dim, generator=noise_source)
        for start in range(0, n, batch_size)
    ]


def _generate(generator: nn.Module, z: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 images from noise ``z``."""
    images = generator(z.to(device)).float().cpu()
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


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
