"""What ganzoo needs of an architecture: the contract every generator/discriminator pair meets.

Checked when an architecture registers (built-in or plugin: a class lacking a required
classmethod is refused with one line naming it) and again when a network is built (instance
attributes). See the README section "Adding an architecture".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from ganzoo.errors import ConfigError, RegistryError


@dataclass(frozen=True)
class Architecture:
    """A generator class and a discriminator class that are trained together."""

    generator: type[nn.Module]
    discriminator: type[nn.Module]


@runtime_checkable
class NetworkClass(Protocol):
    """Classmethods both network classes have (called with the config's keyword options)."""

    @classmethod
    def check_data_shape(cls, data_shape: Sequence[int]) -> None:
        """Raise ConfigError (listing what is supported) unless the network can be built for
        ``data_shape`` ((C, H, W) images, or a flat shape)."""

    @classmethod
    def activation_slots(cls, data_shape: Sequence[int], **options: Any) -> list[str]:
        """A readable name for every hidden activation, in forward order: the order
        ``layer_activations`` takes its entries in."""


class Generator(Protocol):
    """``forward(z, y=None)``: noise (N, latent_dim) and, when ``num_classes`` > 0, class
    indices (N,) -> samples (N, *data_shape) (images in [-1, 1])."""

    data_shape: tuple[int, ...]
    latent_dim: int
    num_classes: int  # 0: unconditional

    def __call__(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor: ...


class Discriminator(Protocol):
    """``forward(x, y=None)``: samples (N, *data_shape) and, when conditional, class indices
    -> one score (logit) per sample, shape (N,)."""

    data_shape: tuple[int, ...]
    num_classes: int

    def __call__(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor: ...


CLASS_METHODS = ("check_data_shape", "activation_slots")
INSTANCE_ATTRIBUTES = {
    "generator": ("data_shape", "latent_dim", "num_classes"),
    "discriminator": ("data_shape", "num_classes"),
}


def check_network_class(role: str, cls: Any) -> None:
    """Refuse a network class that is not an nn.Module or lacks a required classmethod."""
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise RegistryError(f"its {role} must be an nn.Module subclass, got {cls!r}")
    missing = [m for m in CLASS_METHODS if not callable(getattr(cls, m, None))]
    if missing:
        raise RegistryError(
            f"its {role} {cls.__qualname__} lacks the classmethod(s) {', '.join(missing)} "
            f"(see ganzoo.architectures.protocol)"
        )


def check_network(role: str, module: nn.Module) -> None:
    """Refuse a built network that lacks an attribute ganzoo relies on."""
    missing = [a for a in INSTANCE_ATTRIBUTES[role] if not hasattr(module, a)]
    if missing:
        raise ConfigError(
            f"the {role} {type(module).__qualname__} lacks the attribute(s) "
            f"{', '.join(missing)} that ganzoo needs (see ganzoo.architectures.protocol)"
        )


def num_classes_of(module: nn.Module) -> int:
    """The class count of a (possibly DDP-wrapped) network: 0 when unconditional."""
    return int(getattr(getattr(module, "module", module), "num_classes", 0) or 0)
