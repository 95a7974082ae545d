"""Small factories the trainer wires together: device, models, optimizers, loss, data loader.

Each takes the experiment config (and what it needs besides) and returns one thing, so the
benchmarks and tests can build the very pieces ``ganzoo train`` uses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from ignite.engine.deterministic import ReproducibleBatchSampler
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler

from ganzoo.architectures.protocol import check_network
from ganzoo.augment import DiffAugment
from ganzoo.config import (
    ExperimentConfig,
    build_checked_loss,
    build_network,
    data_shape,
    precision_of,
)
from ganzoo.data.base import ImageTensorDataset
from ganzoo.data.block_loader import InMemoryBlockLoader
from ganzoo.errors import ConfigError, DataError
from ganzoo.losses import GANLoss

logger = logging.getLogger(__name__)


def resolve_device(name: str, key: str = "train.device") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; an unavailable device is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{key} is {name!r} but CUDA is not available here; use {key}=auto")
    return device


def check_device(config: ExperimentConfig) -> torch.device:
    """The device ``config`` trains on; refuses fp16 (``train.precision=fp16`` or the old
    ``train.amp``) where there is no CUDA."""
    device = resolve_device(config.train.device)
    if precision_of(config.train) == "fp16" and device.type != "cuda":
        if config.train.amp:
            raise ConfigError(
                "train.amp: true needs a CUDA device (float16 mixed precision with a "
                f"GradScaler); this run is on {device}. Set train.amp=false to train on the CPU "
                "(or train.precision=bf16)."
            )
        raise ConfigError(
            "train.precision=fp16 needs a CUDA device (float16 autocast with a GradScaler); "
            f"this run is on {device}. Use train.precision=bf16 or fp32 on the CPU."
        )
    return device


def autocast_dtype(config: ExperimentConfig) -> torch.dtype | None:
    """The autocast dtype of ``train.precision``; None for plain float32."""
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision_of(config.train)]


def build_scaler(config: ExperimentConfig, device: torch.device) -> torch.amp.GradScaler | None:
    """A GradScaler for fp16 (its state is checkpointed); bf16 and fp32 need none."""
    if precision_of(config.train) != "fp16":
        return None
    return torch.amp.GradScaler(device.type)


def set_tf32(config: ExperimentConfig, device: torch.device) -> None:
    """On CUDA, let float32 matmuls and convolutions use TF32 (``train.tf32``) or not."""
    if device.type != "cuda":
        return
    torch.set_float32_matmul_precision("high" if config.train.tf32 else "highest")
    torch.backends.cudnn.allow_tf32 = bool(config.train.tf32)


def uses_channels_last(network: nn.Module, device: torch.device) -> bool:
    """Channels-last memory pays on CUDA for networks with 2-d convolutions."""
    return device.type == "cuda" and any(isinstance(m, nn.Conv2d) for m in network.modules())


def per_process_batch_size(config: ExperimentConfig, world_size: int) -> int:
    """``train.batch_size`` is the global batch, split evenly over the processes."""
    batch_size = config.train.batch_size
    if batch_size % world_size:
        raise ConfigError(
            f"train.batch_size is {batch_size}, which {world_size} processes cannot share "
            f"evenly; it is the global batch, so make it a multiple of {world_size}"
        )
    return batch_size // world_size


def build_models(
    config: ExperimentConfig,
    shape: tuple[int, ...],
    source: str = "the config",
    overrides: Sequence[str] = (),
) -> tuple[nn.Module, nn.Module]:
    """The generator and discriminator of ``config.architecture`` for data of ``shape``; a
    failed build is a ConfigError naming the section and where it was set (``source``, or
    the override that set it)."""
    generator = build_network(config, "generator", shape, source, overrides)
    discriminator = build_network(config, "discriminator", shape, source, overrides)
    check_network("generator", generator)
    check_network("discriminator", discriminator)
    return generator, discriminator


@dataclass
class RunModels:
    """What a run builds once from its config: the networks (on the CPU), the loss and the
    augmentation, and the CPU generator's state right after the networks were initialised."""

    generator: nn.Module
    discriminator: nn.Module
    loss: GANLoss
    augment: DiffAugment
    rng_state: torch.Tensor


def build_run_models(
    config: ExperimentConfig, source: str = "the config", overrides: Sequence[str] = ()
) -> RunModels:
    """A run's networks, from ``config.seed`` (every rank of a distributed run gets the same
    weights), and its objective, each built once. Called before the run reads its data or
    writes anything, so a bad config (an unknown activation, a bad loss option) is refused
    first, in the words :func:`ganzoo.config.validate` used when it built them on ``meta``."""
    from ganzoo.data import dataset_info

    torch.manual_seed(config.seed)
    shape = data_shape(config, dataset_info(config.data.name))
    generator, discriminator = build_models(config, shape, source, overrides)
    loss, augment = build_objective(config, source, overrides)
    return RunModels(generator, discriminator, loss, augment, torch.get_rng_state())


def network_summaries(config: ExperimentConfig) -> list[str]:
    """``generator: resnet, 4,276,739 parameters, 10 activation slots`` and the same for the
    discriminator, from networks built on the meta device (no memory, no data)."""
    from ganzoo.architectures import activation_layers
    from ganzoo.config import data_shape
    from ganzoo.data import dataset_info

    shape = data_shape(config, dataset_info(config.data.name))
    with torch.device("meta"):
        networks = build_models(config, shape)
    lines = []
    for role, network in zip(("generator", "discriminator"), networks, strict=True):
        count = sum(p.numel() for p in network.parameters())
        slots = len(activation_layers(network))
        conditional = f", {network.num_classes} classes" if network.num_classes else ""
        lines.append(
            f"{role}: {config.architecture}, {count:,} parameters, {slots} activation "
            f"slot{'s' if slots != 1 else ''}{conditional}"
        )
    return lines


def adam_betas(config: ExperimentConfig) -> tuple[tuple[float, float], tuple[float, float]]:
    """(generator betas, discriminator betas): ``train.betas_g`` / ``betas_d`` where set, else
    (``train.beta1``, ``train.beta2``) for both."""
    t = config.train
    shared = (t.beta1, t.beta2)
    betas_g = tuple(t.betas_g) if t.betas_g is not None else shared
    betas_d = tuple(t.betas_d) if t.betas_d is not None else shared
    return betas_g, betas_d  # type: ignore[return-value]


def build_optimizers(
    config: ExperimentConfig, generator: nn.Module, discriminator: nn.Module
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """Adam for each network with its own learning rate and betas (fused on CUDA)."""
    t = config.train
    betas_g, betas_d = adam_betas(config)
    # Fused Adam (one kernel for all parameters) where the parameters live on CUDA.
    fused = {"fused": True} if next(generator.parameters()).is_cuda else {}
    return (
        torch.optim.Adam(generator.parameters(), lr=t.lr_g, betas=betas_g, **fused),
        torch.optim.Adam(discriminator.parameters(), lr=t.lr_d, betas=betas_d, **fused),
    )


def build_objective(
    config: ExperimentConfig, source: str = "the config", overrides: Sequence[str] = ()
) -> tuple[GANLoss, DiffAugment]:
    """The loss (with R1 when ``train.r1_gamma`` > 0) and the augmentation D's inputs get."""
    return build_checked_loss(config, source, overrides), DiffAugment(config.train.augment)


def check_labels(dataset: Dataset, num_classes: int) -> None:
    """A conditional model's data must be labelled 0..num_classes-1 (checked before training
    when the dataset exposes its labels; the step checks every batch anyway)."""
    labels = getattr(dataset, "labels", None)
    if not num_classes or labels is None or len(labels) == 0:
        return
    low, high = int(min(labels)), int(max(labels))
    if low < 0:
        raise DataError(
            "the model is class-conditional (num_classes > 0) but the dataset has unlabelled "
            "images (label -1; an image folder is labelled only by its sub-folders); use a "
            "labelled dataset or num_classes: 0"
        )
    if high >= num_classes:
        raise DataError(
            f"the dataset has label {high}, outside num_classes={num_classes} (labels "
            f"0..{num_classes - 1}); raise num_classes in both networks or filter data.classes"
        )


def build_loader(
    config: ExperimentConfig,
    dataset: Dataset,
    rank: int = 0,
    world_size: int = 1,
    device: torch.device | None = None,
) -> DataLoader:
    """Shuffled batches of ``n_critic`` x ``batch_size`` images (each D update of an iteration
    takes its own ``batch_size``); the engine makes the order reproducible per epoch.

    With several processes every rank draws the same order of global batches (the engine seeds
    each epoch alike everywhere) and takes its own slice of each, so the shards never overlap
    and an epoch is as long as on one process.

    Given the ``device``, an in-memory dataset (:class:`ImageTensorDataset`) is handed over a
    block at a time by one index into its images on that device (the same order and random
    numbers as the DataLoader); other datasets go through the DataLoader, into pinned memory
    when the device is CUDA.
    """
    per_process_batch_size(config, world_size)
    images_per_iteration = config.train.batch_size * config.train.n_critic
    if len(dataset) < images_per_iteration:
        raise ConfigError(
            f"one iteration needs train.batch_size x train.n_critic = {images_per_iteration} "
            f"images but dataset {config.data.name!r} has only {len(dataset)}; lower "
            f"train.batch_size or train.n_critic, or raise data.limit"
        )
    # drop_last: every update sees a full batch, so losses are comparable across iterations.
    batches = BatchSampler(RandomSampler(dataset), images_per_iteration, drop_last=True)
    if world_size > 1:
        batches = ShardedBatchSampler(batches, rank, world_size)
    sampler = EagerReproducibleBatchSampler(batches)
    if device is not None and type(dataset) is ImageTensorDataset:
        return InMemoryBlockLoader(dataset, sampler, device)
    cuda = device.type == "cuda" if device is not None else torch.cuda.is_available()
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=config.data.num_workers,
        pin_memory=cuda,
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
