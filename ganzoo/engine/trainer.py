"""The training engine: an Ignite engine around :class:`GANStep`, with its handlers.

Small factories wired together, in the shape of ignite's cifar10 example: models, optimizers,
data loader, the engine, then one ``attach_*`` function per concern (running averages,
progress bar, NaN guard, samples, metrics file, TensorBoard, checkpoints).

Under torch.distributed (``ganzoo train --nproc-per-node N`` or ``torchrun``) every process
builds the same models from the same seed, wraps them in DistributedDataParallel and trains on
its own slice of each global batch; only rank 0 logs, samples and writes checkpoints, which hold
the unwrapped modules' weights so that they load into a single process too. Periodic evaluation
is the one handler every rank attaches: the ranks share its sampling and feature extraction.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ignite.distributed as idist
import numpy as np
import torch
from ignite.engine import Engine, Events
from ignite.engine.deterministic import DeterministicEngine, ReproducibleBatchSampler
from ignite.handlers import Checkpoint, DiskSaver
from ignite.metrics import RunningAverage
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler

from ganzoo.architectures import activation_layers, get_architecture
from ganzoo.config import ExperimentConfig, data_shape, to_dict
from ganzoo.engine.signals import RunInterrupted, StopOnSignal
from ganzoo.engine.step import GANStep
from ganzoo.errors import CheckpointError, ConfigError, GanzooError
from ganzoo.losses import get_loss
from ganzoo.runs import CHECKPOINT_DIR, METRICS_FILE, SAMPLES_DIR, TENSORBOARD_DIR

logger = logging.getLogger(__name__)

RUNNING_KEYS = ("loss_d", "loss_g", "d_real", "d_fake")


# -- factories --------------------------------------------------------------------------------


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; an unavailable device is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"train.device is {name!r} but CUDA is not available here; use train.device=auto"
        )
    return device


def check_device(config: ExperimentConfig) -> torch.device:
    """The device ``config`` trains on; refuses ``train.amp`` where there is no CUDA."""
    device = resolve_device(config.train.device)
    if config.train.amp and device.type != "cuda":
        raise ConfigError(
            "train.amp: true needs a CUDA device (float16 mixed precision with a GradScaler); "
            f"this run is on {device}. Set train.amp=false to train on the CPU."
        )
    return device


def per_process_batch_size(config: ExperimentConfig, world_size: int) -> int:
    """``train.batch_size`` is the global batch, split evenly over the processes."""
    batch_size = config.train.batch_size
    if batch_size % world_size:
        raise ConfigError(
            f"train.batch_size is {batch_size}, which {world_size} processes cannot share "
            f"evenly; it is the global batch, so make it a multiple of {world_size}"
        )
    return batch_size // world_size


def build_models(config: ExperimentConfig, shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """The generator and discriminator of ``config.architecture`` for data of ``shape``."""
    architecture = get_architecture(config.architecture)
    generator = architecture.generator(data_shape=shape, **config.generator)
    discriminator = architecture.discriminator(data_shape=shape, **config.discriminator)
    return generator, discriminator


def build_optimizers(
    config: ExperimentConfig, generator: nn.Module, discriminator: nn.Module
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    t = config.train
    betas = (t.beta1, t.beta2)
    return (
        torch.optim.Adam(generator.parameters(), lr=t.lr_g, betas=betas),
        torch.optim.Adam(discriminator.parameters(), lr=t.lr_d, betas=betas),
    )


def build_loader(
    config: ExperimentConfig, dataset: Dataset, rank: int = 0, world_size: int = 1
) -> DataLoader:
    """Shuffled batches of full size; the engine makes the order reproducible per epoch.

    With several processes every rank draws the same order of global batches (the engine seeds
    each epoch alike everywhere) and takes its own slice of each, so the shards never overlap
    and an epoch is as long as on one process.
    """
    per_process_batch_size(config, world_size)
    if len(dataset) < config.train.batch_size:
        raise ConfigError(
            f"train.batch_size is {config.train.batch_size} but dataset {config.data.name!r} "
            f"has only {len(dataset)} images; lower train.batch_size or raise data.limit"
        )
    # drop_last: every update sees a full batch, so losses are comparable across iterations.
    batches = BatchSampler(RandomSampler(dataset), config.train.batch_size, drop_last=True)
    if world_size > 1:
        batches = ShardedBatchSampler(batches, rank, world_size)
    return DataLoader(
        dataset,
        batch_sampler=EagerReproducibleBatchSampler(batches),
        num_workers=config.data.num_workers,
        pin_memory=torch.cuda.is_available(),
    )


class ShardedBatchSampler(BatchSampler):
    """Rank ``rank``'s slice of each of ``batches``' global batches."""

    def __init__(self, batches: BatchSampler, rank: int, world_size: int) -> None:
        super().__init__(batches.sampler, batches.batch_size // world_size, batches.drop_last)
        self.batches = batches
        self.rank = rank

    def __iter__(self) -> Iterator[list[int]]:
        start = self.rank * self.batch_size
        for batch in self.batches:
            yield batch[start : start + self.batch_size]

    def __len__(self) -> int:
        return len(self.batches)


class EagerReproducibleBatchSampler(ReproducibleBatchSampler):
    """Ignite's reproducible batch sampler, drawing the epoch's order when iterated.

    Ignite's draws lazily, at the first batch; on a resume in mid-epoch that is after the engine
    has restored the checkpoint's RNG state, so the epoch's order would differ from the
    uninterrupted run's. Drawing at ``iter()`` uses the epoch seed, as a fresh run does.
    """

    def __iter__(self) -> Iterator[list[int]]:
        self.setup_batch_indices()
        return iter(self.batch_indices)


# -- the engine -------------------------------------------------------------------------------


class GANEngine(DeterministicEngine):
    """A :class:`DeterministicEngine` whose state dict holds only tensors and plain values.

    Ignite keeps numpy's RNG state as an ndarray, which ``torch.load(weights_only=True)``
    refuses; it is stored as a tensor here and turned back on load.
    """

    def state_dict(self) -> Any:
        state = super().state_dict()
        python_state, torch_state, *rest = state["rng_states"]
        packed: list[Any] = [_pack_python_rng(python_state), torch_state]
        if rest:
            kind, keys, pos, has_gauss, cached = rest[0]
            packed.append([kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached])
        state["rng_states"] = packed
        return state

    def load_state_dict(self, state_dict: Any) -> None:
        state = dict(state_dict)
        rng = state.get("rng_states")
        if rng is not None:
            unpacked: list[Any] = [_unpack_python_rng(rng[0]), rng[1]]
            if len(rng) > 2:
                kind, keys, pos, has_gauss, cached = rng[2]
                unpacked.append((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
            state["rng_states"] = unpacked
        super().load_state_dict(state)


def _pack_python_rng(state: tuple) -> list[Any]:
    version, internal, gauss = state
    return [version, torch.tensor(internal, dtype=torch.int64), gauss]


def _unpack_python_rng(packed: list[Any]) -> tuple:
    version, internal, gauss = packed
    return (version, tuple(int(v) for v in internal.tolist()), gauss)


class _Stateful:
    """Wraps a plain dict so Ignite's Checkpoint saves it (the resolved config)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def state_dict(self) -> dict[str, Any]:
        return self.data

    def load_state_dict(self, data: dict[str, Any]) -> None:
        self.data = data


@dataclass
class Training:
    """Everything one training run is made of; ``run()`` trains until the configured end."""

    config: ExperimentConfig
    run_dir: Path
    engine: Engine
    loader: DataLoader
    generator: nn.Module
    discriminator: nn.Module
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer
    device: torch.device
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
        if getattr(self.engine.state, "nan_iteration", None) is not None:
            raise GanzooError(
                f"the loss became NaN or infinite at iteration {self.engine.state.nan_iteration}; "
                f"training stopped. The checkpoints in {self.run_dir / CHECKPOINT_DIR} are from "
                f"before it and untouched. Lower the learning rates or change the activation, "
                f"then resume with --resume {self.run_dir}."
            )
        if stopper.received is not None:
            raise RunInterrupted(stopper.received, self.run_dir, self.engine.state.iteration)

    def _done(self) -> bool:
        state = self.engine.state
        if state.max_iters is not None:
            return state.iteration >= state.max_iters
        return state.iteration >= state.max_epochs * state.epoch_length


def create_training(
    config: ExperimentConfig, run_dir: Path, dataset: Dataset, progress: bool | None = None
) -> Training:
    """Build the models, optimizers, engine and handlers for ``config`` writing into ``run_dir``."""
    device = check_device(config)
    rank, world_size = idist.get_rank(), idist.get_world_size()
    if world_size > 1 and device.type == "cuda":
        device = idist.device()  # this process's own GPU
    # Every rank starts from the same seed: same initial weights, same engine seed, hence the
    # same order of global batches; each rank then uses its own slice of data and noise.
    torch.manual_seed(config.seed)
    from ganzoo.data import dataset_info

    shape = data_shape(config, dataset_info(config.data.name))
    generator, discriminator = build_models(config, shape)
    generator.to(device)
    discriminator.to(device)
    optimizer_g, optimizer_d = build_optimizers(config, generator, discriminator)
    scaler = torch.amp.GradScaler("cuda") if config.train.amp else None
    if world_size > 1:
        train_g, train_d = idist.auto_model(generator), idist.auto_model(discriminator)
    else:
        train_g, train_d = generator, discriminator
    step = GANStep(
        train_g,
        train_d,
        optimizer_g,
        optimizer_d,
        get_loss(config.train.loss),
        device,
        scaler=scaler,
        grad_norm_every=config.train.log_every,
        rank=rank,
        world_size=world_size,
    )
    engine = GANEngine(step)
    loader = build_loader(config, dataset, rank, world_size)
    if rank == 0:
        per_process = per_process_batch_size(config, world_size)
        logger.info(
            "batch size %d per process x %d process(es) = %d global, on %s",
            per_process,
            world_size,
            per_process * world_size,
            device,
        )
    training = Training(
        config, run_dir, engine, loader, generator, discriminator, optimizer_g, optimizer_d, device
    )
    training.rank, training.world_size = rank, world_size
    training.stopper = StopOnSignal(engine, distributed=world_size > 1)
    training.to_save = {
        "trainer": engine,
        "generator": generator,
        "discriminator": discriminator,
        "optimizer_g": optimizer_g,
        "optimizer_d": optimizer_d,
        "config": _Stateful(to_dict(config)),
    }
    if scaler is not None:
        training.to_save["scaler"] = scaler

    attach_ema(training)  # first, so the handlers below see this iteration's average
    attach_running_averages(engine)
    attach_nan_guard(engine)
    if rank == 0:  # logging, samples, metrics and checkpoints are rank 0's
        if config.train.progress if progress is None else progress:
            attach_progress_bar(engine)
        attach_sample_grid(training)
        attach_metrics_file(training)
        attach_tensorboard(training)
        attach_checkpoints(training)
    from ganzoo.engine.evaluation import attach_periodic_evaluation

    attach_periodic_evaluation(training)  # on every rank: they share the work
    return training


# -- handlers ---------------------------------------------------------------------------------


def attach_ema(training: Training) -> None:
    """With ``train.ema: DECAY``, keep ignite's EMA of the generator, checkpointed with it."""
    decay = training.config.train.ema
    if decay is None:
        return
    from ignite.handlers import EMAHandler

    # Ignite's momentum is the weight of the new value: ema = (1 - m) * ema + m * weights.
    handler = EMAHandler(training.generator, momentum=1.0 - decay)
    handler.attach(training.engine, name="ema_momentum", event=Events.ITERATION_COMPLETED)
    training.generator_ema = handler.ema_model
    training.to_save["generator_ema"] = handler.ema_model


def attach_running_averages(engine: Engine) -> None:
    for key in RUNNING_KEYS:
        RunningAverage(output_transform=lambda out, k=key: out[k], alpha=0.98).attach(
            engine, f"avg_{key}"
        )


def attach_nan_guard(engine: Engine) -> None:
    """Stop at a NaN/inf loss and remember where; checkpoints skip that iteration."""
    engine.state.nan_iteration = None

    @engine.on(Events.ITERATION_COMPLETED)
    def _check(engine: Engine) -> None:
        bad = not all(math.isfinite(engine.state.output[k]) for k in ("loss_d", "loss_g"))
        if idist.get_world_size() > 1:  # every rank stops together
            flag = torch.tensor([float(bad)], device=idist.device())
            bad = bool(idist.all_reduce(flag, "MAX").item())
        if bad:
            engine.state.nan_iteration = engine.state.iteration
            logger.error(
                "non-finite loss at iteration %d: %s", engine.state.iteration, engine.state.output
            )
            engine.terminate()


def attach_progress_bar(engine: Engine) -> None:
    from ignite.handlers import ProgressBar

    ProgressBar(persist=True).attach(engine, metric_names=[f"avg_{k}" for k in RUNNING_KEYS[:2]])


def _healthy(engine: Engine) -> bool:
    return getattr(engine.state, "nan_iteration", None) is None


def attach_sample_grid(training: Training) -> None:
    """Every ``sample_every`` iterations and at the end: a grid from fixed noise, PNG + TB."""
    from torchvision.utils import make_grid, save_image

    config = training.config
    noise = torch.randn(
        config.train.num_samples,
        training.generator.latent_dim,
        generator=torch.Generator().manual_seed(config.seed + 12345),  # never the global RNG
    ).to(training.device)
    samples_dir = training.run_dir / SAMPLES_DIR
    nrow = max(1, int(math.sqrt(config.train.num_samples)))

    def save(engine: Engine) -> None:
        if not _healthy(engine):
            return
        images = sample_images(training.sampling_generator, noise)
        if images.dim() != 4:  # non-image data (2-D points) has no grid
            return
        grid = make_grid(images, nrow=nrow, normalize=True, value_range=(-1, 1))
        save_image(grid, samples_dir / f"iter_{engine.state.iteration:07d}.png")
        engine.state.last_grid = grid

    training.engine.add_event_handler(
        Events.ITERATION_COMPLETED(every=config.train.sample_every) | Events.COMPLETED, save
    )


@torch.no_grad()
def sample_images(generator: nn.Module, noise: torch.Tensor) -> torch.Tensor:
    """Generator outputs for ``noise`` in eval mode (batch-norm running statistics)."""
    was_training = generator.training
    generator.eval()
    try:
        return generator(noise).float().cpu()
    finally:
        generator.train(was_training)


def activation_parameters(model: nn.Module, prefix: str) -> dict[str, torch.Tensor]:
    """Every learnable activation parameter, named ``prefix/<layer>/<param>``."""
    found = {}
    for layer_name, module in activation_layers(model):
        for param_name, param in module.named_parameters():
            found[f"{prefix}/{layer_name}/{param_name}"] = param.detach()
    return found


def _scalars(training: Training, engine: Engine) -> dict[str, float]:
    output = engine.state.output
    values = {k: float(v) for k, v in output.items()}
    values.update({k: float(v) for k, v in engine.state.metrics.items()})
    values["lr_g"] = training.optimizer_g.param_groups[0]["lr"]
    values["lr_d"] = training.optimizer_d.param_groups[0]["lr"]
    for name, param in {
        **activation_parameters(training.generator, "generator"),
        **activation_parameters(training.discriminator, "discriminator"),
    }.items():
        if param.numel() == 1:
            values[name] = float(param)
    return values


def attach_metrics_file(training: Training) -> None:
    """One JSON line per logged iteration in ``metrics.jsonl`` (appended on resume).

    The file is opened when the run starts, so a run that fails while being set up (a
    checkpoint that does not fit, say) leaves the run directory as it was.
    """
    path = training.run_dir / METRICS_FILE
    handles: list[Any] = []

    def open_file(engine: Engine) -> None:
        if not handles:
            handles.append(path.open("a"))

    def close() -> None:
        while handles:
            handles.pop().close()

    training.closers.append(close)
    training.engine.add_event_handler(Events.STARTED, open_file)

    def write(engine: Engine) -> None:
        record = {"iteration": engine.state.iteration, "epoch": engine.state.epoch}
        record.update(_scalars(training, engine))
        handles[0].write(json.dumps(record) + "\n")
        handles[0].flush()

    training.engine.add_event_handler(
        Events.ITERATION_COMPLETED(every=training.config.train.log_every), write
    )


def attach_tensorboard(training: Training) -> None:
    """Scalars (losses, D outputs, learning rates, gradient norms, activation parameters),
    histograms of per-channel activation parameters, and the sample grids, in ``tb/``.
    The event file is created when the run starts (see :func:`attach_metrics_file`)."""
    from torch.utils.tensorboard import SummaryWriter

    writers: list[SummaryWriter] = []

    def open_writer(engine: Engine) -> None:
        if not writers:
            writers.append(SummaryWriter(log_dir=str(training.run_dir / TENSORBOARD_DIR)))

    def close() -> None:
        while writers:
            writers.pop().close()

    training.closers.append(close)
    training.engine.add_event_handler(Events.STARTED, open_writer)
    config = training.config

    def log(engine: Engine) -> None:
        writer = writers[0]
        step = engine.state.iteration
        for key, value in _scalars(training, engine).items():
            tag = key if "/" in key else f"train/{key}"
            writer.add_scalar(tag, value, step)
        for prefix, model in (
            ("generator", training.generator),
            ("discriminator", training.discriminator),
        ):
            for name, param in activation_parameters(model, prefix).items():
                if param.numel() > 1:
                    writer.add_histogram(name, param.cpu(), step)

    def log_grid(engine: Engine) -> None:
        grid = getattr(engine.state, "last_grid", None)
        if grid is not None:
            writers[0].add_image("samples", grid, engine.state.iteration)

    training.engine.add_event_handler(Events.ITERATION_COMPLETED(every=config.train.log_every), log)
    training.engine.add_event_handler(
        Events.ITERATION_COMPLETED(every=config.train.sample_every) | Events.COMPLETED, log_grid
    )


def attach_checkpoints(training: Training) -> None:
    """Checkpoint every ``checkpoint_every`` iterations and at the end (atomic writes)."""
    config = training.config
    saver = DiskSaver(
        str(training.run_dir / CHECKPOINT_DIR), require_empty=False, atomic=True, create_dir=True
    )
    checkpoint = Checkpoint(
        training.to_save,
        saver,
        filename_prefix="",
        filename_pattern="checkpoint_{global_step}.{ext}",
        n_saved=config.train.keep_checkpoints,
        global_step_transform=lambda engine, _: engine.state.iteration,
    )

    def save(engine: Engine) -> None:
        if not _healthy(engine):
            return  # never write weights that produced NaN
        if checkpoint.last_checkpoint is not None and str(checkpoint.last_checkpoint).endswith(
            f"checkpoint_{engine.state.iteration}.pt"
        ):
            return  # the end fell on a checkpoint iteration: already saved
        try:
            checkpoint(engine)
        except OSError as exc:
            raise CheckpointError(
                f"cannot write a checkpoint in {training.run_dir / CHECKPOINT_DIR}: "
                f"{exc.strerror or exc}. Free disk space or fix the permissions, then resume."
            ) from None

    training.engine.add_event_handler(
        Events.ITERATION_COMPLETED(every=config.train.checkpoint_every) | Events.COMPLETED, save
    )
    training.checkpoint = checkpoint


def restore(training: Training, checkpoint: dict[str, Any]) -> None:
    """Load a checkpoint's objects into ``training`` (models, optimizers, engine, RNG)."""
    to_load = {k: v for k, v in training.to_save.items() if k != "config"}
    missing = [k for k in to_load if k not in checkpoint]
    if missing:
        raise CheckpointError(f"the checkpoint lacks {', '.join(missing)}; it cannot resume")
    try:
        Checkpoint.load_objects(to_load=to_load, checkpoint=checkpoint)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise CheckpointError(
            f"the checkpoint does not fit this run's models ({_first_problem(exc)}); was it "
            f"written by a different architecture or config? Compare the run's config.yaml "
            f"with the config saved in the checkpoint."
        ) from None


def _first_problem(exc: Exception) -> str:
    """The informative part of a load_state_dict error: its heading and first detail line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        detail = lines[1].split(". ")[0]
        return f"{lines[0]} {detail[:300]}"
    return lines[0] if lines else type(exc).__name__
