"""PSF's Triton kernels run by Triton's interpreter on CPU tensors, against the portable path.

Not collected by a plain ``pytest`` run (the name does not start with ``test_``): Triton reads
``TRITON_INTERPRET`` when it is imported, so ``test_psf_triton.py`` runs this file in a fresh
process with ``TRITON_INTERPRET=1``. Every check compares the kernels (forward, x gradient,
alpha gradient; one alpha and one per channel; contiguous and channels-last; float32, bfloat16,
float16, float64) with the portable eager maths on the same inputs.
"""

from __future__ import annotations

import os

import pytest
import torch

if os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("run by test_psf_triton.py with TRITON_INTERPRET=1", allow_module_level=True)

from ganzoo_psf import _math, _ops, parametric_softsign  # noqa: E402

# Output tolerances per dtype (the kernels and the portable path both compute in float32 for
# half types and round once; they may differ by the last bit of the stored dtype).
TOLERANCES = {
    torch.float32: {"rtol": 1e-5, "atol": 1e-6},
    torch.float64: {"rtol": 1e-12, "atol": 1e-12},
    torch.bfloat16: {"rtol": 1e-2, "atol": 1e-3},
    torch.float16: {"rtol": 1e-3, "atol": 1e-4},
}


@pytest.fixture(autouse=True)
def triton_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPU tensors go to the (interpreted) Triton kernels in this process."""
    monkeypatch.setattr(_ops, "TRITON_ON_CPU", True)


def _inputs(shape, channels, dtype, channels_last, seed=0):
    torch.manual_seed(seed)
    x = (torch.randn(shape) * 3).to(dtype)
    x.view(-1)[:6] = torch.tensor([0.0, -1e-6, 1e-6, -1e4, 1e4, -0.5]).to(dtype)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    alpha = torch.linspace(-1.0, 1.5, channels)
    grad = torch.randn(shape).to(dtype)
    return x, alpha, grad


@pytest.mark.parametrize("dtype", list(TOLERANCES), ids=str)
@pytest.mark.parametrize("channels", [1, 6])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("shape", [(3, 6, 5, 7), (2, 6, 20, 21)])  # one block; several
def test_kernels_match_portable(dtype, channels, channels_last, shape) -> None:
    """Forward, x gradient and alpha gradient equal the portable path's within the dtype's
    tolerance; dtypes and the channels-last layout are kept."""
    x, alpha, grad = _inputs(shape, channels, dtype, channels_last)
    assert _ops.uses_triton(x)
    y = _ops.psf_forward(x, alpha)
    grad_x, grad_alpha = _ops.psf_backward(x, alpha, grad)
    expected_y = _math.forward(x, alpha)
    expected_x, expected_alpha = _math.backward(x, alpha, grad)
    assert y.dtype == dtype and grad_x.dtype == dtype and grad_alpha.dtype == alpha.dtype
    layout = torch.channels_last if channels_last else torch.contiguous_format
    assert y.is_contiguous(memory_format=layout) and grad_x.is_contiguous(memory_format=layout)
    torch.testing.assert_close(y, expected_y, **TOLERANCES[dtype])
    torch.testing.assert_close(grad_x, expected_x, **TOLERANCES[dtype])
    # alpha gradients are sums in float32 (float64 for float64) in another order
    rtol = 1e-10 if dtype == torch.float64 else 1e-4
    torch.testing.assert_close(grad_alpha, expected_alpha.to(alpha.dtype), rtol=rtol, atol=1e-4)


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")  # e^100: clamped
@pytest.mark.parametrize("alpha_value", [-100.0, -30.0, 30.0, 100.0])
def test_extremes_stay_finite(alpha_value: float) -> None:
    """x = +-1e4 and |alpha| up to 100 (where e^-alpha is clamped): finite, and the portable
    path's values."""
    x = torch.tensor([-1e4, -300.0, -1.0, -1e-3, 0.0, 1e-3, 2.0, 1e4])
    alpha = torch.tensor([alpha_value])
    grad = torch.ones_like(x)
    results = [_ops.psf_forward(x, alpha), *_ops.psf_backward(x, alpha, grad)]
    expected = [_math.forward(x, alpha), *_math.backward(x, alpha, grad)]
    for got, want in zip(results, expected):
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_autograd_through_the_kernels(channels: int) -> None:
    """The operator with its registered autograd on the Triton kernels: gradcheck in float64,
    and a gradient penalty (create_graph=True, then backward) equal to the portable path's."""
    torch.manual_seed(1)
    x = (torch.randn(2, 3, 4, dtype=torch.float64) * 2).requires_grad_()
    alpha = torch.linspace(-0.5, 1.0, channels, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(lambda i, a: parametric_softsign(i, a, fused=True), (x, alpha))
    results = []
    for fused in (True, False):
        x.grad = alpha.grad = None
        out = parametric_softsign(x, alpha, fused=fused)
        (grad,) = torch.autograd.grad(out.pow(2).sum(), x, create_graph=True)
        grad.pow(2).sum().backward()
        results.append((grad.detach(), x.grad.clone(), alpha.grad.clone()))
    for got, want in zip(*results):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_empty_input() -> None:
    """An empty tensor gives empty results and a zero alpha gradient (no kernel launch)."""
    x = torch.empty(0, 4, 3)
    alpha = torch.zeros(4)
    assert _ops.psf_forward(x, alpha).shape == x.shape
    grad_x, grad_alpha = _ops.psf_backward(x, alpha, x)
    assert grad_x.shape == x.shape and torch.equal(grad_alpha, torch.zeros(4))
