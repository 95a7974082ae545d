"""Helpers that activation plugins with their own kernels (PSF, PAU) share: the memory layouts
their Triton kernels keep."""

from __future__ import annotations

import torch
from torch import Tensor


def dense(x: Tensor) -> tuple[Tensor, torch.memory_format]:
    """``x`` dense in the layout the Triton kernels keep (contiguous, or channels-last for
    4-D), copied to contiguous otherwise; with that layout."""
    if x.is_contiguous():
        return x, torch.contiguous_format
    if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
        return x, torch.channels_last
    return x.contiguous(), torch.contiguous_format
