"""One GAN update: the discriminator, then the generator."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from ganzoo.losses import GANLoss


def gradient_norm(module: nn.Module) -> float:
    """The L2 norm of all of ``module``'s gradients together."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0


class GANStep:
    """The Ignite process function: ``step(engine, batch) -> dict of floats``.

    The discriminator sees a real batch and a generated batch of the same size; the generator is
    then updated through the freshly updated discriminator on the same generated batch. With
    ``scaler`` (CUDA mixed precision) the forward passes run under autocast in float16.
    ``grad_norm_every`` adds ``grad_norm_d`` and ``grad_norm_g`` on those iterations only, since
    the norms cost a pass over every parameter.

    Under torch.distributed the networks come wrapped in DistributedDataParallel; ``rank`` and
    ``world_size`` then pick this process's slice of a noise batch drawn for the global batch
    (every rank's RNG is in the same state, so the slices differ and the RNG state in a
    checkpoint serves every rank). The generator's update goes through the unwrapped
    discriminator, whose own gradients are not wanted.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        optimizer_g: torch.optim.Optimizer,
        optimizer_d: torch.optim.Optimizer,
        loss: GANLoss,
        device: torch.device,
        scaler: torch.amp.GradScaler | None = None,
        grad_norm_every: int = 0,
        after_generator_update: Callable[[], None] | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.optimizer_g = optimizer_g
        self.optimizer_d = optimizer_d
        self.loss = loss
        self.device = device
        self.scaler = scaler
        self.grad_norm_every = grad_norm_every
        self.after_generator_update = after_generator_update
        self.rank = rank
        self.world_size = world_size
        self.latent_dim = getattr(generator, "module", generator).latent_dim
        self.discriminator_module = getattr(discriminator, "module", discriminator)

    def _autocast(self) -> Any:
        if self.scaler is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.float16)

    def _update(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)

    def __call__(self, engine: Any, batch: Any) -> dict[str, float]:
        real = (batch[0] if isinstance(batch, list | tuple) else batch).to(self.device)
        batch_size = real.shape[0]
        self.generator.train()
        self.discriminator.train()
        z = torch.randn(batch_size * self.world_size, self.latent_dim, device=self.device)
        z = z[self.rank * batch_size : (self.rank + 1) * batch_size]
        want_norms = self.grad_norm_every and engine.state.iteration % self.grad_norm_every == 0

        with self._autocast():
            fake = self.generator(z)
            real_logits = self.discriminator(real)
            fake_logits = self.discriminator(fake.detach())
            loss_d = self.loss.discriminator(real_logits.float(), fake_logits.float())
        self._update(loss_d, self.optimizer_d)
        norms = {"grad_norm_d": gradient_norm(self.discriminator)} if want_norms else {}

        # The generator's loss flows through D, but D's own weight gradients are not needed.
        self.discriminator_module.requires_grad_(False)
        with self._autocast():
            fake_logits_g = self.discriminator_module(fake)
            loss_g = self.loss.generator(fake_logits_g.float())
        self._update(loss_g, self.optimizer_g)
        self.discriminator_module.requires_grad_(True)
        if want_norms:
            norms["grad_norm_g"] = gradient_norm(self.generator)
        if self.scaler is not None:
            self.scaler.update()
        if self.after_generator_update is not None:
            self.after_generator_update()

        with torch.no_grad():
            d_real = torch.sigmoid(real_logits.float()).mean()
            d_fake = torch.sigmoid(fake_logits.float()).mean()
        return {
            "loss_d": loss_d.item(),
            "loss_g": loss_g.item(),
            "d_real": d_real.item(),
            "d_fake": d_fake.item(),
            **norms,
        }
