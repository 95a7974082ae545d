"""Building blocks of the residual GANs (SNGAN, WGAN-GP, cGAN-PD) and the spectral-norm option.

Layer factories (:func:`conv2d`, :func:`linear`, :func:`embedding`) initialise a layer and wrap
it in torch's ``parametrizations.spectral_norm`` when asked; :class:`UpBlock` is the generator's
residual block, :class:`DownBlock` and :class:`OptimizedDownBlock` the discriminator's, and
:class:`ConditionalBatchNorm2d` is batch norm with a per-class scale and shift. Each block takes
its activation modules from the caller, so every activation is an architecture's slot.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations

from ganzoo.architectures.layers import is_hidden_activation
from ganzoo.errors import ConfigError

# Layers that spectral_norm=True wraps (their ``weight``), in every architecture.
SPECTRAL_NORM_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)

# Gain of the residual branch's 3x3 convolutions (Xavier uniform), as in the SNGAN code; the
# 1x1 shortcuts, the projection, the output layers and the embeddings use gain 1.
RESIDUAL_GAIN = math.sqrt(2.0)


def check_spectral_norm_flag(network: str, value: Any) -> bool:
    """``value`` if it is a bool; anything else (``"yes"``, 1) is a ConfigError."""
    if not isinstance(value, bool):
        raise ConfigError(
            f"{network} spectral_norm must be true or false; got {value!r} "
            f"({type(value).__name__})."
        )
    return value


def with_spectral_norm(module: nn.Module, enabled: bool = True) -> nn.Module:
    """``module`` with its weight spectrally normalised (one power iteration per training
    forward, Miyato et al. 2018) when ``enabled``; otherwise ``module`` unchanged.

    Initialise the weight before wrapping: afterwards ``module.weight`` is computed from
    ``module.parametrizations.weight.original``.
    """
    return parametrizations.spectral_norm(module) if enabled else module


def apply_spectral_norm(model: nn.Module) -> nn.Module:
    """Wrap every convolution, linear layer and embedding inside ``model`` (in place), except
    inside its hidden activations (an activation's own layers are its business)."""
    inside_activations = {
        id(inner)
        for module in model.modules()
        if is_hidden_activation(module)
        for inner in module.modules()
    }
    for module in list(model.modules()):
        if (
            isinstance(module, SPECTRAL_NORM_LAYERS)
            and id(module) not in inside_activations
            and not parametrizations_on(module)
        ):
            parametrizations.spectral_norm(module)
    return model


def parametrizations_on(module: nn.Module) -> bool:
    """True when ``module.weight`` is already parametrised (e.g. spectrally normalised)."""
    return hasattr(module, "parametrizations") and "weight" in module.parametrizations


def _xavier(module: nn.Module, gain: float) -> nn.Module:
    nn.init.xavier_uniform_(module.weight, gain)
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)
    return module


def conv2d(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    padding: int = 0,
    *,
    gain: float = 1.0,
    spectral_norm: bool = False,
) -> nn.Module:
    """A stride-1 ``nn.Conv2d`` with bias, Xavier-uniform weights (``gain``) and zero bias,
    spectrally normalised when ``spectral_norm``."""
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, 1, padding)
    return with_spectral_norm(_xavier(conv, gain), spectral_norm)


def linear(
    in_features: int, out_features: int, *, gain: float = 1.0, spectral_norm: bool = False
) -> nn.Module:
    """An ``nn.Linear`` with bias, Xavier-uniform weights and zero bias, optionally SN."""
    return with_spectral_norm(_xavier(nn.Linear(in_features, out_features), gain), spectral_norm)


def embedding(num_embeddings: int, dim: int, *, spectral_norm: bool = False) -> nn.Module:
    """An ``nn.Embedding`` with Xavier-uniform weights (the projection discriminator's class
    embedding), optionally SN."""
    return with_spectral_norm(_xavier(nn.Embedding(num_embeddings, dim), 1.0), spectral_norm)


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift are looked up per class: ``scale[y] * BN(x) + shift[y]``
    (de Vries et al. 2017; the cGAN-PD generator). The scale starts at 1 and the shift at 0, so
    at initialisation it is plain batch norm."""

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.num_features = num_features
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.scale = nn.Embedding(num_classes, num_features)
        self.shift = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        scale = self.scale(y).view(-1, self.num_features, 1, 1)
        shift = self.shift(y).view(-1, self.num_features, 1, 1)
        return scale * self.bn(x) + shift


def batch_norm(num_features: int, num_classes: int) -> nn.Module:
    """Plain batch norm, or :class:`ConditionalBatchNorm2d` when ``num_classes`` > 0."""
    if num_classes > 0:
        return ConditionalBatchNorm2d(num_features, num_classes)
    return nn.BatchNorm2d(num_features)


def apply_norm(norm: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """``norm(x, y)`` for conditional batch norm, ``norm(x)`` otherwise."""
    if isinstance(norm, ConditionalBatchNorm2d):
        return norm(x, y)
    return norm(x)


def shortcut_conv(
    in_channels: int, out_channels: int, resamples: bool, spectral_norm: bool
) -> nn.Module | None:
    """A residual block's 1x1 shortcut, or None (the identity) when the block neither
    resamples nor changes the channels."""
    if not resamples and in_channels == out_channels:
        return None
    return conv2d(in_channels, out_channels, 1, 0, spectral_norm=spectral_norm)


def upsample(x: torch.Tensor, mode: str) -> torch.Tensor:
    """Double the spatial size; ``mode`` "nearest" (the original SNGAN code) or "bilinear"."""
    if mode == "nearest":
        return F.interpolate(x, scale_factor=2, mode="nearest")
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class UpBlock(nn.Module):
    """The generator's residual block: ``BN, act1, up, conv3x3, BN, act2, conv3x3`` plus a
    shortcut ``up, conv1x1`` (identity when neither the size nor the channels change).

    ``act1`` acts on ``in_channels``, ``act2`` on ``out_channels``; with ``num_classes`` > 0 both
    batch norms are conditional and ``forward`` needs the labels ``y``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        act1: nn.Module,
        act2: nn.Module,
        *,
        upsample: bool = True,
        num_classes: int = 0,
        spectral_norm: bool = False,
        upsample_mode: str = "nearest",
    ) -> None:
        super().__init__()
        self.upsample = upsample
        self.upsample_mode = upsample_mode
        self.bn1 = batch_norm(in_channels, num_classes)
        self.act1 = act1
        self.conv1 = conv2d(
            in_channels, out_channels, 3, 1, gain=RESIDUAL_GAIN, spectral_norm=spectral_norm
        )
        self.bn2 = batch_norm(out_channels, num_classes)
        self.act2 = act2
        self.conv2 = conv2d(
            out_channels, out_channels, 3, 1, gain=RESIDUAL_GAIN, spectral_norm=spectral_norm
        )
        self.shortcut = shortcut_conv(in_channels, out_channels, upsample, spectral_norm)

    def _up(self, x: torch.Tensor) -> torch.Tensor:
        return upsample(x, self.upsample_mode) if self.upsample else x

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.act1(apply_norm(self.bn1, x, y))
        h = self.conv1(self._up(h))
        h = self.conv2(self.act2(apply_norm(self.bn2, h, y)))
        # A 1x1 convolution commutes with nearest and bilinear up-sampling (both are convex
        # combinations of pixels), so convolving first is the same map at a quarter the cost.
        skip = x if self.shortcut is None else self.shortcut(x)
        return h + self._up(skip)


class DownBlock(nn.Module):
    """The discriminator's residual block: ``act1, conv3x3, act2, conv3x3, [avgpool]`` plus a
    shortcut ``conv1x1, [avgpool]`` (identity when neither the size nor the channels change).

    The hidden width is ``in_channels`` (as in the SNGAN code): ``act1`` and ``act2`` both act
    on ``in_channels``. No normalisation, so a gradient penalty applies as is.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        act1: nn.Module,
        act2: nn.Module,
        *,
        downsample: bool = True,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.downsample = downsample
        self.act1 = act1
        self.conv1 = conv2d(
            in_channels, in_channels, 3, 1, gain=RESIDUAL_GAIN, spectral_norm=spectral_norm
        )
        self.act2 = act2
        self.conv2 = conv2d(
            in_channels, out_channels, 3, 1, gain=RESIDUAL_GAIN, spectral_norm=spectral_norm
        )
        self.shortcut = shortcut_conv(in_channels, out_channels, downsample, spectral_norm)

    def _down(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) if self.downsample else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(self.act2(self.conv1(self.act1(x))))
        # Average pooling commutes with a 1x1 convolution: pooling first is the same map as
        # the SNGAN code's convolve-then-pool, at a quarter the cost.
        skip = self._down(x)
        if self.shortcut is not None:
            skip = self.shortcut(skip)
        return self._down(h) + skip


class OptimizedDownBlock(nn.Module):
    """The discriminator's first block, which sees the image: ``conv3x3, act, conv3x3,
    avgpool`` plus a shortcut ``avgpool, conv1x1``. No activation before the first convolution
    (it would clip the image), hence one slot, ``act``, on ``out_channels``."""

    def __init__(
        self, in_channels: int, out_channels: int, act: nn.Module, *, spectral_norm: bool = False
    ) -> None:
        super().__init__()
        self.conv1 = conv2d(
            in_channels, out_channels, 3, 1, gain=RESIDUAL_GAIN, spectral_norm=spectral_norm
        )
        self.act = act
        self.conv2 = conv2d(
            out_channels, out_channels, 3, 1, gain=RESIDUAL_GAIN, spectral_norm=spectral_norm
        )
        self.shortcut = conv2d(in_channels, out_channels, 1, 0, spectral_norm=spectral_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.avg_pool2d(self.conv2(self.act(self.conv1(x))), 2)
        return h + self.shortcut(F.avg_pool2d(x, 2))
