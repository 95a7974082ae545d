"""Gradient penalties: WGAN-GP's on interpolates (a loss) and R1 on real images (any loss).

WGAN-GP (Gulrajani et al. 2017): ``weight * E[(||grad_x D(x_hat)||_2 - 1)^2]`` at random
points x_hat on lines between real and generated images. R1 (Mescheder et al. 2018):
``gamma / 2 * E[||grad_x D(x)||^2]`` on real images, added to any loss by ``train.r1_gamma``.
"""

from __future__ import annotations

import torch

from ganzoo.errors import ConfigError
from ganzoo.losses.base import Critic, GANLoss, LossResult, Samples, input_gradient
from ganzoo.losses.standard import Wasserstein

Tensor = torch.Tensor


def gradient_penalty(critic: Critic, real: Samples, fake: Samples) -> Tensor:
    """``E[(||grad D(x_hat)||_2 - 1)^2]`` at x_hat = e * real + (1 - e) * fake, e ~ U[0, 1] per
    sample; interpolates carry the real batch's labels."""
    shape = (real.images.shape[0],) + (1,) * (real.images.dim() - 1)
    mix = torch.rand(shape, device=real.images.device, dtype=real.images.dtype)
    points = mix * real.images.detach() + (1 - mix) * fake.images.detach()
    grad = input_gradient(critic, Samples(points, real.labels))
    return ((grad.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()


def r1_penalty(critic: Critic, real: Samples) -> Tensor:
    """``E[||grad_x D(x)||^2]`` on the real batch (times gamma / 2 gives R1)."""
    grad = input_gradient(critic, real)
    return grad.flatten(1).pow(2).sum(dim=1).mean()


class WassersteinGP(Wasserstein):
    """Wasserstein loss with a gradient penalty (Gulrajani et al. 2017), weight 10 by default."""

    name = "wgan_gp"
    stat_names = ("score_real", "score_fake", "wasserstein", "gp")

    def __init__(self, gp_weight: float = 10.0) -> None:
        super().__init__()
        if not gp_weight >= 0:
            raise ConfigError(f"wgan_gp: gp_weight must be 0 or more, got {gp_weight}")
        self.gp_weight = float(gp_weight)

    def discriminator_loss(self, critic: Critic, real: Samples, fake: Samples) -> LossResult:
        result = super().discriminator_loss(critic, real, fake)
        penalty = gradient_penalty(critic, real, fake)
        result.stats["gp"] = penalty.detach()
        return LossResult(result.loss + self.gp_weight * penalty, result.stats)


class WithR1(GANLoss):
    """Any loss plus R1 on real images: ``gamma / 2 * E[||grad_x D(x)||^2]``.

    The penalty takes its own pass of D over the real batch (with input gradients)."""

    def __init__(self, base: GANLoss, gamma: float) -> None:
        if not gamma > 0:
            raise ConfigError(f"train.r1_gamma must be positive to add R1, got {gamma}")
        self.base = base
        self.gamma = float(gamma)
        self.name = f"{base.name}+r1"
        self.stat_names = (*base.stat_names, "r1")

    def discriminator_loss(self, critic: Critic, real: Samples, fake: Samples) -> LossResult:
        result = self.base.discriminator_loss(critic, real, fake)
        penalty = r1_penalty(critic, real)
        result.stats["r1"] = penalty.detach()
        return LossResult(result.loss + 0.5 * self.gamma * penalty, result.stats)

    def generator_loss(self, critic: Critic, fake: Samples) -> LossResult:
        return self.base.generator_loss(critic, fake)
