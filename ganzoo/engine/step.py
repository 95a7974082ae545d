"""The one GAN update every training in ganzoo runs: ``n_critic`` D updates, then one G update.

``ganzoo train`` (as Ignite's process function), the 2-D mixture and the Stacked MNIST
benchmarks all train through :class:`GANStep`. The loss (``ganzoo.losses``) calls the critic
itself, so penalties live in the loss; augmentation and labels live in the critic the step
hands it; the generator's inputs come from :func:`ganzoo.sampling.draw_inputs`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from ganzoo.architectures.protocol import num_classes_of
from ganzoo.augment import DiffAugment
from ganzoo.errors import DataError
from ganzoo.losses import GANLoss, Samples
from ganzoo.losses.penalties import WassersteinGP, WithR1
from ganzoo.sampling import GeneratorInput, draw_inputs, generate


def gradient_norm(module: nn.Module) -> float:
    """The L2 norm of all of ``module``'s gradients together."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0


def split_batch(batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(images, labels or None) from a loader batch: a tensor, or (images, labels, ...)."""
    if isinstance(batch, list | tuple):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


class GANStep:
    """One training iteration: ``step(engine, batch) -> dict of floats`` for Ignite, or
    ``step.update(batch, iteration)`` in a plain loop.

    ``batch`` holds ``n_critic`` real batches back to back (the loader draws n_critic x
    batch_size images per iteration); each D update takes its own. Every D update sees a new
    generated batch; the generator is then updated through the freshly updated D on the last
    one (``fresh_generator_batch``: on a newly drawn one instead). The loss sees D through a
    critic that augments images (``augment``) and passes labels to conditional networks.
    Logged: ``loss_d`` and the loss's statistics (means over the D updates), ``loss_g``.

    ``noise``: the torch.Generator the generator's inputs are drawn from (None: the global
    RNG). ``autocast_dtype`` (bfloat16 or float16) runs the forward passes under autocast;
    ``scaler`` (float16's GradScaler) scales the losses (with a scaler and no dtype: float16).
    ``compile_mode`` (a torch.compile mode) compiles G, D and the loss once; a loss with a
    penalty (double backward, which compiled graphs cannot do) keeps D and the loss eager.
    ``channels_last`` hands the real batches over in channels-last memory (models converted by
    the caller). ``grad_norm_every`` adds ``grad_norm_d``/``grad_norm_g`` on those iterations.

    Nothing here waits for the device: the logged values stay on it (``__call__`` returns 0-d
    tensors, read by the handlers once per ``log_every``); ``update`` returns floats. Labels
    are checked per batch only while they are on the CPU; labels already on the device come
    from a dataset checked whole before training.

    Under torch.distributed the networks come wrapped in DistributedDataParallel; ``rank`` and
    ``world_size`` pick this process's slice of inputs drawn for the global batch (every rank's
    RNG is in the same state, so the slices differ and one checkpointed RNG state serves every
    rank). The generator's update goes through the unwrapped discriminator.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        optimizer_g: torch.optim.Optimizer,
        optimizer_d: torch.optim.Optimizer,
        loss: GANLoss,
        device: torch.device,
        *,
        n_critic: int = 1,
        augment: DiffAugment | None = None,
        scaler: torch.amp.GradScaler | None = None,
        autocast_dtype: torch.dtype | None = None,
        compile_mode: str | None = None,
        compile_backend: str = "inductor",
        channels_last: bool = False,
        grad_norm_every: int = 0,
        after_generator_update: Callable[[], None] | None = None,
        noise: torch.Generator | None = None,
        fresh_generator_batch: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if n_critic < 1:
            raise ValueError(f"n_critic must be at least 1, got {n_critic}")
        self.generator = generator
        self.discriminator = discriminator
        self.optimizer_g = optimizer_g
        self.optimizer_d = optimizer_d
        self.loss = loss
        self.device = device
        self.n_critic = n_critic
        self.augment = augment if augment is not None and augment.enabled else None
        self.scaler = scaler
        self.grad_norm_every = grad_norm_every
        self.after_generator_update = after_generator_update
        self.noise = noise
        self.fresh_generator_batch = fresh_generator_batch
        self.rank = rank
        self.world_size = world_size
        self.generator_module = getattr(generator, "module", generator)
        self.discriminator_module = getattr(discriminator, "module", discriminator)
        self.latent_dim = self.generator_module.latent_dim
        self.num_classes = num_classes_of(self.generator_module)
        if autocast_dtype is None and scaler is not None:
            autocast_dtype = torch.float16
        self.autocast_dtype = autocast_dtype
        self.channels_last = channels_last
        self.compile_mode = compile_mode
        self._build_callables(compile_mode, compile_backend)

    def _build_callables(self, compile_mode: str | None, backend: str) -> None:
        """The networks and loss functions the update calls: compiled once, or as they are.
        (``backend`` other than inductor, e.g. aot_eager, takes no mode: for tests.)"""
        generator, discriminator = self.generator, self.discriminator
        discriminator_module = self.discriminator_module
        eager_critic = needs_double_backward(self.loss)
        options = {"mode": compile_mode} if backend == "inductor" else {"backend": backend}

        def compiled(function: Any) -> Any:
            return torch.compile(function, **options)

        if compile_mode is not None:
            generator = compiled(generator)
            if not eager_critic:
                discriminator = compiled(discriminator)
                discriminator_module = compiled(discriminator_module)
        self._generator_fn = generator
        critic_d = self._critic(discriminator)
        critic_g = self._critic(discriminator_module)
        loss = self.loss

        def d_objective(real: Samples, fake: Samples) -> tuple[torch.Tensor, dict]:
            result = loss.discriminator_loss(critic_d, real, fake)
            return result.loss, result.stats

        def g_objective(fake: Samples) -> tuple[torch.Tensor, dict]:
            result = loss.generator_loss(critic_g, fake)
            return result.loss, result.stats

        if compile_mode is not None and not eager_critic:
            d_objective = compiled(d_objective)
            g_objective = compiled(g_objective)
        self._d_objective = d_objective
        self._g_objective = g_objective

    # -- pieces ---------------------------------------------------------------------------

    def _autocast(self) -> Any:
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def _update(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)

    def _critic(self, network: nn.Module) -> Callable[[Samples], torch.Tensor]:
        """D as the loss sees it: augmented images, labels when conditional, float32 scores."""

        def critic(samples: Samples) -> torch.Tensor:
            images = samples.images if self.augment is None else self.augment(samples.images)
            if self.num_classes:
                return network(images, samples.labels).float()
            return network(images).float()

        return critic

    def _inputs(self, batch_size: int) -> GeneratorInput:
        """This rank's share of generator inputs drawn for the global batch."""
        inputs = draw_inputs(
            batch_size * self.world_size,
            self.latent_dim,
            self.num_classes,
            source=self.noise,
            device=None if self.noise is not None else self.device,
        )
        if self.noise is not None:
            inputs = inputs.to(self.device)
        return inputs.slice(self.rank * batch_size, (self.rank + 1) * batch_size)

    def _real_batches(self, batch: Any) -> list[Samples]:
        images, labels = split_batch(batch)
        if images.shape[0] % self.n_critic:
            raise ValueError(
                f"a batch of {images.shape[0]} images cannot feed n_critic={self.n_critic} "
                f"discriminator updates evenly"
            )
        if self.num_classes:
            labels = self._checked_labels(labels, images.shape[0])
            label_parts = labels.to(self.device, non_blocking=True).chunk(self.n_critic)
        else:
            label_parts = (None,) * self.n_critic
        images = images.to(self.device, non_blocking=True)
        if self.channels_last and images.ndim == 4:
            images = images.contiguous(memory_format=torch.channels_last)
        parts = images.chunk(self.n_critic)
        return [Samples(x, y) for x, y in zip(parts, label_parts, strict=True)]

    def _checked_labels(self, labels: torch.Tensor | None, count: int) -> torch.Tensor:
        if labels is None or not torch.is_tensor(labels) or labels.shape[0] != count:
            raise DataError(
                "the generator is class-conditional but the data loader gives no labels; use "
                "a labelled dataset or set num_classes: 0"
            )
        if labels.device.type != "cpu":  # checked whole before training; no sync per batch
            return labels
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= self.num_classes:
            raise DataError(
                f"the data has label {low if low < 0 else high}, outside the model's "
                f"num_classes={self.num_classes} (labels 0..{self.num_classes - 1}); unlabelled "
                f"data has -1. Raise num_classes or filter the classes (data.classes)."
            )
        return labels

    # -- the update -----------------------------------------------------------------------

    def __call__(self, engine: Any, batch: Any) -> dict[str, torch.Tensor | float]:
        return self.run(batch, engine.state.iteration)

    def update(self, batch: Any, iteration: int = 0) -> dict[str, float]:
        """Train on ``batch`` (``n_critic`` real batches back to back); return what to log."""
        return {key: float(value) for key, value in self.run(batch, iteration).items()}

    def run(self, batch: Any, iteration: int = 0) -> dict[str, torch.Tensor | float]:
        """As :meth:`update`, with the logged values left on the device as 0-d tensors (the D
        statistics as float64 means over the D updates; gradient norms as floats)."""
        reals = self._real_batches(batch)
        batch_size = reals[0].images.shape[0]
        self.generator.train()
        self.discriminator.train()
        want_norms = self.grad_norm_every and iteration % self.grad_norm_every == 0

        totals: dict[str, torch.Tensor] = {}
        fake = inputs = None
        for index, real in enumerate(reals):
            last = index == self.n_critic - 1
            inputs = self._inputs(batch_size)
            # Only the last D update's generated batch is reused (with its graph) for G's update.
            keep_graph = last and not self.fresh_generator_batch
            with self._autocast(), nullcontext() if keep_graph else torch.no_grad():
                fake = generate(self._generator_fn, inputs)
            with self._autocast():
                loss_d, stats = self._d_objective(real, Samples(fake.detach(), inputs.y))
            self._update(loss_d, self.optimizer_d)
            for key, value in {"loss_d": loss_d, **stats}.items():
                value = value.detach().double()
                totals[key] = totals[key] + value if key in totals else value
        norms = {"grad_norm_d": gradient_norm(self.discriminator)} if want_norms else {}

        if self.fresh_generator_batch:
            inputs = self._inputs(batch_size)
            with self._autocast():
                fake = generate(self._generator_fn, inputs)
        # The generator's loss flows through D, but D's own weight gradients are not needed.
        self.discriminator_module.requires_grad_(False)
        try:
            with self._autocast():
                loss_g, stats_g = self._g_objective(Samples(fake, inputs.y))
            self._update(loss_g, self.optimizer_g)
        finally:
            self.discriminator_module.requires_grad_(True)
        if want_norms:
            norms["grad_norm_g"] = gradient_norm(self.generator)
        if self.scaler is not None:
            self.scaler.update()
        if self.after_generator_update is not None:
            self.after_generator_update()

        output: dict[str, torch.Tensor | float] = {
            key: total / self.n_critic for key, total in totals.items()
        }
        # Copies when compiled: CUDA graphs (reduce-overhead) reuse their outputs' memory.
        keep = torch.clone if self.compile_mode is not None else lambda value: value
        output["loss_g"] = keep(loss_g.detach())
        for key, value in stats_g.items():
            output[f"{key}_g"] = keep(value.detach())
        return {**output, **norms}


def needs_double_backward(loss: GANLoss) -> bool:
    """Whether ``loss`` differentiates through a gradient (WGAN-GP, R1): its critic stays eager
    under ``train.compile``, since compiled graphs have no double backward."""
    return isinstance(loss, WassersteinGP | WithR1) or bool(
        getattr(loss, "needs_double_backward", False)
    )
