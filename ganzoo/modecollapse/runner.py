"""Train the ``mlp`` GAN on a 2-D mixture and measure mode collapse: one run per call.

The activation under test goes into every hidden layer of both networks (the PSF paper swaps
both). Training is plain PyTorch (no Ignite: a few thousand tiny steps, where engine overhead
would dominate), non-saturating BCE on logits, Adam, fully seeded and deterministic on the CPU.

Training goes through the same :class:`ganzoo.engine.step.GANStep` as ``ganzoo train`` (in a
plain loop, without Ignite), drawing the generator's inputs from a seeded noise source and a
fresh generated batch for the generator's update. ``eval_at`` scores the generator at chosen
update counts along the way (a curve, not only the end).

Hyper-parameters (defaults of :class:`MixtureSettings`) follow the VEEGAN 2-D example (two
hidden fully connected layers of 128 units per network, Adam with learning rate 1e-3 and beta1
0.5) and PacGAN's 2-D setup (2-D standard-normal latent, 2,500 evaluation samples), with a short
schedule (2,000 generator updates, batch 128): about 5 ms of one CPU core per update with
leaky_relu (measured here: 1.6 ms per forward+backward through G and D, 0.4 ms per Adam step),
so about 10 s of CPU per run; on the shared, busy 2-core machine wall times were 5-15x that.
PacGAN trains far longer (400 epochs of 100,000 samples at
learning rate 1e-4, batch 100, a 4x400 batch-normalised generator and a maxout discriminator),
so its plain-GAN numbers are those of a converged GAN; ours are those of a short run, where the
share of high-quality samples is still low.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import torch

from evaluation.mixture_modes import mixture_metrics
from ganzoo.architectures import get_architecture
from ganzoo.augment import DiffAugment
from ganzoo.data.mixtures import get_mixture
from ganzoo.engine.step import GANStep
from ganzoo.losses import build_loss
from ganzoo.sampling import draw_inputs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MixtureSettings:
    """Everything besides task, activation and seed that determines a run's result."""

    iterations: int = 2000  # generator updates (one discriminator update before each)
    batch_size: int = 128
    lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    hidden_dim: int = 128
    depth: int = 2
    latent_dim: int = 2
    num_samples: int = 2500  # evaluation samples, as in VEEGAN / PacGAN
    loss: str = "bce"
    n_critic: int = 1  # discriminator updates per generator update

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_mixture_benchmark(
    task: str,
    activation: str,
    seed: int,
    settings: MixtureSettings | None = None,
    threads: int = 1,
    activation_kwargs: dict[str, Any] | None = None,
    eval_at: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Train on ``task`` (``ring8`` / ``grid25``) with ``activation`` in both networks; return
    the run's settings, metrics (see :mod:`evaluation.mixture_modes`) and wall time.

    ``eval_at``: generator-update counts (at most ``settings.iterations``) at which the run is
    also scored; the result then holds ``curve``, one ``{"iteration", **metrics}`` per count.
    Scoring draws from its own noise, so it does not change the training's course. The global
    RNG state and thread count are restored afterwards. The same arguments (and thread count)
    give bit-identical results.
    """
    settings = settings or MixtureSettings()
    if settings.iterations < 1 or settings.batch_size < 1 or settings.num_samples < 1:
        raise ValueError(f"iterations, batch_size and num_samples must be >= 1: {settings}")
    mixture = get_mixture(task)
    arch = get_architecture("mlp")
    start = time.perf_counter()
    with isolated_run(seed, threads):  # seed: weight initialisation
        common = dict(
            data_shape=(2,),
            hidden_dim=settings.hidden_dim,
            depth=settings.depth,
            activation=activation,
            activation_kwargs=activation_kwargs,
        )
        generator = arch.generator(latent_dim=settings.latent_dim, **common)
        discriminator = arch.discriminator(**common)
        data_rng = torch.Generator().manual_seed(seed)
        noise_rng = torch.Generator().manual_seed(seed + 1_000_003)

        def score(iteration: int) -> dict[str, Any]:
            samples = draw_samples(generator, settings.num_samples, settings.latent_dim, seed)
            generator.train()
            return mixture_metrics(samples, mixture.centers, mixture.std).as_dict()

        loss_d, loss_g, curve = train_gan(
            generator,
            discriminator,
            lambda n: mixture.sample(n, data_rng),
            settings,
            noise_rng,
            eval_at=eval_at,
            score=score,
        )
        samples = draw_samples(generator, settings.num_samples, settings.latent_dim, seed)
    seconds = time.perf_counter() - start
    metrics = mixture_metrics(samples, mixture.centers, mixture.std)
    result = run_record(
        task, activation, seed, settings, threads, metrics.as_dict(), (loss_d, loss_g), seconds
    )
    if eval_at is not None:
        result["curve"] = curve
    logger.info(
        "%s %s seed %d: %d/%d modes, %.1f%% HQ, reverse KL %.3f (%.1f s)",
        task,
        activation,
        seed,
        metrics.modes_covered,
        metrics.num_modes,
        100 * metrics.high_quality_fraction,
        metrics.reverse_kl,
        seconds,
    )
    return result


def run_record(
    task: str,
    activation: str,
    seed: int,
    settings: Any,
    threads: int,
    metrics: dict[str, Any],
    final_losses: tuple[float, float],
    seconds: float,
) -> dict[str, Any]:
    """One benchmark run as the line ``runs.jsonl`` stores: what ran, its metrics, its final
    D and G losses and its wall time."""
    return {
        "task": task,
        "activation": activation,
        "seed": seed,
        "settings": settings.as_dict(),
        "threads": threads,
        **metrics,
        "final_loss_d": final_losses[0],
        "final_loss_g": final_losses[1],
        "seconds": round(seconds, 3),
    }


def train_gan(
    generator: torch.nn.Module,
    discriminator: torch.nn.Module,
    sample_real: Callable[[int], torch.Tensor],
    settings: Any,
    noise_rng: torch.Generator,
    eval_at: Sequence[int] | None = None,
    score: Callable[[int], dict[str, Any]] | None = None,
) -> tuple[float, float, list[dict[str, Any]]]:
    """``settings.iterations`` iterations of :class:`GANStep` (``n_critic`` D updates, then G)
    with Adam and ``settings.loss``, in a plain loop; returns the last (loss_d, loss_g) and the
    curve of ``score(i)`` at each update count ``i`` in ``eval_at``. ``settings`` needs
    iterations, batch_size, lr, beta1, beta2, latent_dim and loss (n_critic: 1 when absent)."""
    checkpoints = sorted(set(eval_at or ()))
    if checkpoints and (checkpoints[0] < 1 or checkpoints[-1] > settings.iterations):
        raise ValueError(f"eval_at must lie in 1..{settings.iterations}, got {checkpoints}")
    n_critic = getattr(settings, "n_critic", 1)
    betas = (settings.beta1, settings.beta2)
    step = GANStep(
        generator,
        discriminator,
        torch.optim.Adam(generator.parameters(), lr=settings.lr, betas=betas),
        torch.optim.Adam(discriminator.parameters(), lr=settings.lr, betas=betas),
        build_loss(settings.loss),
        torch.device("cpu"),
        n_critic=n_critic,
        augment=DiffAugment(getattr(settings, "augment", "")),
        noise=noise_rng,
        fresh_generator_batch=True,
    )
    curve = []
    output: dict[str, float] = {}
    for iteration in range(1, settings.iterations + 1):
        output = step.update(sample_real(settings.batch_size * n_critic), iteration)
        if checkpoints and iteration == checkpoints[0]:
            checkpoints.pop(0)
            curve.append({"iteration": iteration, **score(iteration)})
    return output["loss_d"], output["loss_g"], curve


@contextmanager
def isolated_run(seed: int, threads: int) -> Iterator[None]:
    """Seed the global RNG and set the thread count inside; restore both afterwards."""
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(previous_threads)


@torch.no_grad()
def draw_samples(generator: torch.nn.Module, n: int, latent_dim: int, seed: int) -> torch.Tensor:
    """``n`` samples from evaluation noise of its own seed, in eval mode."""
    generator.eval()
    source = torch.Generator().manual_seed(seed + 2_000_003)
    return generator(draw_inputs(n, latent_dim, source=source).z)
