"""GAN architectures by name: each is a generator class and a discriminator class.

Plugins add architectures through the ``ganzoo.architectures`` entry-point group, with the same
rules as activations. A generator takes ``z`` of shape (N, latent_dim) and has a ``latent_dim``
attribute; a discriminator returns one logit per sample, shape (N,).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ganzoo.registry import Registry

ARCHITECTURES = Registry("architecture", "ganzoo.architectures")


@dataclass(frozen=True)
class Architecture:
    """A generator class and a discriminator class that are trained together."""

    generator: type[nn.Module]
    discriminator: type[nn.Module]


def get_architecture(name: str) -> Architecture:
    """The architecture registered as ``name`` (e.g. ``dcgan``)."""
    return ARCHITECTURES.get(name)
