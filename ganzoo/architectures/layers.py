"""Helpers shared by the architectures: per-layer activation specs, tagging, weight init.

Every hidden activation is a new module from :func:`ganzoo.activations.create_activation`, so a
learnable activation (PReLU, PSF) owns its parameters in each layer. Hidden activations are
tagged with :data:`HIDDEN_ACTIVATION_TAG`, which is how
:func:`ganzoo.architectures.activation_layers` finds them without guessing by class name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ganzoo.activations import create_activation
from ganzoo.errors import ConfigError, RegistryError

HIDDEN_ACTIVATION_TAG = "_ganzoo_hidden_activation"

# A kwarg value of this string is replaced by the layer's channel (or feature) count, e.g.
# ``{"name": "prelu", "kwargs": {"num_parameters": "channels"}}`` gives one slope per channel.
CHANNELS = "channels"


@dataclass(frozen=True)
class LayerActivation:
    """The activation chosen for one hidden layer: a registry spec and constructor kwargs."""

    spec: Any  # a registered name or an nn.Module subclass
    kwargs: dict[str, Any] = field(default_factory=dict)

    def build(self, channels: int) -> nn.Module:
        """A new, tagged activation module; ``"channels"`` kwarg values become ``channels``."""
        kwargs = {
            k: (channels if isinstance(v, str) and v == CHANNELS else v)
            for k, v in self.kwargs.items()
        }
        module = create_activation(self.spec, **kwargs)
        setattr(module, HIDDEN_ACTIVATION_TAG, True)
        return module


def is_hidden_activation(module: nn.Module) -> bool:
    """True for a module built as a hidden activation by an architecture."""
    return bool(getattr(module, HIDDEN_ACTIVATION_TAG, False))


def resolve_layer_activations(
    network: str,
    count: int,
    activation: Any,
    activation_kwargs: Mapping[str, Any] | None,
    layer_activations: Sequence[Any] | None,
    slot_names: Sequence[str] | None = None,
) -> list[LayerActivation]:
    """One :class:`LayerActivation` per hidden layer, in forward order.

    ``layer_activations`` has exactly ``count`` entries, each None (the network default
    ``activation`` with ``activation_kwargs``), a name (that activation with no kwargs), or a
    mapping ``{"name": ..., "kwargs": {...}}`` (without ``name``: the default activation with
    ``activation_kwargs`` updated by ``kwargs``). ``network`` (e.g. "dcgan generator") names the
    network in errors; ``slot_names`` (the architecture's ``activation_slots``, ``count`` of them)
    are listed in the error for a list of the wrong length, so the user sees the order.
    """
    if slot_names is not None and len(slot_names) != count:
        raise AssertionError(f"{network}: {len(slot_names)} slot names for {count} slots")
    order = f" Their order: {', '.join(slot_names)}." if slot_names else ""
    default_kwargs = _as_kwargs(activation_kwargs, f"{network} activation_kwargs")
    default = LayerActivation(activation, default_kwargs)
    if layer_activations is None:
        return [default] * count
    if isinstance(layer_activations, (str, bytes, Mapping)) or not isinstance(
        layer_activations, Sequence
    ):
        raise ConfigError(
            f"{network} layer_activations must be a list with one entry per hidden activation "
            f"layer ({count} expected); got {layer_activations!r}.{order}"
        )
    entries = list(layer_activations)
    if len(entries) != count:
        raise ConfigError(
            f"{network} layer_activations has {len(entries)} entries but the network has "
            f"{count} hidden activation layers; give exactly {count} entries (null keeps the "
            f"default {activation!r} for that layer).{order}"
        )
    return [_resolve_entry(network, i, count, e, default) for i, e in enumerate(entries)]


def _resolve_entry(
    network: str, index: int, count: int, entry: Any, default: LayerActivation
) -> LayerActivation:
    where = f"{network} layer_activations[{index}] (hidden layer {index + 1} of {count})"
    if entry is None:
        return default
    if isinstance(entry, str) or (isinstance(entry, type) and issubclass(entry, nn.Module)):
        return LayerActivation(entry)
    if isinstance(entry, Mapping):
        unknown = set(entry) - {"name", "kwargs"}
        if unknown:
            raise ConfigError(
                f"{where}: unknown keys {sorted(unknown)}; an entry is null, an activation "
                f"name, or a mapping with 'name' and 'kwargs'."
            )
        kwargs = _as_kwargs(entry.get("kwargs"), f"{where} kwargs")
        name = entry.get("name")
        if name is None:
            return LayerActivation(default.spec, {**default.kwargs, **kwargs})
        if not isinstance(name, str):
            raise ConfigError(f"{where}: 'name' must be an activation name; got {name!r}.")
        return LayerActivation(name, kwargs)
    raise ConfigError(
        f"{where}: expected null, an activation name, or a mapping with 'name' and 'kwargs'; "
        f"got {entry!r}."
    )


def _as_kwargs(kwargs: Any, where: str) -> dict[str, Any]:
    if kwargs is None:
        return {}
    if not isinstance(kwargs, Mapping):
        raise ConfigError(f"{where} must be a mapping of argument names to values; got {kwargs!r}.")
    return {str(k): v for k, v in kwargs.items()}


def build_activations(
    network: str, plan: Sequence[LayerActivation], channels: Sequence[int]
) -> list[nn.Module]:
    """Build every hidden activation of ``plan``; errors name the network and the layer."""
    modules = []
    for i, (layer, width) in enumerate(zip(plan, channels, strict=True)):
        try:
            modules.append(layer.build(width))
        except (RegistryError, ConfigError) as exc:  # unknown name, bad kwargs
            raise ConfigError(
                f"{network} hidden activation layer {i + 1} of {len(plan)}: {exc}"
            ) from exc
    return modules


def check_num_classes(network: str, value: Any) -> int:
    """``num_classes`` as an int: 0 (unconditional) or a class count; anything else refused."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"{network} num_classes must be 0 (unconditional) or the number of classes; "
            f"got {value!r}."
        )
    return value


def as_shape(data_shape: Any) -> tuple[int, ...]:
    """``data_shape`` (any sequence of positive ints, e.g. an OmegaConf list) as a tuple."""
    try:
        shape = tuple(int(d) for d in data_shape)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"data shape must be a sequence of integers; got {data_shape!r}."
        ) from exc
    if not shape or any(d <= 0 for d in shape):
        raise ConfigError(f"data shape must be non-empty positive integers; got {data_shape!r}.")
    return shape


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN init (Radford et al. 2016): conv/linear weights ~ N(0, 0.02), BN weights ~
    N(1, 0.02), biases 0. Activation parameters (a PReLU slope, a PSF alpha) are left alone."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
