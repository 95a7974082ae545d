"""Train the ``mlp`` GAN on a 2-D mixture and measure mode collapse: one run per call.

The activation under test goes into every hidden layer of both networks (the PSF paper swaps
both). Training is plain PyTorch (no Ignite: a few thousand tiny steps, where engine overhead
would dominate), non-saturating BCE on logits, Adam, fully seeded and deterministic on the CPU.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import torch

from ganzoo.architectures import get_architecture
from ganzoo.losses import get_loss
from ganzoo.modecollapse.metrics import mixture_metrics
from ganzoo.modecollapse.mixtures import get_mixture

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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_mixture_benchmark(
    task: str,
    activation: str,
    seed: int,
    settings: MixtureSettings | None = None,
    threads: int = 1,
    activation_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train on ``task`` (``ring8`` / ``grid25``) with ``activation`` in both networks; return
    the run's settings, metrics (see :mod:`ganzoo.modecollapse.metrics`) and wall time.

    The global RNG state and thread count are restored afterwards. The same arguments (and
    thread count) give bit-identical results.
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
        loss_d, loss_g = train_plain_gan(
            generator, discriminator, lambda n: mixture.sample(n, data_rng), settings, noise_rng
        )
        samples = draw_samples(generator, settings.num_samples, settings.latent_dim, seed)
    seconds = time.perf_counter() - start
    metrics = mixture_metrics(samples, mixture.centers, mixture.std)
    result = run_record(
        task, activation, seed, settings, threads, metrics.as_dict(), (loss_d, loss_g), seconds
    )
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


def train_plain_gan(
    generator: torch.nn.Module,
    discriminator: torch.nn.Module,
    sample_real: Callable[[int], torch.Tensor],
    settings: Any,
    noise_rng: torch.Generator,
) -> tuple[float, float]:
    """``settings.iterations`` updates (D, then G) with Adam and ``settings.loss``; returns the
    last (loss_d, loss_g). ``settings`` needs iterations, batch_size, lr, beta1, beta2,
    latent_dim and loss."""
    loss = get_loss(settings.loss)
    betas = (settings.beta1, settings.beta2)
    opt_g = torch.optim.Adam(generator.parameters(), lr=settings.lr, betas=betas)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=settings.lr, betas=betas)
    n = settings.batch_size
    for _ in range(settings.iterations):
        real = sample_real(n)
        z = torch.randn(n, settings.latent_dim, generator=noise_rng)
        with torch.no_grad():
            fake = generator(z)
        loss_d = loss.discriminator(discriminator(real), discriminator(fake))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        z = torch.randn(n, settings.latent_dim, generator=noise_rng)
        loss_g = loss.generator(discriminator(generator(z)))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
    return loss_d.item(), loss_g.item()


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
    z = torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed + 2_000_003))
    return generator(z)
