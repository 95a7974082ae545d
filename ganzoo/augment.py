"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) of every image D sees.

``train.augment: "color,translation,cutout"`` (any subset, in any order) applies the chosen
random transformations to real and generated images alike, in the discriminator's and the
generator's steps, before D. They are differentiable in the images, so the generator learns
through them; D never sees an unaugmented image and overfits a small dataset less. Each call
draws fresh random parameters per image from the global RNG of the images' device.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ganzoo.errors import ConfigError

Tensor = torch.Tensor


def _rand(x: Tensor) -> Tensor:
    """One uniform number per image, shaped to broadcast over (C, H, W)."""
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device)


def brightness(x: Tensor) -> Tensor:
    """Add a per-image offset uniform in [-0.5, 0.5]."""
    return x + (_rand(x) - 0.5)


def saturation(x: Tensor) -> Tensor:
    """Scale each pixel's distance from its channel mean by a factor uniform in [0, 2]."""
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_rand(x) * 2) + mean


def contrast(x: Tensor) -> Tensor:
    """Scale each image's distance from its mean by a factor uniform in [0.5, 1.5]."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(x) + 0.5) + mean


def _grid(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    n, _, h, w = x.shape
    return torch.meshgrid(
        torch.arange(n, device=x.device),
        torch.arange(h, device=x.device),
        torch.arange(w, device=x.device),
        indexing="ij",
    )


def translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by up to ``ratio`` of its size in each direction, filling with zeros."""
    n, _, h, w = x.shape
    reach_h, reach_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    shift_h = torch.randint(-reach_h, reach_h + 1, (n, 1, 1), device=x.device)
    shift_w = torch.randint(-reach_w, reach_w + 1, (n, 1, 1), device=x.device)
    batch, rows, cols = _grid(x)
    # Index a zero-padded copy: positions shifted off the image read the zero border.
    rows = (rows + shift_h + 1).clamp(0, h + 1)
    cols = (cols + shift_w + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)
    return padded[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero a square of ``ratio`` of the image size at a random place (it may hang over the
    border) in each image."""
    n, _, h, w = x.shape
    size_h, size_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    centre_h = torch.randint(0, h + (1 - size_h % 2), (n, 1, 1), device=x.device)
    centre_w = torch.randint(0, w + (1 - size_w % 2), (n, 1, 1), device=x.device)
    batch, rows, cols = _grid(x[:, :1, :size_h, :size_w])
    rows = (rows + centre_h - size_h // 2).clamp(0, h - 1)
    cols = (cols + centre_w - size_w // 2).clamp(0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[batch, rows, cols] = 0
    return x * mask.unsqueeze(1)


# Each policy is a sequence of transformations applied in order (DiffAugment's grouping).
POLICIES: dict[str, tuple[Callable[[Tensor], Tensor], ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def parse_policy(policy: str | None, key: str = "train.augment") -> tuple[str, ...]:
    """The policy names in ``"color,translation,cutout"``-style text (empty: none)."""
    names = tuple(p.strip().lower() for p in (policy or "").split(",") if p.strip())
    for name in names:
        if name not in POLICIES:
            close = difflib.get_close_matches(name, list(POLICIES), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{key}: unknown augmentation {name!r}.{hint} Valid policies: "
                f"{', '.join(POLICIES)} (any subset, comma-separated, e.g. "
                f"'color,translation,cutout'), or '' for none."
            )
    if len(set(names)) != len(names):
        raise ConfigError(f"{key}: {policy!r} names a policy twice; give each once")
    return names


class DiffAugment:
    """``augment(images) -> images`` with the policies of ``policy`` (the identity when
    empty). Images are (N, C, H, W)."""

    def __init__(self, policy: str | None = "") -> None:
        self.policies = parse_policy(policy)

    @property
    def enabled(self) -> bool:
        return bool(self.policies)

    def __call__(self, x: Tensor) -> Tensor:
        if not self.policies:
            return x
        if x.dim() != 4:
            raise ValueError(f"DiffAugment needs images (N, C, H, W), got shape {tuple(x.shape)}")
        for name in self.policies:
            for transform in POLICIES[name]:
                x = transform(x)
        return x

    def __repr__(self) -> str:
        return f"DiffAugment({','.join(self.policies)!r})"
