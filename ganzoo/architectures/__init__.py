"""GAN architectures by name: each is a generator class and a discriminator class.

Plugins add architectures through the ``ganzoo.architectures`` entry-point group, with the same
rules as activations; what a network must provide is :mod:`ganzoo.architectures.protocol`
(``G(z, y=None)``, ``D(x, y=None) -> (N,)``, ``data_shape``, ``latent_dim``, ``num_classes``,
``check_data_shape``, ``activation_slots``), checked when the architecture registers.
"""

from __future__ import annotations

from torch import nn

from ganzoo.architectures import dcgan, mlp, resnet
from ganzoo.architectures.layers import is_hidden_activation
from ganzoo.architectures.protocol import Architecture, check_network_class
from ganzoo.errors import RegistryError
from ganzoo.registry import Registry

__all__ = ["ARCHITECTURES", "Architecture", "activation_layers", "get_architecture"]


def _check_architecture(name: str, obj: object) -> None:
    if not isinstance(obj, Architecture):
        raise RegistryError(
            f"architecture {name!r} must be a ganzoo.architectures.Architecture(generator, "
            f"discriminator), got {obj!r}"
        )
    check_network_class("generator", obj.generator)
    check_network_class("discriminator", obj.discriminator)


ARCHITECTURES = Registry("architecture", "ganzoo.architectures", check=_check_architecture)
ARCHITECTURES.register("dcgan", dcgan.ARCHITECTURE)
ARCHITECTURES.register("mlp", mlp.ARCHITECTURE)
ARCHITECTURES.register("resnet", resnet.ARCHITECTURE)


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
