"""DCGAN (Radford et al. 2016) for 28x28, 32x32 and 64x64 images with 1 or 3 channels.

The generator projects ``z`` to a 4x4 map with a transposed convolution and doubles the size
with stride-2 transposed convolutions, each followed by batch norm and a hidden activation; the
output layer is a transposed convolution and tanh. The discriminator mirrors it with stride-2
convolutions (batch norm on all but the first) and a final 4x4 convolution to one logit.

28x28 (MNIST) is made without cropping: 4 -> 7 uses kernel 3 (stride 2, padding 1), then 7 -> 14
-> 28 the usual kernel 4; the discriminator goes 28 -> 14 -> 7 -> 4 the same way back.
``spectral_norm=True`` wraps every (transposed) convolution in spectral normalisation after the
DCGAN initialisation (off by default, which leaves the networks as they were).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ganzoo.architectures.blocks import apply_spectral_norm, check_spectral_norm_flag
from ganzoo.architectures.layers import (
    as_shape,
    build_activations,
    init_dcgan_weights,
    resolve_layer_activations,
)
from ganzoo.architectures.protocol import Architecture
from ganzoo.errors import ConfigError

# Spatial sizes from the 4x4 projection up to the image.
_SIZES: dict[int, tuple[int, ...]] = {
    28: (4, 7, 14, 28),
    32: (4, 8, 16, 32),
    64: (4, 8, 16, 32, 64),
}
_CHANNELS = (1, 3)


def _kernel(small: int, large: int) -> tuple[int, int, int]:
    """(kernel, stride, padding) mapping ``small`` <-> ``large`` with a stride-2 (transposed)
    convolution."""
    if large == 2 * small:
        return 4, 2, 1
    if large == 2 * small - 1:  # 4 <-> 7
        return 3, 2, 1
    raise AssertionError(f"no stride-2 kernel for {small} <-> {large}")


def _check(data_shape: Any) -> tuple[int, int, int]:
    shape = as_shape(data_shape)
    sizes = ", ".join(str(s) for s in _SIZES)
    ok = len(shape) == 3 and shape[0] in _CHANNELS and shape[1] == shape[2] and shape[1] in _SIZES
    if not ok:
        raise ConfigError(
            f"dcgan supports image sizes 28, 32 and 64 with 1 or 3 channels, shape (C, H, W) "
            f"with H == W; got {shape}. Set data.image_size to one of {sizes}, and use a "
            f"dataset with 1 or 3 channels."
        )
    return shape  # type: ignore[return-value]


class _DCGANBase(nn.Module):
    """Shape checks and the hidden-activation count shared by both DCGAN networks."""

    @classmethod
    def check_data_shape(cls, data_shape: Sequence[int]) -> None:
        """Raise ConfigError unless ``data_shape`` is (1 or 3, S, S) with S in 28, 32, 64."""
        _check(data_shape)

    @classmethod
    def activation_slots(cls, data_shape: Sequence[int], **options: Any) -> list[str]:
        """The qualified name of every hidden activation in forward order (``blocks.i.act``),
        the order ``layer_activations`` takes; other constructor options are ignored."""
        return [f"blocks.{i}.act" for i in range(len(_SIZES[_check(data_shape)[1]]) - 1)]

    @classmethod
    def hidden_activation_count(cls, data_shape: Sequence[int], **options: Any) -> int:
        """How many hidden activation layers the network has for ``data_shape`` (3 for 28 and
        32, 4 for 64); other constructor options are accepted and ignored."""
        return len(cls.activation_slots(data_shape))

    num_classes = 0  # unconditional


class _Block(nn.Module):
    """A (transposed) convolution, optional batch norm, and a hidden activation (``act``)."""

    def __init__(self, conv: nn.Module, channels: int, batch_norm: bool, act: nn.Module) -> None:
        super().__init__()
        self.conv = conv
        self.bn = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class DCGANGenerator(_DCGANBase):
    """z of shape (N, latent_dim) -> images (N, C, H, W) in [-1, 1].

    ``width`` is ngf: the last hidden layer has ``width`` channels, doubling towards the 4x4
    projection. ``activation``/``activation_kwargs`` set every hidden activation;
    ``layer_activations`` overrides them per layer (see
    :func:`ganzoo.architectures.layers.resolve_layer_activations`).
    """

    def __init__(
        self,
        data_shape: Sequence[int] = (3, 32, 32),
        latent_dim: int = 100,
        width: int = 64,
        activation: Any = "relu",
        activation_kwargs: Mapping[str, Any] | None = None,
        layer_activations: Sequence[Any] | None = None,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        channels, size, _ = _check(data_shape)
        if latent_dim < 1 or width < 1:
            raise ConfigError(
                f"dcgan generator needs latent_dim >= 1 and width >= 1; "
                f"got latent_dim={latent_dim}, width={width}."
            )
        self.data_shape = (channels, size, size)
        self.latent_dim = int(latent_dim)
        self.width = int(width)
        sizes = _SIZES[size]
        count = len(sizes) - 1
        widths = [width * 2 ** (count - 1 - i) for i in range(count)]
        sn = check_spectral_norm_flag("dcgan generator", spectral_norm)
        plan = resolve_layer_activations(
            "dcgan generator",
            count,
            activation,
            activation_kwargs,
            layer_activations,
            self.activation_slots(data_shape),
        )
        acts = build_activations("dcgan generator", plan, widths)

        projection = nn.ConvTranspose2d(latent_dim, widths[0], 4, 1, 0, bias=False)  # 1 -> 4
        blocks = [_Block(projection, widths[0], True, acts[0])]
        for i in range(1, count):
            k, s, p = _kernel(sizes[i - 1], sizes[i])
            conv = nn.ConvTranspose2d(widths[i - 1], widths[i], k, s, p, bias=False)
            blocks.append(_Block(conv, widths[i], True, acts[i]))
        self.blocks = nn.ModuleList(blocks)
        k, s, p = _kernel(sizes[-2], sizes[-1])
        self.out = nn.ConvTranspose2d(widths[-1], channels, k, s, p)
        self.apply(init_dcgan_weights)
        if sn:  # after the init: a wrapped layer's weight is computed, not assigned
            apply_spectral_norm(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = z.reshape(z.shape[0], self.latent_dim, 1, 1)
        for block in self.blocks:
            x = block(x)
        return torch.tanh(self.out(x))


class DCGANDiscriminator(_DCGANBase):
    """Images (N, C, H, W) -> one logit per image, shape (N,) (no sigmoid).

    ``width`` is ndf: the first layer has ``width`` channels, doubling at each stride-2
    convolution; batch norm on every hidden layer but the first, unless ``batch_norm`` is false
    (a gradient penalty assumes a critic without batch norm: Gulrajani et al. 2017).
    """

    def __init__(
        self,
        data_shape: Sequence[int] = (3, 32, 32),
        width: int = 64,
        activation: Any = "leaky_relu",
        activation_kwargs: Mapping[str, Any] | None = None,
        layer_activations: Sequence[Any] | None = None,
        spectral_norm: bool = False,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        channels, size, _ = _check(data_shape)
        if width < 1:
            raise ConfigError(f"dcgan discriminator needs width >= 1; got width={width}.")
        self.data_shape = (channels, size, size)
        self.width = int(width)
        sizes = _SIZES[size][::-1]  # image size down to 4
        count = len(sizes) - 1
        widths = [width * 2**i for i in range(count)]
        sn = check_spectral_norm_flag("dcgan discriminator", spectral_norm)
        plan = resolve_layer_activations(
            "dcgan discriminator",
            count,
            activation,
            activation_kwargs,
            layer_activations,
            self.activation_slots(data_shape),
        )
        acts = build_activations("dcgan discriminator", plan, widths)

        blocks = []
        in_channels = channels
        for i in range(count):
            k, s, p = _kernel(sizes[i + 1], sizes[i])
            conv = nn.Conv2d(in_channels, widths[i], k, s, p, bias=i == 0)
            blocks.append(_Block(conv, widths[i], batch_norm and i > 0, acts[i]))
            in_channels = widths[i]
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Conv2d(widths[-1], 1, 4, 1, 0)
        self.apply(init_dcgan_weights)
        if sn:  # after the init: a wrapped layer's weight is computed, not assigned
            apply_spectral_norm(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.out(x).reshape(x.shape[0])


# Registered as "dcgan" by the package ganzoo.architectures, which imports this module.
ARCHITECTURE = Architecture(DCGANGenerator, DCGANDiscriminator)
