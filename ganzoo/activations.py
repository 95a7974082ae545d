"""The activation registry and the built-in activations.

The registry hands out classes; :func:`create_activation` builds a new module on every call, so
every layer owns its own learnable parameters (a PReLU slope, a PSF alpha). Third-party
activations (PSF among them) arrive through the ``ganzoo.activations`` entry-point group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from ganzoo.errors import RegistryError
from ganzoo.registry import Registry

ACTIVATIONS = Registry("activation", "ganzoo.activations")

ActivationSpec = str | type[nn.Module] | None


class LeakyReLU(nn.LeakyReLU):
    """LeakyReLU with DCGAN's negative slope of 0.2 as the default (PyTorch's is 0.01)."""

    def __init__(self, negative_slope: float = 0.2, inplace: bool = False) -> None:
        super().__init__(negative_slope=negative_slope, inplace=inplace)


ACTIVATIONS.register("relu", nn.ReLU)
ACTIVATIONS.register("leaky_relu", LeakyReLU)
ACTIVATIONS.register("prelu", nn.PReLU)
ACTIVATIONS.register("elu", nn.ELU)
ACTIVATIONS.register("tanh", nn.Tanh)
ACTIVATIONS.register("sigmoid", nn.Sigmoid)
ACTIVATIONS.register("identity", nn.Identity)
# Smooth and self-normalising activations, with PyTorch's defaults and keyword arguments
# (gelu: approximate="none"; softplus: beta=1, threshold=20; celu: alpha=1).
ACTIVATIONS.register("gelu", nn.GELU)
ACTIVATIONS.register("silu", nn.SiLU)
ACTIVATIONS.register("mish", nn.Mish)
ACTIVATIONS.register("selu", nn.SELU)
ACTIVATIONS.register("softplus", nn.Softplus)
ACTIVATIONS.register("celu", nn.CELU)
ACTIVATIONS.register("hardswish", nn.Hardswish)
ACTIVATIONS.register("softsign", nn.Softsign)  # PSF's negative half at alpha = 0


def get_activation(spec: ActivationSpec) -> type[nn.Module]:
    """Resolve a spec (a registered name, an ``nn.Module`` subclass, or None) to a class.

    None means no activation and resolves to ``nn.Identity``.
    """
    if spec is None:
        return nn.Identity
    if isinstance(spec, str):
        return ACTIVATIONS.get(spec)
    if isinstance(spec, type) and issubclass(spec, nn.Module):
        return spec
    raise RegistryError(
        f"an activation must be a registered name, an nn.Module subclass or None; got {spec!r}. "
        f"Registered activations: {', '.join(ACTIVATIONS.names())}."
    )


def create_activation(spec: ActivationSpec, **kwargs: Any) -> nn.Module:
    """Build a new activation module from ``spec``; ``kwargs`` go to its constructor."""
    cls = get_activation(spec)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise RegistryError(
            f"cannot build activation {spec!r} ({cls.__qualname__}) with arguments {kwargs}: "
            f"{exc}. Check the activation's *_kwargs in the config."
        ) from exc


@dataclass(frozen=True)
class ActivationInfo:
    """What `ganzoo activations` shows for one name."""

    name: str
    origin: str
    qualname: str
    parameters: dict[str, tuple[int, ...]]  # learnable parameter name -> shape, default build
    error: str | None = None


def describe_activations() -> list[ActivationInfo]:
    """Every registered activation with its origin and learnable parameters.

    A plugin that fails to import is listed with its error rather than hiding the others.
    """
    infos = []
    for name in ACTIVATIONS.names():
        origin = ACTIVATIONS.origin(name)
        try:
            cls = ACTIVATIONS.get(name)
            module = cls()
        except Exception as exc:  # a broken plugin must not hide the rest of the list
            infos.append(ActivationInfo(name, origin, "?", {}, error=str(exc)))
            continue
        params = {n: tuple(p.shape) for n, p in module.named_parameters()}
        infos.append(ActivationInfo(name, origin, f"{cls.__module__}.{cls.__qualname__}", params))
    return infos
