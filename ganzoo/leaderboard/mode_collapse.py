"""Training and scoring of the mode-collapse tasks (the ``mlp`` GAN on a 2-D mixture, a small
DCGAN on Stacked MNIST; the activation in every hidden layer of both networks) with ganzoo's one
plain loop (:func:`train_and_score`: GANStep in a for loop, bit-identical for the same arguments and
thread count on the CPU). docs/experiments.md gives the settings' sources."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from evaluation.mixture_modes import mixture_metrics
from evaluation.stacked_modes import ClassifyFn, classify_channels, stacked_mode_metrics
from ganzoo.architectures import get_architecture
from ganzoo.data.mixtures import get_mixture
from ganzoo.data.stacked_mnist import stack_digits
from ganzoo.data.transforms import from_unit_range
from ganzoo.engine.step import GANStep
from ganzoo.losses import build_loss
from ganzoo.sampling import draw_inputs


@dataclass(frozen=True)
class MixtureSettings:
    """Everything besides task, activation and seed that determines a mixture run's result:
    VEEGAN's 2-D networks and Adam (2 x 128 hidden units, lr 1e-3, beta1 0.5), PacGAN's 2-D
    latent and 2,500 evaluation samples, 2,000 updates of batch 128 (about 10 s of one core)."""

    iterations: int = 2000  # generator updates (n_critic discriminator updates before each)
    batch_size: int = 128
    lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    hidden_dim: int = 128
    depth: int = 2
    latent_dim: int = 2
    num_samples: int = 2500  # evaluation samples, as in VEEGAN / PacGAN
    loss: str = "bce"
    n_critic: int = 1


@dataclass(frozen=True)
class StackedSettings:
    """A short DCGAN run on Stacked MNIST, sized for the CPU (PacGAN trains far longer)."""

    iterations: int = 1000
    batch_size: int = 64
    lr: float = 2e-4  # DCGAN's Adam settings
    beta1: float = 0.5
    beta2: float = 0.999
    width: int = 16  # DCGAN filters (ngf = ndf); 64 in Radford et al., 16 keeps a run ~1 min
    latent_dim: int = 64
    num_samples: int = 26000  # as PacGAN and VEEGAN count (2,600 capped a perfect G at ~926)
    loss: str = "bce"
    n_critic: int = 1
    architecture: str = "dcgan"  # or resnet (the SNGAN ResNets at 28 px; width sets G's)


def run_mixture_benchmark(
    task: str,
    activation: str,
    seed: int,
    settings: MixtureSettings | None = None,
    threads: int = 1,
    activation_kwargs: dict[str, Any] | None = None,
    eval_at: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Train the mlp GAN on the mixture ``task``; its metrics (:mod:`evaluation.mixture_modes`),
    final D and G losses, seconds, and the ``curve`` of metrics at each count in ``eval_at``."""
    settings = settings or MixtureSettings()
    if settings.iterations < 1 or settings.batch_size < 1 or settings.num_samples < 1:
        raise ValueError(f"iterations, batch_size and num_samples must be >= 1: {settings}")
    mixture = get_mixture(task)
    kwargs = dict(data_shape=(2,), hidden_dim=settings.hidden_dim, depth=settings.depth)
    kwargs.update(activation=activation, activation_kwargs=activation_kwargs)

    def measure(samples: torch.Tensor) -> dict[str, Any]:
        return mixture_metrics(samples, mixture.centers, mixture.std).as_dict()

    return train_and_score("mlp", kwargs, mixture.sample, measure, settings, seed, threads, eval_at)


def run_stacked_mnist_benchmark(
    activation: str,
    seed: int,
    settings: StackedSettings | None = None,
    threads: int = 1,
    classify: ClassifyFn | None = None,
    activation_kwargs: dict[str, Any] | None = None,
    eval_at: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Train a DCGAN (or ResNet) on Stacked MNIST built from mnist5k; the modes of
    ``settings.num_samples`` generated images counted per channel by ``classify`` (default: the
    project's digit classifier), as :func:`run_mixture_benchmark` returns them."""
    from ganzoo.data import build_dataset, to_unit_range

    settings = settings or StackedSettings()
    digits = build_dataset("mnist5k")
    if classify is None:
        classify, _ = digit_classifier()
    kwargs = dict(data_shape=(3, *digits.images.shape[-2:]), width=settings.width)
    kwargs.update(activation=activation, activation_kwargs=activation_kwargs)

    def sample(n: int, rng: torch.Generator) -> torch.Tensor:
        return to_unit_range(stack_digits(digits.images, digits.labels, n, rng)[0])

    def measure(images: torch.Tensor) -> dict[str, Any]:
        return asdict(stacked_mode_metrics(classify_channels(from_unit_range(images), classify)))

    arch = settings.architecture
    return train_and_score(arch, kwargs, sample, measure, settings, seed, threads, eval_at)


def digit_classifier() -> tuple[ClassifyFn, float]:
    """The project's cached digit classifier (trained on mnist5k on first use) as a
    ``classify`` function for uint8 channels, and its held-out accuracy."""
    from evaluation.modes import classify_digits
    from ganzoo.digit_classifier import mnist5k_classifier

    model, accuracy, _ = mnist5k_classifier()

    def classify(channel: torch.Tensor) -> np.ndarray:
        if channel.dtype != torch.uint8:
            raise ValueError("pass channels as uint8 in [0, 255] (or convert with as_uint8_images)")
        return classify_digits(model, channel)

    return classify, accuracy


def train_and_score(
    architecture: str,
    options: dict[str, Any],
    sample: Callable[[int, torch.Generator], torch.Tensor],
    measure: Callable[[torch.Tensor], dict[str, Any]],
    settings: MixtureSettings | StackedSettings,
    seed: int,
    threads: int,
    eval_at: Sequence[int] | None,
) -> dict[str, Any]:
    """Train G and D of ``architecture`` (built with ``options``) for ``settings.iterations``
    GANStep updates and ``measure`` the samples of the evaluation noise at each ``eval_at``
    count (the ``curve``) and at the end. ``seed`` sets the weights, data, training and
    evaluation noise, each its own stream; the global RNG and thread count are restored."""
    checkpoints = sorted(set(eval_at or ()))
    if checkpoints and (checkpoints[0] < 1 or checkpoints[-1] > settings.iterations):
        raise ValueError(f"eval_at must lie in 1..{settings.iterations}, got {checkpoints}")
    arch = get_architecture(architecture)
    start = time.perf_counter()
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            generator = arch.generator(latent_dim=settings.latent_dim, **options)
            discriminator = arch.discriminator(**options)
            data = torch.Generator().manual_seed(seed)

            def score() -> dict[str, Any]:
                generator.eval()
                source = torch.Generator().manual_seed(seed + 2_000_003)
                with torch.no_grad():
                    z = draw_inputs(settings.num_samples, settings.latent_dim, source=source).z
                    samples = generator(z)
                generator.train()
                return measure(samples)

            betas = (settings.beta1, settings.beta2)
            step = GANStep(
                generator,
                discriminator,
                torch.optim.Adam(generator.parameters(), lr=settings.lr, betas=betas),
                torch.optim.Adam(discriminator.parameters(), lr=settings.lr, betas=betas),
                build_loss(settings.loss),
                torch.device("cpu"),
                n_critic=settings.n_critic,
                noise=torch.Generator().manual_seed(seed + 1_000_003),
                fresh_generator_batch=True,
            )
            batch = settings.batch_size * settings.n_critic  # real samples per update
            curve = []
            for iteration in range(1, settings.iterations + 1):
                output = step.update(sample(batch, data), iteration)
                if iteration in checkpoints:
                    curve.append({"iteration": iteration, **score()})
            metrics = score()
    finally:
        torch.set_num_threads(previous_threads)
    return {
        **metrics,
        "final_loss_d": output["loss_d"],
        "final_loss_g": output["loss_g"],
        "seconds": round(time.perf_counter() - start, 3),
        "curve": curve,
    }
