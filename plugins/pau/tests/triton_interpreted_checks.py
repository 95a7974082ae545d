"""The safe PAU's Triton kernels run by Triton's interpreter on CPU tensors, against the eager
maths.

Not collected by a plain ``pytest`` run (the name does not start with ``test_``): Triton reads
``TRITON_INTERPRET`` when it is imported, so ``test_pau_triton.py`` runs this file in a fresh
process with ``TRITON_INTERPRET=1``. Each check compares the kernels (forward, x gradient,
numerator and denominator gradients; one coefficient set and one per channel; contiguous and
channels-last; float32, bfloat16, float16, float64) with :mod:`ganzoo_pau._math`.
"""

from __future__ import annotations

import os

import pytest
import torch

if os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("run by test_pau_triton.py with TRITON_INTERPRET=1", allow_module_level=True)

from ganzoo_pau import PadeActivation, _math, _ops, pade_activation  # noqa: E402

# Output tolerances per dtype: both sides compute in float32 for half types and round once,
# so they may differ by the last bit of the stored dtype (bfloat16 keeps 8 bits).
TOLERANCES = {
    torch.float32: {"rtol": 1e-5, "atol": 1e-5},
    torch.float64: {"rtol": 1e-12, "atol": 1e-12},
    torch.bfloat16: {"rtol": 1.6e-2, "atol": 1e-2},
    torch.float16: {"rtol": 1e-3, "atol": 1e-3},
}


@pytest.fixture(autouse=True)
def triton_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPU tensors go to the (interpreted) Triton kernels in this process."""
    monkeypatch.setattr(_ops, "TRITON_ON_CPU", True)


def _coefficients(channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The LeakyReLU fit, perturbed per channel, with some denominator coefficients negative
    and one exactly 0 (the sign conventions are exercised)."""
    torch.manual_seed(channels)
    unit = PadeActivation(channels)
    numerator = unit.numerator.detach() + 0.1 * torch.randn(channels, 6)
    denominator = unit.denominator.detach() + 0.5 * torch.randn(channels, 4)
    denominator[0, 1] = 0.0
    return numerator, denominator


# every dtype on one program's worth of elements; float32 also on several programs
CASES = [(dtype, (3, 6, 5, 7)) for dtype in TOLERANCES] + [(torch.float32, (2, 6, 20, 21))]


@pytest.mark.parametrize(("dtype", "shape"), CASES, ids=str)
@pytest.mark.parametrize("channels", [1, 6])
@pytest.mark.parametrize("channels_last", [False, True])
def test_kernels_match_eager_maths(dtype, shape, channels, channels_last) -> None:
    """Forward and all three gradients equal the eager maths' within the dtype's tolerance;
    dtypes and the channels-last layout are kept."""
    numerator, denominator = _coefficients(channels)
    torch.manual_seed(0)
    x = (torch.randn(shape) * 2).to(dtype)
    x.view(-1)[:3] = torch.tensor([0.0, -4.0, 4.0]).to(dtype)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    grad = torch.randn(shape).to(dtype)
    assert _ops.uses_triton(x, denominator)
    y = _ops.pau_forward(x, numerator, denominator)
    grad_x, grad_num, grad_den = _ops.pau_backward(x, numerator, denominator, grad)
    expected_y = _math.forward(x, numerator, denominator)
    expected_x, expected_num, expected_den = _math.backward(x, numerator, denominator, grad)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    assert y.dtype == dtype and grad_x.dtype == dtype
    assert y.is_contiguous(memory_format=layout) and grad_x.is_contiguous(memory_format=layout)
    torch.testing.assert_close(y, expected_y, **TOLERANCES[dtype])
    torch.testing.assert_close(grad_x, expected_x, **TOLERANCES[dtype])
    # coefficient gradients: sums in float32 (float64 for float64) in another order, in the
    # coefficients' dtype (float32)
    for got, want in ((grad_num, expected_num), (grad_den, expected_den)):
        assert got.dtype == torch.float32
        torch.testing.assert_close(got, want.float(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("channels", [1, 3])
def test_autograd_through_the_kernels(channels: int) -> None:
    """The operator with its registered autograd on the Triton kernels: gradcheck in float64
    for x and both coefficient sets."""
    numerator, denominator = _coefficients(channels)
    torch.manual_seed(1)
    x = (torch.randn(2, 3, 2, dtype=torch.float64) * 2).requires_grad_()
    num = numerator.double().requires_grad_()
    den = denominator.double().clone()
    den[0, 1] = 0.3  # away from the kink of |b| for finite differences
    den.requires_grad_()
    assert torch.autograd.gradcheck(pade_activation, (x, num, den), fast_mode=True)


def test_empty_input() -> None:
    """An empty tensor gives empty results and zero coefficient gradients (no launch)."""
    numerator, denominator = _coefficients(4)
    x = torch.empty(0, 4, 3)
    assert _ops.pau_forward(x, numerator, denominator).shape == x.shape
    grad_x, grad_num, grad_den = _ops.pau_backward(x, numerator, denominator, x)
    assert grad_x.shape == x.shape
    assert torch.equal(grad_num, torch.zeros(4, 6)) and torch.equal(grad_den, torch.zeros(4, 4))
