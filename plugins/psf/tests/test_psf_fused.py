"""The fused (torch.compile) path: same answers as the portable path, compiled once, and a
fallback with one warning when compiling fails. This file pays for the plugin's compiles."""

from __future__ import annotations

import logging

import pytest
import torch
from ganzoo_psf import ParametricSoftsign, _fused, parametric_softsign
from psf_helpers import compiled_graphs, reference_check


def test_reference_table_fused() -> None:
    """The spec's table of f, df/dx and df/dalpha holds on the fused path too."""
    reference_check(ParametricSoftsign(fused=True))
    assert _fused.fused_available(torch.zeros(1, dtype=torch.float64)), _fused._state["error"]


@pytest.mark.parametrize("num_parameters", [1, 3])
def test_gradcheck_fused(num_parameters: int) -> None:
    """Fused analytic gradients for x and alpha match finite differences, near 0 as well."""
    torch.manual_seed(1)
    x = torch.randn(4, 3, 5, dtype=torch.float64) * 3
    x[0, :, :4] = torch.tensor([1e-3, -1e-3, 1e-6, -1e-6], dtype=torch.float64)
    x.requires_grad_()
    alpha = torch.linspace(-1.0, 1.5, num_parameters, dtype=torch.float64).requires_grad_()
    fn = lambda i, a: parametric_softsign(i, a, fused=True)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, alpha), fast_mode=True)


@pytest.mark.parametrize("num_parameters", [1, 16])
def test_fused_equals_portable_and_compiles_once(num_parameters: int) -> None:
    """float32 outputs and both gradients agree; new batch/image sizes reuse the kernels."""
    torch.manual_seed(2)
    fused = ParametricSoftsign(num_parameters, fused=True)
    portable = ParametricSoftsign(num_parameters, fused=False)
    with torch.no_grad():
        fused.alpha.normal_()
        portable.alpha.copy_(fused.alpha)

    def run(module: ParametricSoftsign, x: torch.Tensor, g: torch.Tensor):
        x = x.clone().requires_grad_()
        module.alpha.grad = None
        y = module(x)
        y.backward(g)
        return y, x.grad, module.alpha.grad.clone()

    x = torch.randn(8, 16, 6, 6) * 3
    g = torch.randn_like(x)
    for a, b in zip(run(fused, x, g), run(portable, x, g)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    graphs = compiled_graphs()
    for shape in [(3, 16, 10, 10), (1, 16, 2, 2), (5, 16)]:
        x = torch.randn(shape)
        for a, b in zip(run(fused, x, torch.ones(shape)), run(portable, x, torch.ones(shape))):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert compiled_graphs() == graphs, "a new input size recompiled the fused kernels"


def test_works_inside_a_compiled_model() -> None:
    """A model compiled as a whole (dynamo traces PSF's autograd.Function) gives eager's results."""
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), ParametricSoftsign(6, alpha_init=0.5))
    x = torch.randn(5, 4)
    expected = model(x)
    expected.sum().backward()
    eager_grad = model[1].alpha.grad.clone()
    model.zero_grad()
    compiled = torch.compile(model, backend="aot_eager")
    y = compiled(x)
    y.sum().backward()
    torch.testing.assert_close(y, expected)
    torch.testing.assert_close(model[1].alpha.grad, eager_grad)


def test_compile_failure_falls_back_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, fresh_fused_state: dict, caplog: pytest.LogCaptureFixture
) -> None:
    """If compiling fails, results come from the portable path and one warning is logged."""

    def broken(name: str):
        def kernel(*args):
            raise RuntimeError("simulated: no C++ compiler")

        return kernel

    monkeypatch.setattr(_fused, "_compiled", broken)
    fused = ParametricSoftsign(2, alpha_init=0.3, fused=True)
    portable = ParametricSoftsign(2, alpha_init=0.3, fused=False)
    x = torch.randn(3, 2, 4)
    with caplog.at_level(logging.WARNING, logger="ganzoo_psf"):
        for dtype in (torch.float32, torch.float64, torch.float32):
            xi = x.to(dtype).requires_grad_()
            y = fused.to(dtype)(xi)
            y.sum().backward()
            torch.testing.assert_close(y, portable.to(dtype)(x.to(dtype)))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "simulated: no C++ compiler" in warnings[0].getMessage()
    assert not _fused.fused_available(x) and fresh_fused_state["warned"]


@pytest.mark.parametrize("num_parameters", [1, 2])
@pytest.mark.parametrize("alpha", [-100.0, -20.0, 0.0, 20.0, 80.0])
def test_fused_finite_and_equal_at_extremes(num_parameters: int, alpha: float) -> None:
    """Fused float32 results stay finite for x = +-1e4 and |alpha| up to 100 (where e^-a is
    clamped), and match the portable path's values and both gradients."""
    x = torch.tensor([-1e4, -300.0, -1.0, -1e-3, 0.0, 1e-3, 2.0, 1e4]).view(1, 2, 4)
    results = []
    for fused in (True, False):
        xi = x.clone().requires_grad_()
        m = ParametricSoftsign(num_parameters, alpha_init=alpha, fused=fused)
        y = m(xi)
        y.backward(torch.ones_like(y))
        for value in (y, xi.grad, m.alpha.grad):
            assert torch.isfinite(value).all(), (fused, value)
        results.append((y, xi.grad, m.alpha.grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
