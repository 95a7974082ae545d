"""Helpers shared by the PSF tests (a uniquely named module, not conftest, so that it cannot
clash with other packages' conftest modules when the whole suite runs)."""

from __future__ import annotations

import pytest
import torch
from torch._dynamo.utils import counters


def compiled_graphs() -> int:
    """How many graphs dynamo has compiled in this process so far."""
    return counters["stats"]["unique_graphs"]


# Reference values from the spec (alpha = 0): x, f(x), df/dx, df/dalpha.
REFERENCE = [
    (2.0, 2.0, 1.0, 0.0),
    (0.0, 0.0, 1.0, 0.0),
    (-1.0, -0.5, 0.25, -0.25),
    (-3.0, -0.75, 0.0625, -0.5625),
]


def reference_check(module: torch.nn.Module, dtype: torch.dtype = torch.float64) -> None:
    """Assert the spec's table: values, df/dx and per-point df/dalpha."""
    for x0, f0, dfdx, dfda in REFERENCE:
        x = torch.tensor([x0], dtype=dtype, requires_grad=True)
        module.alpha.grad = None
        y = module(x)
        y.backward(torch.ones_like(y))
        assert y.item() == pytest.approx(f0, abs=1e-12)
        assert x.grad.item() == pytest.approx(dfdx, abs=1e-12)
        assert module.alpha.grad.item() == pytest.approx(dfda, abs=1e-12)
