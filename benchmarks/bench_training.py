"""Training throughput: ganzoo's Ignite engine against a plain PyTorch loop, and PSF against
LeakyReLU in the same DCGAN.

Everything is measured in one run, interleaved in rounds (so a slow moment of the machine hits
every contender alike), and reported as the median ratio over rounds:

- ``ganzoo / plain``: time per iteration of `ganzoo train`'s engine, with its handlers as a user
  runs it (running averages, NaN guard, metrics file, TensorBoard, checkpoints), against a plain
  loop of the same DCGAN, batch, data loader and optimizer. Target: ganzoo at least 0.95x the
  plain loop's speed, i.e. a time ratio of at most 1/0.95 = 1.053.
- ``psf / leaky_relu``: time per iteration of the plain loop with PSF in every hidden layer
  against LeakyReLU(0.2). Target: at most 1.10 with the fused PSF.
- the WGAN-GP step (n_critic 5, gradient penalty, a critic without batch norm) and the standard
  resnet-32 SNGAN step (hinge, spectral norm in D; batch 16, n_critic 1 to stay short): the engine
  against a plain loop of the same update. Same target, 0.95x. And the PSF SNGAN against the
  ReLU SNGAN (the same networks, every activation slot PSF): at most 1.10x the time.

Usage: python benchmarks/bench_training.py [--rounds 7] [--iters 20] [--batch-size 32]
[--device cuda] (both loops on that device; default the CPU) [--cpu-time] (on a busy machine:
time with the process's CPU time, with --threads 1, so waiting for a core does not count)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from ganzoo.config import DataConfig, ExperimentConfig, TrainConfig
from ganzoo.engine.trainer import build_loader, build_models, build_optimizers, create_training

SHAPE = (3, 32, 32)


def make_config(
    activation: str,
    batch_size: int,
    kwargs: dict,
    device: str = "cpu",
    wgan_gp: bool = False,
    sngan: bool = False,
) -> ExperimentConfig:
    """DCGAN-32 (width 64); or WGAN-GP's step on it; or the standard resnet-32 SNGAN (hinge,
    spectral norm in D, n_critic 1 to keep the benchmark short)."""
    critic = {"batch_norm": False} if wgan_gp else {}
    objective = {"loss": "wgan_gp", "n_critic": 5} if wgan_gp else {}
    widths = {} if sngan else {"width": 64}
    if sngan:
        critic, objective = {"spectral_norm": True}, {"loss": "hinge"}
    return ExperimentConfig(
        name="bench",
        architecture="resnet" if sngan else "dcgan",
        data=DataConfig(name="cifar10", image_size=32),
        generator={"activation": activation, "activation_kwargs": kwargs, **widths},
        discriminator={
            "activation": activation,
            "activation_kwargs": kwargs,
            **widths,
            **critic,
        },
        train=TrainConfig(
            **objective,
            batch_size=batch_size,
            iterations=10**9,  # extended round by round
            log_every=50,
            sample_every=10**9,  # a grid costs a forward pass; not part of the step
            checkpoint_every=10**9,
            progress=False,
            device=device,
        ),
    )


class PlainLoop:
    """The same update, written as a user would without Ignite: the non-saturating BCE step,
    or with ``config.train.loss == "wgan_gp"`` WGAN-GP's n_critic critic updates with the
    gradient penalty, then one generator update."""

    def __init__(self, config: ExperimentConfig, dataset: TensorDataset) -> None:
        torch.manual_seed(0)
        self.device = torch.device(config.train.device)
        self.generator, self.discriminator = build_models(config, SHAPE)
        self.generator.to(self.device)
        self.discriminator.to(self.device)
        self.opt_g, self.opt_d = build_optimizers(config, self.generator, self.discriminator)
        self.wgan_gp = config.train.loss == "wgan_gp"
        self.hinge = config.train.loss == "hinge"
        self.n_critic = config.train.n_critic
        self.loader = build_loader(config, dataset)
        self.batches = iter(self.loader)

    def next_batch(self) -> torch.Tensor:
        try:
            batch = next(self.batches)[0]
        except StopIteration:
            self.batches = iter(self.loader)
            batch = next(self.batches)[0]
        return batch.to(self.device, non_blocking=True)

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        d = self.discriminator
        if self.hinge:
            return F.relu(1 - d(real)).mean() + F.relu(1 + d(fake)).mean()
        if not self.wgan_gp:
            r, f = d(real), d(fake)
            return F.binary_cross_entropy_with_logits(
                r, torch.ones_like(r)
            ) + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
        mix = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
        points = (mix * real + (1 - mix) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(d(points).sum(), points, create_graph=True)
        penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
        return d(fake).mean() - d(real).mean() + 10 * penalty

    def g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        scores = self.discriminator(fake)
        if self.wgan_gp or self.hinge:
            return -scores.mean()
        return F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))

    def run(self, iterations: int) -> None:
        g, d = self.generator, self.discriminator
        for _ in range(iterations):
            reals = self.next_batch().chunk(self.n_critic)
            for real in reals:
                z = torch.randn(real.shape[0], g.latent_dim, device=self.device)
                fake = g(z)
                loss_d = self.d_loss(real, fake.detach())
                self.opt_d.zero_grad()
                loss_d.backward()
                self.opt_d.step()
            d.requires_grad_(False)
            loss_g = self.g_loss(fake)
            self.opt_g.zero_grad()
            loss_g.backward()
            self.opt_g.step()
            d.requires_grad_(True)
            loss_d.item(), loss_g.item()


class GanzooLoop:
    """`ganzoo train`'s engine and handlers, run a few iterations at a time.

    A user runs the engine once for the whole training, so what is timed is each iteration from
    fetching its batch to the end of its last handler: the once-per-run
    work of ``engine.run`` (its start, and at its end a sample grid, a checkpoint and a log
    line) would otherwise count once per benchmark round instead of once per training."""

    def __init__(self, config: ExperimentConfig, dataset: TensorDataset, run_dir: Path) -> None:
        from ignite.engine import Events

        for sub in ("checkpoints", "samples", "tb"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        self.training = create_training(config, run_dir, dataset, progress=False)
        self.done = 0
        self.seconds = 0.0
        engine = self.training.engine
        started: list[float] = []

        def start(_: object) -> None:
            started[:] = [clock()]

        def stop(_: object) -> None:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.seconds += clock() - started[0]

        # From fetching the batch (which comes before ITERATION_STARTED) to after the last
        # ITERATION_COMPLETED handler (attached last): the step and every handler are inside.
        engine.add_event_handler(Events.GET_BATCH_STARTED, start)
        engine.add_event_handler(Events.ITERATION_COMPLETED, stop)

    def run(self, iterations: int) -> float:
        """Train ``iterations`` more; returns the seconds they took (see the class doc)."""
        self.done += iterations
        self.seconds = 0.0
        engine = self.training.engine
        if engine.state.iteration == 0:
            engine.run(self.training.loader, max_iters=self.done)
        else:
            engine.state.max_iters = self.done
            engine.run(self.training.loader)
        return self.seconds


# What the loops are timed with: wall-clock time, or with --cpu-time this process's CPU time
# (time spent waiting for a core on a busy machine is not counted; meaningful with --threads 1).
clock = time.perf_counter


def timed(loop, iterations: int) -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = clock()
    seconds = loop.run(iterations)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    if seconds is None:  # the plain loop: its whole call
        seconds = clock() - start
    return seconds / iterations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iters", type=int, default=20, help="iterations per contender per round")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--no-wgan-gp", dest="wgan_gp", action="store_false", help="skip the WGAN-GP step"
    )
    parser.add_argument(
        "--no-sngan", dest="sngan", action="store_false", help="skip the resnet-32 SNGAN step"
    )
    parser.add_argument(
        "--sngan-batch-size", type=int, default=16, help="the SNGAN step's batch (default 16)"
    )
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with the process's CPU time, not the wall clock (a busy machine; CPU, "
        "--threads 1)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    global clock
    if args.cpu_time:
        if args.device != "cpu":
            parser.error("--cpu-time measures CPU work: use it with --device cpu")
        clock = time.process_time

    import ganzoo.data  # noqa: F401  (the trainer looks up the dataset's shape by name)
    from ganzoo.activations import ACTIVATIONS

    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.rand(2048, *SHAPE, generator=generator) * 2 - 1)
    contenders = {
        "plain leaky_relu": PlainLoop(
            make_config("leaky_relu", args.batch_size, {}, args.device), dataset
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        contenders["ganzoo leaky_relu"] = GanzooLoop(
            make_config("leaky_relu", args.batch_size, {}, args.device), dataset, Path(tmp) / "run"
        )
        if "psf" in ACTIVATIONS.names():
            contenders["plain psf"] = PlainLoop(
                make_config("psf", args.batch_size, {}, args.device), dataset
            )
        if args.wgan_gp:
            wgan = make_config("leaky_relu", args.batch_size, {}, args.device, wgan_gp=True)
            contenders["plain wgan_gp"] = PlainLoop(wgan, dataset)
            contenders["ganzoo wgan_gp"] = GanzooLoop(wgan, dataset, Path(tmp) / "wgan")
        if args.sngan:  # the real networks (4.3 M + 1.1 M parameters): fewer iterations a round
            relu = make_config("relu", args.sngan_batch_size, {}, args.device, sngan=True)
            contenders["plain sngan relu"] = PlainLoop(relu, dataset)
            contenders["ganzoo sngan relu"] = GanzooLoop(relu, dataset, Path(tmp) / "sngan")
            if "psf" in ACTIVATIONS.names():
                psf = make_config("psf", args.sngan_batch_size, {}, args.device, sngan=True)
                contenders["plain sngan psf"] = PlainLoop(psf, dataset)
        print("warming up (loads, or on a new machine builds, PSF's kernels) ...", flush=True)
        start = time.perf_counter()
        for loop in contenders.values():
            loop.run(3)
        print(f"warm-up: {time.perf_counter() - start:.1f} s")

        times: dict[str, list[float]] = {name: [] for name in contenders}
        sngan_iters = max(1, args.iters // 10)
        for _ in range(args.rounds):
            for name, loop in contenders.items():
                times[name].append(timed(loop, sngan_iters if "sngan" in name else args.iters))

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(times[a], times[b]))

    print(
        f"\nDCGAN-32 (width 64), batch {args.batch_size}, {args.device}, {args.threads} threads, "
        f"{args.rounds} rounds x {args.iters} iterations ({max(1, args.iters // 10)} for the "
        f"SNGAN), median of per-round ratios" + (", process CPU time" if args.cpu_time else "")
    )
    results = []
    speed = 1 / ratio("ganzoo leaky_relu", "plain leaky_relu")
    results.append(("ganzoo engine speed / plain loop speed", speed, ">= 0.95", speed >= 0.95))
    if "plain wgan_gp" in times:
        speed = 1 / ratio("ganzoo wgan_gp", "plain wgan_gp")
        label = "WGAN-GP (n_critic 5) engine / plain loop"
        results.append((label, speed, ">= 0.95", speed >= 0.95))
    if "plain psf" in times:
        cost = ratio("plain psf", "plain leaky_relu")
        results.append(("PSF DCGAN time / LeakyReLU DCGAN time", cost, "<= 1.10", cost <= 1.10))
    if "plain sngan relu" in times:
        speed = 1 / ratio("ganzoo sngan relu", "plain sngan relu")
        label = f"resnet-32 SNGAN (batch {args.sngan_batch_size}) engine / plain"
        results.append((label, speed, ">= 0.95", speed >= 0.95))
    if "plain sngan psf" in times:
        cost = ratio("plain sngan psf", "plain sngan relu")
        results.append(("PSF SNGAN time / ReLU SNGAN time", cost, "<= 1.10", cost <= 1.10))
    for label, value, target, ok in results:
        print(f"  {label:<42} {value:6.3f}   target {target:<8} {'PASS' if ok else 'FAIL'}")
    return 1 if args.strict and not all(ok for *_, ok in results) else 0


if __name__ == "__main__":
    sys.exit(main())
