"""DiffAugment: differentiable, the identity when off, each policy doing what it says, and
clear errors for a misspelt policy."""

from __future__ import annotations

import pytest
import torch

from ganzoo.augment import DiffAugment, cutout, translation
from ganzoo.errors import ConfigError


def seeded(augment: DiffAugment):
    """The augmentation with its random draws fixed, so gradcheck sees one function."""

    def apply(x: torch.Tensor) -> torch.Tensor:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            return augment(x)

    return apply


def test_diffaugment_is_differentiable():
    """gradcheck of the full policy on a small double batch: analytic gradients match numeric."""
    x = torch.rand(2, 3, 6, 6, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(seeded(DiffAugment("color,translation,cutout")), (x,))


def test_off_is_the_identity():
    """An empty policy returns the very tensor it got."""
    x = torch.randn(4, 1, 8, 8)
    assert DiffAugment("")(x) is x and not DiffAugment(None).enabled


def test_translation_shifts_content_and_fills_zeros():
    """A translated image is the original shifted by a whole number of pixels (at most 1/8 of
    the side), zero-filled: some shift reproduces every surviving pixel."""
    torch.manual_seed(3)
    x = torch.arange(1, 65, dtype=torch.float).reshape(1, 1, 8, 8)
    y = translation(x)
    padded = torch.nn.functional.pad(x, [1, 1, 1, 1])
    matches = [
        (dr, dc)
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
        if torch.equal(y[0, 0], padded[0, 0, 1 + dr : 9 + dr, 1 + dc : 9 + dc])
    ]
    assert len(matches) == 1


def test_cutout_zeroes_one_square_of_half_the_side():
    """Cutout at ratio 0.5 of a 8x8 image zeroes at most a 4x4 square and keeps the rest."""
    torch.manual_seed(1)
    x = torch.ones(16, 1, 8, 8)
    y = cutout(x)
    zeros = (y == 0).flatten(1).sum(1)
    assert zeros.max() == 16 and zeros.min() >= 4  # a whole square, or one hanging over an edge
    assert torch.all((y == 0) | (y == 1))


def test_unknown_policy_names_the_valid_ones():
    """'colour' suggests 'color' and lists the policies."""
    with pytest.raises(ConfigError, match="Did you mean 'color'.*color, translation, cutout"):
        DiffAugment("colour")
