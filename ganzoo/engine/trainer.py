"""The training engine: an Ignite engine around :class:`GANStep`, with its handlers attached.

Small factories (:mod:`ganzoo.engine.factories`) wired together in the shape of ignite's cifar10
example: models, optimizers, loss, loader, the engine, then the handlers of
:mod:`ganzoo.engine.handlers`, each given explicitly what it needs (the run's :class:`RunLog`
and :class:`RunStatus` among them).

Under torch.distributed (``ganzoo train --nproc-per-node N`` or ``torchrun``) every process
builds the same models from the same seed, wraps them in DistributedDataParallel and trains on
its own slice of each global batch; only rank 0 logs, samples and writes checkpoints, which hold
the unwrapped modules' weights so that they load into a single process too. Periodic evaluation
is the one handler every rank attaches: the ranks share its sampling and feature extraction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ignite.distributed as idist
import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ganzoo.architectures.protocol import num_classes_of
from ganzoo.config import ExperimentConfig, compile_mode_of, to_dict
from ganzoo.engine.factories import (
    RunModels,
    ShardedBatchSampler,
    autocast_dtype,
    build_loader,
    build_models,
    build_optimizers,
    build_run_models,
    build_scaler,
    check_device,
    check_labels,
    per_process_batch_size,
    resolve_device,
    set_tf32,
    uses_channels_last,
)
from ganzoo.engine.handlers import checkpoints, monitoring, samples, schedule
from ganzoo.engine.handlers.ema import attach_ema
from ganzoo.engine.handlers.evaluation import attach_periodic_evaluation
from ganzoo.engine.runlog import RunLog
from ganzoo.engine.signals import RunInterrupted, StopOnSignal
from ganzoo.engine.state import GANEngine, RunStatus, SavedDict
from ganzoo.engine.step import GANStep
from ganzoo.errors import GanzooError
from ganzoo.runs import CHECKPOINT_DIR, SAMPLES_DIR, list_checkpoints

logger = logging.getLogger(__name__)

__all__ = [
    "ShardedBatchSampler",
    "Training",
    "build_loader",
    "build_models",
    "build_optimizers",
    "check_device",
    "create_training",
    "per_process_batch_size",
    "resolve_device",
    "restore",
]


@dataclass
class Training:
    """Everything one training run is made of; ``run()`` trains until the configured end."""

    config: ExperimentConfig
    run_dir: Path
    engine: Engine
    step: GANStep
    loader: DataLoader
    generator: nn.Module
    discriminator: nn.Module
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer
    device: torch.device
    status: RunStatus = field(default_factory=RunStatus)
    run_log: RunLog | None = None  # rank 0's metrics.jsonl and TensorBoard
    to_save: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    generator_ema: nn.Module | None = None  # the EMA of the generator when train.ema is set
    rank: int = 0
    world_size: int = 1
    stopper: StopOnSignal | None = None

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator to draw samples from: its moving average when train.ema is set."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def total_iterations(self) -> int:
        """The run's length in generator updates: train.iterations, or epochs x epoch length."""
        t = self.config.train
        if t.iterations is not None:
            return t.iterations
        return t.epochs * len(self.loader)

    def set_length(self) -> None:
        """Apply train.iterations (wins) or train.epochs as the engine's end."""
        t = self.config.train
        if t.iterations is not None:
            self.engine.state.max_epochs = None
            self.engine.state.max_iters = t.iterations
        else:
            self.engine.state.max_iters = None
            self.engine.state.max_epochs = t.epochs

    def run(self) -> None:
        """Train to the end; a NaN loss or a stop signal raises a :class:`GanzooError`."""
        t = self.config.train
        stopper = self.stopper or StopOnSignal(self.engine)
        try:
            with stopper:
                if self.engine.state.iteration == 0:
                    if t.iterations is not None:
                        self.engine.run(self.loader, max_iters=t.iterations)
                    else:
                        self.engine.run(self.loader, max_epochs=t.epochs)
                else:
                    self.set_length()
                    if self._done():
                        logger.info("the run already reached its end; nothing to do")
                        return
                    self.engine.run(self.loader)
        finally:
            for close in self.closers:
                close()
        if self.status.nan_iteration is not None:
            raise GanzooError(self._nan_advice())
        if stopper.received is not None:
            raise RunInterrupted(stopper.received, self.run_dir, self.engine.state.iteration)

    def _nan_advice(self) -> str:
        """Why the run stopped, and what can be done: true whether or not checkpoints exist
        (resuming keeps the learning rates, so lower ones mean a new run)."""
        iteration = self.status.nan_iteration
        saved = list_checkpoints(self.run_dir) if self.rank == 0 else []
        head = f"the loss became NaN or infinite at iteration {iteration}; training stopped."
        change = (
            "To train on, start a new run with lower learning rates (train.lr_g, train.lr_d) "
            "or another activation; a resumed run keeps its learning rates."
        )
        if saved:
            return (
                f"{head} The checkpoints in {self.run_dir / CHECKPOINT_DIR} (the newest is "
                f"{saved[-1].name}) are from before it and untouched. {change}"
            )
        return (
            f"{head} No checkpoint was written before it (the first comes at iteration "
            f"{self.config.train.checkpoint_every}), so there is nothing to resume. {change}"
        )

    def _done(self) -> bool:
        state = self.engine.state
        if state.max_iters is not None:
            return state.iteration >= state.max_iters
        return state.iteration >= state.max_epochs * state.epoch_length


def create_training(
    config: ExperimentConfig,
    run_dir: Path,
    dataset: Dataset,
    progress: bool | None = None,
    suite: Any = None,
    models: RunModels | None = None,
) -> Training:
    """Build the models, optimizers, engine and handlers for ``config`` writing into ``run_dir``.

    ``dataset`` feeds the loader and the evaluation's reference; ``suite`` is the evaluation
    suite already parsed (None: ``config.eval.suite`` is parsed here); ``models`` the
    networks and objective :func:`build_run_models` built for this run (None: built here)."""
    device = check_device(config)
    rank, world_size = idist.get_rank(), idist.get_world_size()
    if world_size > 1 and device.type == "cuda":
        device = idist.device()  # this process's own GPU
    # Every rank starts from the same seed: same initial weights, same engine seed, hence the
    # same order of global batches; each rank then uses its own slice of data and noise. The
    # random numbers go on from where the networks' initialisation left them, whatever ran
    # between their build and here (the run's data, its directory).
    if models is None:
        models = build_run_models(config)
    torch.set_rng_state(models.rng_state)
    generator, discriminator = models.generator, models.discriminator
    set_tf32(config, device)
    channels_last = uses_channels_last(discriminator, device)
    memory = {"memory_format": torch.channels_last} if channels_last else {}
    generator.to(device, **memory)
    discriminator.to(device, **memory)
    check_labels(dataset, num_classes_of(generator))
    optimizer_g, optimizer_d = build_optimizers(config, generator, discriminator)
    loss, augment = models.loss, models.augment
    scaler = build_scaler(config, device)
    if world_size > 1:
        train_g, train_d = idist.auto_model(generator), idist.auto_model(discriminator)
    else:
        train_g, train_d = generator, discriminator
    step = GANStep(
        train_g,
        train_d,
        optimizer_g,
        optimizer_d,
        loss,
        device,
        n_critic=config.train.n_critic,
        augment=augment,
        scaler=scaler,
        autocast_dtype=autocast_dtype(config),
        compile_mode=compile_mode_of(config.train),
        channels_last=channels_last,
        grad_norm_every=config.train.log_every,
        rank=rank,
        world_size=world_size,
    )
    engine = GANEngine(step)
    loader = build_loader(config, dataset, rank, world_size, device=device)
    if rank == 0:
        per_process = per_process_batch_size(config, world_size)
        logger.info(
            "batch size %d per process x %d process(es) = %d global, on %s; loss %s, n_critic %d%s",
            per_process,
            world_size,
            per_process * world_size,
            device,
            loss.name,
            config.train.n_critic,
            f", DiffAugment {augment.policies}" if augment.enabled else "",
        )
    training = Training(
        config,
        run_dir,
        engine,
        step,
        loader,
        generator,
        discriminator,
        optimizer_g,
        optimizer_d,
        device,
        rank=rank,
        world_size=world_size,
    )
    training.stopper = StopOnSignal(engine, distributed=world_size > 1)
    training.to_save = {
        "trainer": engine,
        "generator": generator,
        "discriminator": discriminator,
        "optimizer_g": optimizer_g,
        "optimizer_d": optimizer_d,
        "config": SavedDict(to_dict(config)),
    }
    if scaler is not None:
        training.to_save["scaler"] = scaler
    _attach_handlers(
        training,
        stat_keys=("loss_d", "loss_g", *loss.stat_names),
        progress=progress,
        dataset=dataset,
        suite=suite,
    )
    return training


def _attach_handlers(
    training: Training,
    stat_keys: tuple[str, ...],
    progress: bool | None,
    dataset: Dataset,
    suite: Any = None,
) -> None:
    """Every handler of a run, in the order they must see an iteration."""
    config, engine, t = training.config, training.engine, training.config.train
    if t.ema is not None:  # first, so the handlers below see this iteration's average
        training.generator_ema = attach_ema(engine, training.generator, t.ema)
        training.to_save["generator_ema"] = training.generator_ema
    monitoring.attach_running_averages(engine, stat_keys)
    monitoring.attach_nan_guard(
        engine, training.status, ("loss_d", "loss_g"), _nan_reads(config, training.device)
    )
    if training.rank == 0:  # logging, samples, metrics and checkpoints are rank 0's
        run_log = training.run_log = RunLog(training.run_dir)
        # Opened when the run starts: a failed set-up leaves the run directory as it was.
        engine.add_event_handler(
            Events.STARTED, lambda engine: run_log.open(engine.state.iteration)
        )
        training.closers.append(run_log.close)
        if config.train.progress if progress is None else progress:
            monitoring.attach_progress(
                engine, training.total_iterations, ("loss_d", "loss_g"), training.closers
            )
        samples.attach_sample_grid(
            engine,
            run_log,
            training.status,
            lambda: training.sampling_generator,
            training.run_dir / SAMPLES_DIR,
            count=t.num_samples,
            seed=config.seed + 12345,
            every=t.sample_every,
        )
        monitoring.attach_scalar_log(
            engine,
            run_log,
            {"generator": training.generator, "discriminator": training.discriminator},
            {"g": training.optimizer_g, "d": training.optimizer_d},
            every=t.log_every,
        )
    # After the log (each logged lr is the one its iteration used), before the checkpoints
    # (each saves the rate of the next iteration: 0 after the last).
    schedule.attach_lr_decay(
        engine,
        t.lr_decay,
        [(training.optimizer_g, t.lr_g), (training.optimizer_d, t.lr_d)],
        training.total_iterations,
    )
    if training.rank == 0:
        training.checkpoint = checkpoints.attach_checkpoints(
            engine,
            training.to_save,
            training.run_dir,
            training.status,
            every=t.checkpoint_every,
            keep=t.keep_checkpoints,
        )
    attach_periodic_evaluation(  # on every rank: they share the work
        engine,
        config,
        training.device,
        training.status,
        lambda: training.sampling_generator,
        lambda: training.stopper is not None and training.stopper.received is not None,
        training.run_log,
        training.to_save,
        training.run_dir,
        rank=training.rank,
        dataset=dataset,
        suite=suite,
    )


def _nan_reads(config: ExperimentConfig, device: torch.device) -> Callable[[int], bool] | None:
    """The iterations the NaN guard reads the device on: every one on the CPU (where reading
    costs nothing); on an accelerator only those that log, sample, evaluate or save."""
    if device.type == "cpu":
        return None
    t = config.train
    periods = [t.log_every, t.sample_every, t.checkpoint_every, config.eval.every or 0]
    return lambda iteration: any(p and iteration % p == 0 for p in periods)


def restore(training: Training, checkpoint: dict[str, Any]) -> None:
    """Load a checkpoint's objects into ``training`` (models, optimizers, engine, RNG)."""
    checkpoints.restore(training.to_save, checkpoint)
