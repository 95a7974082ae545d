"""Fully connected GAN for low-dimensional data, e.g. the 2-D mode-collapse benchmarks (8
Gaussians on a ring, 25 on a grid).

Both networks have ``depth`` hidden layers of ``hidden_dim`` units, each a linear layer and a
hidden activation. The generator's output layer is linear (no tanh), reshaped to ``data_shape``;
the discriminator flattens its input and returns one logit per sample. With ``num_classes`` K > 0
both are class-conditional the simplest way (Mirza & Osindero 2014): a one-hot label of K entries
is concatenated to the generator's noise and to the discriminator's flattened input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ganzoo.architectures.layers import (
    as_shape,
    build_activations,
    check_num_classes,
    resolve_layer_activations,
)
from ganzoo.architectures.protocol import Architecture
from ganzoo.errors import ConfigError


class _Block(nn.Module):
    """A linear layer and a hidden activation (``act``)."""

    def __init__(self, in_features: int, out_features: int, act: nn.Module) -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc(x))


def _hidden_blocks(
    network: str,
    in_features: int,
    hidden_dim: int,
    depth: int,
    activation: Any,
    activation_kwargs: Mapping[str, Any] | None,
    layer_activations: Sequence[Any] | None,
) -> nn.ModuleList:
    if depth < 1 or hidden_dim < 1:
        raise ConfigError(
            f"{network} needs depth >= 1 and hidden_dim >= 1; got depth={depth}, "
            f"hidden_dim={hidden_dim}."
        )
    plan = resolve_layer_activations(
        network, depth, activation, activation_kwargs, layer_activations
    )
    acts = build_activations(network, plan, [hidden_dim] * depth)
    sizes = [in_features] + [hidden_dim] * depth
    return nn.ModuleList(_Block(sizes[i], sizes[i + 1], acts[i]) for i in range(depth))


def _with_label(network: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """``x`` with the one-hot label appended when ``network`` is conditional."""
    if not network.num_classes:
        return x
    if y is None:
        raise ValueError(f"this {type(network).__name__} is conditional: pass class labels y")
    one_hot = nn.functional.one_hot(y.long(), network.num_classes).to(x.dtype)
    return torch.cat([x, one_hot], dim=1)


class _MLPBase(nn.Module):
    @classmethod
    def check_data_shape(cls, data_shape: Sequence[int]) -> None:
        """Raise ConfigError unless ``data_shape`` is a non-empty tuple of positive ints."""
        as_shape(data_shape)

    @classmethod
    def hidden_activation_count(
        cls, data_shape: Sequence[int], depth: int = 3, **options: Any
    ) -> int:
        """``depth``: one hidden activation per hidden layer; other options are ignored."""
        as_shape(data_shape)
        return int(depth)

    @classmethod
    def activation_slots(
        cls, data_shape: Sequence[int], depth: int = 3, **options: Any
    ) -> list[str]:
        """``blocks.<i>.act`` for each of the ``depth`` hidden layers."""
        return [f"blocks.{i}.act" for i in range(cls.hidden_activation_count(data_shape, depth))]


class MLPGenerator(_MLPBase):
    """z of shape (N, latent_dim) (and labels (N,) when ``num_classes`` > 0) -> samples
    (N, *data_shape), unbounded (linear output) unless ``tanh_output``."""

    def __init__(
        self,
        data_shape: Sequence[int] = (2,),
        latent_dim: int = 2,
        hidden_dim: int = 128,
        depth: int = 3,
        activation: Any = "relu",
        activation_kwargs: Mapping[str, Any] | None = None,
        layer_activations: Sequence[Any] | None = None,
        num_classes: int = 0,
        tanh_output: bool = False,
    ) -> None:
        super().__init__()
        if latent_dim < 1:
            raise ConfigError(f"mlp generator needs latent_dim >= 1; got {latent_dim}.")
        self.data_shape = as_shape(data_shape)
        self.latent_dim = int(latent_dim)
        self.num_classes = check_num_classes("mlp generator", num_classes)
        self.blocks = _hidden_blocks(
            "mlp generator",
            self.latent_dim + self.num_classes,
            hidden_dim,
            depth,
            activation,
            activation_kwargs,
            layer_activations,
        )
        self.out = nn.Linear(hidden_dim, math.prod(self.data_shape))
        # Images live in [-1, 1]: tanh bounds the output there (2-D points stay unbounded).
        self.tanh_output = bool(tanh_output)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = _with_label(self, z.reshape(z.shape[0], self.latent_dim), y)
        for block in self.blocks:
            x = block(x)
        out = self.out(x).reshape(z.shape[0], *self.data_shape)
        return torch.tanh(out) if self.tanh_output else out


class MLPDiscriminator(_MLPBase):
    """Samples (N, *data_shape) -> one logit per sample, shape (N,) (no sigmoid)."""

    def __init__(
        self,
        data_shape: Sequence[int] = (2,),
        hidden_dim: int = 128,
        depth: int = 3,
        activation: Any = "leaky_relu",
        activation_kwargs: Mapping[str, Any] | None = None,
        layer_activations: Sequence[Any] | None = None,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        self.data_shape = as_shape(data_shape)
        self.num_classes = check_num_classes("mlp discriminator", num_classes)
        self.blocks = _hidden_blocks(
            "mlp discriminator",
            math.prod(self.data_shape) + self.num_classes,
            hidden_dim,
            depth,
            activation,
            activation_kwargs,
            layer_activations,
        )
        self.out = nn.Linear(hidden_dim, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = _with_label(self, x.reshape(x.shape[0], -1), y)
        for block in self.blocks:
            x = block(x)
        return self.out(x).reshape(x.shape[0])


# Registered as "mlp" by the package ganzoo.architectures, which imports this module.
ARCHITECTURE = Architecture(MLPGenerator, MLPDiscriminator)
