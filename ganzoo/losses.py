"""GAN losses on discriminator logits: one function each for D and G, picked by name.

All losses take raw logits (never probabilities), so the non-saturating BCE is computed with
``binary_cross_entropy_with_logits``, which is numerically stable where Sigmoid + BCELoss is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ganzoo.errors import ConfigError

Tensor = torch.Tensor


@dataclass(frozen=True)
class GANLoss:
    """A pair of losses on logits: ``discriminator(real, fake)`` and ``generator(fake)``."""

    name: str
    discriminator: Callable[[Tensor, Tensor], Tensor]
    generator: Callable[[Tensor], Tensor]


def _bce_d(real: Tensor, fake: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(
        real, torch.ones_like(real)
    ) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


def _bce_g(fake: Tensor) -> Tensor:
    # Non-saturating: maximise log D(G(z)) instead of minimising log(1 - D(G(z))).
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


def _hinge_d(real: Tensor, fake: Tensor) -> Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def _hinge_g(fake: Tensor) -> Tensor:
    return -fake.mean()


def _lsgan_d(real: Tensor, fake: Tensor) -> Tensor:
    return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()


def _lsgan_g(fake: Tensor) -> Tensor:
    return 0.5 * ((fake - 1.0) ** 2).mean()


LOSSES: dict[str, GANLoss] = {
    "bce": GANLoss("bce", _bce_d, _bce_g),
    "hinge": GANLoss("hinge", _hinge_d, _hinge_g),
    "lsgan": GANLoss("lsgan", _lsgan_d, _lsgan_g),
}


def get_loss(name: str) -> GANLoss:
    """The loss pair called ``name``: ``bce`` (non-saturating, default), ``hinge`` or ``lsgan``."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ConfigError(
            f"unknown loss {name!r} in train.loss; choose one of {', '.join(LOSSES)}"
        ) from None
