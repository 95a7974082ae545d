"""The ResNet GANs of SNGAN (Miyato et al. 2018), WGAN-GP and cGAN-PD (Miyato & Koyama 2018).

With each size's defaults the networks are the standard ones that the SNGAN code and the public
baselines (mimicry, pytorch-gan-collections) train: 32 px (CIFAR-10, appendix Table 4), 48 px
(STL-10, Table 5), 64 px (CelebA; mimicry's SNGAN-64, the ImageNet ResNet of Table 6 one block
shorter) and 28 px (MNIST: the 32 px networks from a 7x7 start, one up-block fewer).
``num_classes`` > 0 gives conditional batch norm in G and a projection discriminator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ganzoo.architectures.blocks import (
    DownBlock,
    OptimizedDownBlock,
    UpBlock,
    check_spectral_norm_flag,
    conv2d,
    embedding,
    linear,
)
from ganzoo.architectures.layers import (
    as_shape,
    build_activations,
    check_num_classes,
    resolve_layer_activations,
)
from ganzoo.architectures.protocol import Architecture
from ganzoo.errors import ConfigError


@dataclass(frozen=True)
class _Plan:
    """The layout for one image size. Channels are ``width`` times a multiplier."""

    bottom: int  # side of G's first feature map (the linear projection of z)
    g_width: int  # default generator width
    g_mult: tuple[int, ...]  # the projection's channels, then each up-block's output
    d_width: int  # default discriminator width
    d_mult: tuple[int, ...]  # each D block's output channels; block 0 is the optimized block
    d_down: tuple[bool, ...]  # which D blocks halve the size


_PLANS: dict[int, _Plan] = {
    28: _Plan(7, 256, (1, 1, 1), 128, (1, 1, 1, 1), (True, True, False, False)),
    32: _Plan(4, 256, (1, 1, 1, 1), 128, (1, 1, 1, 1), (True, True, False, False)),
    48: _Plan(6, 64, (8, 4, 2, 1), 64, (1, 2, 4, 8, 16), (True, True, True, True, False)),
    64: _Plan(4, 64, (16, 8, 4, 2, 1), 64, (1, 2, 4, 8, 16), (True,) * 5),
}
_CHANNELS = (1, 3)
_UPSAMPLE_MODES = ("nearest", "bilinear")


def _check(data_shape: Any) -> tuple[int, int, int]:
    shape = as_shape(data_shape)
    ok = len(shape) == 3 and shape[0] in _CHANNELS and shape[1] == shape[2] and shape[1] in _PLANS
    if not ok:
        sizes = ", ".join(str(s) for s in _PLANS)
        raise ConfigError(
            f"resnet supports image sizes {sizes} with 1 or 3 channels, shape (C, H, W) with "
            f"H == W; got {shape}. Set data.image_size to one of {sizes}, and use a dataset "
            f"with 1 or 3 channels."
        )
    return shape  # type: ignore[return-value]


def _positive(network: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{network} {name} must be a positive whole number; got {value!r}.")
    return value


def _require_labels(network: str, num_classes: int, y: torch.Tensor | None) -> None:
    if num_classes > 0 and y is None:
        raise ConfigError(
            f"{network} is class-conditional (num_classes={num_classes}): call it with the "
            f"class indices y, a LongTensor of shape (N,)."
        )


class _ResNetBase(nn.Module):
    """Shape check and activation slots shared by both networks."""

    network = "resnet"

    @classmethod
    def check_data_shape(cls, data_shape: Sequence[int]) -> None:
        """Raise ConfigError unless ``data_shape`` is (1 or 3, S, S) with S in 28, 32, 48, 64."""
        _check(data_shape)

    @classmethod
    def activation_slots(cls, data_shape: Sequence[int], **options: Any) -> list[str]:
        """The qualified name of every hidden activation in forward order: the order that
        ``layer_activations`` takes. Other constructor options do not change it."""
        raise NotImplementedError

    @classmethod
    def hidden_activation_count(cls, data_shape: Sequence[int], **options: Any) -> int:
        """How many hidden activation slots the network has (``len(activation_slots(...))``)."""
        return len(cls.activation_slots(data_shape, **options))

    def _activations(
        self,
        data_shape: Sequence[int],
        channels: Sequence[int],
        activation: Any,
        activation_kwargs: Mapping[str, Any] | None,
        layer_activations: Sequence[Any] | None,
    ) -> list[nn.Module]:
        slots = self.activation_slots(data_shape)
        plan = resolve_layer_activations(
            self.network, len(slots), activation, activation_kwargs, layer_activations, slots
        )
        return build_activations(self.network, plan, channels)


class ResNetGenerator(_ResNetBase):
    """z (N, latent_dim) [and labels y (N,)] -> images (N, C, H, W) in [-1, 1].

    ``linear(z)`` to a ``bottom`` x ``bottom`` map, up-blocks doubling the size, then BN, the
    last activation, a 3x3 convolution and tanh. ``width`` (default: the size's standard, 256
    for 28/32 px, 64 for 48/64 px) scales every block; ``upsample`` is "nearest" (the SNGAN
    code) or "bilinear" (mimicry). Slots: ``blocks.i.act1`` and ``blocks.i.act2`` per
    up-block, then ``final_act``.
    """

    network = "resnet generator"

    def __init__(
        self,
        data_shape: Sequence[int] = (3, 32, 32),
        latent_dim: int = 128,
        num_classes: int = 0,
        width: int | None = None,
        activation: Any = "relu",
        activation_kwargs: Mapping[str, Any] | None = None,
        layer_activations: Sequence[Any] | None = None,
        spectral_norm: bool = False,
        upsample: str = "nearest",
    ) -> None:
        super().__init__()
        channels, size, _ = _check(data_shape)
        plan = _PLANS[size]
        self.data_shape = (channels, size, size)
        self.latent_dim = _positive(self.network, "latent_dim", latent_dim)
        self.num_classes = check_num_classes(self.network, num_classes)
        self.width = _positive(self.network, "width", plan.g_width if width is None else width)
        sn = check_spectral_norm_flag(self.network, spectral_norm)
        if upsample not in _UPSAMPLE_MODES:
            raise ConfigError(
                f"{self.network} upsample must be one of {', '.join(_UPSAMPLE_MODES)}; "
                f"got {upsample!r}."
            )
        widths = [self.width * m for m in plan.g_mult]
        slot_channels = [c for i in range(len(widths) - 1) for c in widths[i : i + 2]]
        acts = self._activations(
            self.data_shape,
            [*slot_channels, widths[-1]],
            activation,
            activation_kwargs,
            layer_activations,
        )
        self.bottom = plan.bottom
        self.project = linear(self.latent_dim, plan.bottom**2 * widths[0], spectral_norm=sn)
        self.blocks = nn.ModuleList(
            UpBlock(
                widths[i],
                widths[i + 1],
                acts[2 * i],
                acts[2 * i + 1],
                num_classes=self.num_classes,
                spectral_norm=sn,
                upsample_mode=upsample,
            )
            for i in range(len(widths) - 1)
        )
        self.final_bn = nn.BatchNorm2d(widths[-1])
        self.final_act = acts[-1]
        self.final_conv = conv2d(widths[-1], channels, 3, 1, spectral_norm=sn)

    @classmethod
    def activation_slots(cls, data_shape: Sequence[int], **options: Any) -> list[str]:
        blocks = len(_PLANS[_check(data_shape)[1]].g_mult) - 1
        return [f"blocks.{i}.act{j}" for i in range(blocks) for j in (1, 2)] + ["final_act"]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        _require_labels(self.network, self.num_classes, y)
        labels = y if self.num_classes > 0 else None
        h = self.project(z.reshape(z.shape[0], self.latent_dim))
        h = h.view(z.shape[0], -1, self.bottom, self.bottom)
        for block in self.blocks:
            h = block(h, labels)
        return torch.tanh(self.final_conv(self.final_act(self.final_bn(h))))


class ResNetDiscriminator(_ResNetBase):
    """Images (N, C, H, W) [and labels y (N,)] -> one logit per image, shape (N,).

    The optimized block, down-blocks, the last activation, global sum pooling and a linear
    layer; with ``num_classes`` > 0 the projection ``<embed(y), features>`` is added (Miyato &
    Koyama 2018). ``width`` defaults to the size's standard (128 for 28/32 px, 64 for 48/64 px).
    Slots: ``blocks.0.act``, then ``blocks.i.act1`` and ``blocks.i.act2``, then ``final_act``.
    """

    network = "resnet discriminator"

    def __init__(
        self,
        data_shape: Sequence[int] = (3, 32, 32),
        num_classes: int = 0,
        width: int | None = None,
        activation: Any = "relu",
        activation_kwargs: Mapping[str, Any] | None = None,
        layer_activations: Sequence[Any] | None = None,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        channels, size, _ = _check(data_shape)
        plan = _PLANS[size]
        self.data_shape = (channels, size, size)
        self.num_classes = check_num_classes(self.network, num_classes)
        self.width = _positive(self.network, "width", plan.d_width if width is None else width)
        sn = check_spectral_norm_flag(self.network, spectral_norm)
        widths = [self.width * m for m in plan.d_mult]
        # The optimized block's activation is on its output; a down-block's two are on its input.
        slot_channels = [widths[0]] + [c for w in widths[:-1] for c in (w, w)] + [widths[-1]]
        acts = self._activations(
            self.data_shape, slot_channels, activation, activation_kwargs, layer_activations
        )
        first = OptimizedDownBlock(channels, widths[0], acts[0], spectral_norm=sn)
        blocks: list[nn.Module] = [first]
        for i in range(1, len(widths)):
            blocks.append(
                DownBlock(
                    widths[i - 1],
                    widths[i],
                    acts[2 * i - 1],
                    acts[2 * i],
                    downsample=plan.d_down[i],
                    spectral_norm=sn,
                )
            )
        self.blocks = nn.ModuleList(blocks)
        self.final_act = acts[-1]
        self.linear = linear(widths[-1], 1, spectral_norm=sn)
        self.embed = (
            embedding(self.num_classes, widths[-1], spectral_norm=sn)
            if self.num_classes > 0
            else None
        )

    @classmethod
    def activation_slots(cls, data_shape: Sequence[int], **options: Any) -> list[str]:
        blocks = len(_PLANS[_check(data_shape)[1]].d_mult)
        pairs = [f"blocks.{i}.act{j}" for i in range(1, blocks) for j in (1, 2)]
        return ["blocks.0.act", *pairs, "final_act"]

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        _require_labels(self.network, self.num_classes, y)
        h = x
        for block in self.blocks:
            h = block(h)
        features = self.final_act(h).sum(dim=(2, 3))  # global sum pooling
        logits = self.linear(features).reshape(x.shape[0])
        if self.embed is not None:
            logits = logits + (self.embed(y) * features).sum(dim=1)
        return logits


# Registered as "resnet" by the package ganzoo.architectures, which imports this module.
ARCHITECTURE = Architecture(ResNetGenerator, ResNetDiscriminator)
