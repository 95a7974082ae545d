"""The Stacked-MNIST mode-collapse benchmark: a small DCGAN trained on Stacked MNIST (the
dataset ``stacked_mnist`` of :mod:`ganzoo.data.stacked_mnist`, drawn fresh every batch), its
modes counted with the project's digit classifier on each channel
(:mod:`evaluation.stacked_modes`) over 26,000 samples, as PacGAN and VEEGAN count.

:func:`run_stacked_mnist_benchmark` is ``ganzoo bench mode-collapse --task stacked_mnist`` (a
short run: see :class:`StackedSettings`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from evaluation.stacked_modes import (
    ClassifyFn,
    StackedMetrics,
    classify_channels,
    stacked_mode_metrics,
)
from ganzoo.data.stacked_mnist import stack_digits
from ganzoo.data.transforms import from_unit_range


def digit_classifier(cache_dir: str | os.PathLike | None = None) -> tuple[ClassifyFn, float]:
    """The project's cached digit classifier (trained on mnist5k on first use) as a
    ``classify`` function for uint8 channels, and its held-out accuracy."""
    from evaluation.modes import classify_digits
    from ganzoo.digit_classifier import mnist5k_classifier

    model, accuracy, _ = mnist5k_classifier(cache_dir)

    def classify(channel: torch.Tensor) -> np.ndarray:
        if channel.dtype != torch.uint8:
            raise ValueError("pass channels as uint8 in [0, 255] (or convert with as_uint8_images)")
        return classify_digits(model, channel)

    return classify, accuracy


@dataclass(frozen=True)
class StackedSettings:
    """A short DCGAN run on Stacked MNIST, sized for the CPU (PacGAN trains far longer)."""

    iterations: int = 1000  # generator updates (one discriminator update before each)
    batch_size: int = 64
    lr: float = 2e-4  # DCGAN's Adam settings
    beta1: float = 0.5
    beta2: float = 0.999
    width: int = 16  # DCGAN filters (ngf = ndf); 64 in Radford et al., 16 keeps a run ~1 min
    latent_dim: int = 64
    num_samples: int = 26000  # as PacGAN and VEEGAN count (2,600 capped a perfect G at ~926)
    loss: str = "bce"
    n_critic: int = 1  # discriminator updates per generator update
    architecture: str = "dcgan"  # or resnet (the SNGAN ResNets at 28 px; width sets G's)

    def as_dict(self) -> dict:
        return asdict(self)


def run_stacked_mnist_benchmark(
    activation: str,
    seed: int,
    settings: StackedSettings | None = None,
    threads: int = 1,
    classify: ClassifyFn | None = None,
    activation_kwargs: dict | None = None,
    eval_at: Sequence[int] | None = None,
) -> dict:
    """Train a DCGAN on Stacked MNIST (built from mnist5k) with ``activation`` in every hidden
    layer of both networks; count the modes of ``settings.num_samples`` generated images.

    ``eval_at``: update counts at which the modes are also counted (``curve`` in the result),
    from the evaluation noise, so the training's course does not change."""
    import time

    from ganzoo.architectures import get_architecture
    from ganzoo.data import build_dataset, to_unit_range
    from ganzoo.modecollapse.runner import (
        draw_samples,
        isolated_run,
        run_record,
        train_gan,
    )

    settings = settings or StackedSettings()
    digits = build_dataset("mnist5k")
    if classify is None:
        classify, _ = digit_classifier()
    arch = get_architecture(settings.architecture)
    shape = (3, *digits.images.shape[-2:])
    start = time.perf_counter()
    with isolated_run(seed, threads):
        options = dict(
            data_shape=shape,
            width=settings.width,
            activation=activation,
            activation_kwargs=activation_kwargs,
        )
        generator = arch.generator(latent_dim=settings.latent_dim, **options)
        discriminator = arch.discriminator(**options)
        data_rng = torch.Generator().manual_seed(seed)
        noise_rng = torch.Generator().manual_seed(seed + 1_000_003)

        def sample_real(n: int) -> torch.Tensor:
            stacked, _ = stack_digits(digits.images, digits.labels, n, data_rng)
            return to_unit_range(stacked)

        def score(iteration: int) -> dict:
            images = draw_samples(generator, settings.num_samples, settings.latent_dim, seed)
            generator.train()
            return asdict(count_modes(images, classify))

        loss_d, loss_g, curve = train_gan(
            generator,
            discriminator,
            sample_real,
            settings,
            noise_rng,
            eval_at=eval_at,
            score=score,
        )
        images = draw_samples(generator, settings.num_samples, settings.latent_dim, seed)
    metrics = count_modes(images, classify)
    seconds = time.perf_counter() - start
    result = run_record(
        "stacked_mnist",
        activation,
        seed,
        settings,
        threads,
        asdict(metrics),
        (loss_d, loss_g),
        seconds,
    )
    if eval_at is not None:
        result["curve"] = curve
    return result


def count_modes(images: torch.Tensor, classify: ClassifyFn) -> StackedMetrics:
    """Stacked-MNIST mode metrics of generated images in [-1, 1]."""
    return stacked_mode_metrics(classify_channels(from_unit_range(images), classify))
