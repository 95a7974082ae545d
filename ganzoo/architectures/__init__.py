"""GAN architectures by name: each is a generator class and a discriminator class.

Plugins add architectures through the ``ganzoo.architectures`` entry-point group, with the same
rules as activations. A generator takes ``z`` of shape (N, latent_dim) and has a ``latent_dim``
attribute; a discriminator returns one logit per sample, shape (N,).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ganzoo.architectures.layers import is_hidden_activation
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


def activation_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(qualified name, module) for every hidden activation of ``model``, in forward order.

    Hidden activations are the modules the architectures tag when they build them (see
    :mod:`ganzoo.architectures.layers`); output activations (tanh, logits) are not listed. The
    TensorBoard logger uses this to log each learnable activation parameter per layer.
    """
    return [(name, m) for name, m in model.named_modules() if is_hidden_activation(m)]


# Register the built-in architectures (these modules import ARCHITECTURES from here).
from ganzoo.architectures import dcgan as dcgan  # noqa: E402
from ganzoo.architectures import mlp as mlp  # noqa: E402
from ganzoo.architectures import resnet as resnet  # noqa: E402
