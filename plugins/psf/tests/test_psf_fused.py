"""The fused path on the CPU: the ``ganzoo::psf_*`` operators running the native C++ kernels.
Same answers as the portable path and the spec, built once (never through torch.compile), and
a fallback with one warning when building fails. This file pays for the plugin's build (the C++
library once per machine, cached on disk). The Triton kernels are tested in test_psf_triton.py.
"""

from __future__ import annotations

import logging
import math
import sys

import pytest
import torch
from ganzoo_psf import ParametricSoftsign, _fused, _math, _native, _ops, parametric_softsign
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
    assert torch.autograd.gradcheck(
        fn,
        (x, alpha),
    )


def _run(module: ParametricSoftsign, x: torch.Tensor, g: torch.Tensor):
    x = x.clone().requires_grad_()
    module.alpha.grad = None
    y = module(x)
    y.backward(g)
    return y, x.grad, module.alpha.grad.clone()


@pytest.mark.parametrize("num_parameters", [1, 16])
def test_fused_equals_portable_and_builds_once(num_parameters: int) -> None:
    """float32 outputs and both gradients agree, for new batch/image sizes, non-contiguous
    inputs and expanded gradients too; no call goes through torch.compile."""
    torch.manual_seed(2)
    fused = ParametricSoftsign(num_parameters, fused=True)
    portable = ParametricSoftsign(num_parameters, fused=False)
    with torch.no_grad():
        fused.alpha.normal_()
        portable.alpha.copy_(fused.alpha)
    graphs = compiled_graphs()
    x = torch.randn(8, 16, 6, 6) * 3
    g = torch.randn_like(x)
    for a, b in zip(_run(fused, x, g), _run(portable, x, g)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    # new sizes, a non-contiguous input, an expanded (stride-0) gradient, an empty tensor
    shapes = [(3, 16, 10, 10), (1, 16, 2, 2), (5, 16), (0, 16, 3)]
    for shape in shapes:
        x = torch.randn(shape)
        for a, b in zip(_run(fused, x, torch.ones(shape)), _run(portable, x, torch.ones(shape))):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    x = torch.randn(4, 9, 16).transpose(1, 2)
    g = torch.ones(()).expand(x.shape)
    for a, b in zip(_run(fused, x, g), _run(portable, x, g)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert compiled_graphs() == graphs, "an eager call went through torch.compile"


def test_native_large_tensor_many_blocks() -> None:
    """Several blocks of work (and threads): the alpha gradient sums them all, per channel."""
    torch.manual_seed(4)
    for num_parameters in (1, 8):
        fused = ParametricSoftsign(num_parameters, alpha_init=0.4, fused=True).double()
        portable = ParametricSoftsign(num_parameters, alpha_init=0.4, fused=False).double()
        x = torch.randn(6, 8, 73, 61, dtype=torch.float64) * 2  # not a multiple of the block
        g = torch.randn_like(x)
        for a, b in zip(_run(fused, x, g), _run(portable, x, g)):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("num_parameters", [1, 6])
def test_works_inside_a_compiled_model(num_parameters: int) -> None:
    """A model compiled as a whole (fullgraph: the operator causes no graph break; aot_eager
    traces its fake implementation and registered autograd) gives eager's results."""
    torch.manual_seed(3)
    psf = ParametricSoftsign(num_parameters, alpha_init=0.5, fused=True)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), psf)
    x = torch.randn(5, 4)
    expected = model(x)
    expected.sum().backward()
    eager_grad = model[1].alpha.grad.clone()
    model.zero_grad()
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    y = compiled(x)
    y.sum().backward()
    torch.testing.assert_close(y, expected)
    torch.testing.assert_close(model[1].alpha.grad, eager_grad)


def _check_fallback(caplog: pytest.LogCaptureFixture, message: str) -> None:
    """The CPU implementation gives the portable results in three dtypes, with one warning.

    (It calls the implementation, not the operator: once this process has loaded the library,
    the operator's CPU calls reach the C++ kernels directly; a process whose build failed has
    only this implementation.)"""
    x = torch.randn(3, 2, 4)
    g = torch.randn_like(x)
    alpha = torch.tensor([0.3, -0.2])
    with caplog.at_level(logging.WARNING, logger="ganzoo_psf"):
        for dtype in (torch.float32, torch.float64, torch.float32):
            xd, gd, ad = x.to(dtype), g.to(dtype), alpha.to(dtype)
            torch.testing.assert_close(_fused.cpu_forward(xd, ad), _math.forward(xd, ad))
            grad_x, grad_alpha = _math.backward(xd, ad, gd)
            for a, b in zip(_fused.cpu_backward(xd, ad, gd), (grad_x, grad_alpha.to(dtype))):
                torch.testing.assert_close(a, b)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert message in warnings[0].getMessage()
    assert not _fused.fused_available(x)


def test_missing_triton_falls_back_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, fresh_fused_state: dict, caplog: pytest.LogCaptureFixture
) -> None:
    """Without Triton, tensors meant for the Triton kernels take the other path, after one
    warning naming the import error."""
    monkeypatch.setitem(sys.modules, "ganzoo_psf._triton", None)  # import fails
    monkeypatch.setattr(_ops, "TRITON_ON_CPU", True)
    x = torch.randn(3, 2)
    with caplog.at_level(logging.WARNING, logger="ganzoo_psf"):
        assert not _ops.uses_triton(x)
        assert not _ops.uses_triton(x)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Triton kernels could not be loaded" in warnings[0].getMessage()
    assert _fused.TRITON in fresh_fused_state["failed"]


def test_native_without_compiler_falls_back_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, fresh_fused_state: dict, caplog: pytest.LogCaptureFixture
) -> None:
    """No C++ compiler on the machine: one warning naming the problem, then the portable path."""
    monkeypatch.setattr(_native, "_ops", None)  # as in a fresh process
    monkeypatch.setenv("CXX", "ganzoo-no-such-compiler")
    _check_fallback(caplog, "no C++ compiler found")
    assert isinstance(fresh_fused_state["error"], RuntimeError)


def test_native_compile_error_falls_back_with_one_warning(
    monkeypatch: pytest.MonkeyPatch,
    fresh_fused_state: dict,
    caplog: pytest.LogCaptureFixture,
    tmp_path,
) -> None:
    """A source the compiler rejects: one warning quoting the error, nothing left in the cache."""
    source = tmp_path / "psf_cpu.cpp"
    source.write_text('#error "simulated compile error"\n')
    monkeypatch.setattr(_native, "_ops", None)
    monkeypatch.setattr(_native, "SOURCE", source)
    monkeypatch.setenv(_native.CACHE_ENV, str(tmp_path / "cache"))
    _check_fallback(caplog, "simulated compile error")
    assert not list((tmp_path / "cache").glob("*")), "a failed build left files in the cache"


def test_native_cache_path(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The library lives under GANZOO_PSF_CACHE_DIR, named by a hash of what it depends on."""
    monkeypatch.setenv(_native.CACHE_ENV, str(tmp_path))
    cxx = _native.compiler()
    path = _native.library_path(cxx)
    assert path.parent == tmp_path and path.name.startswith("psf_cpu-")
    assert _native.library_path(cxx) == path  # stable: later processes find it
    _native.load()  # built (or found) once per process; the same ops object every call
    assert _native.load() is torch.ops.ganzoo_psf


def test_native_cache_keeps_the_most_recently_used_builds(tmp_path) -> None:
    """Pruning after a build keeps the KEEP most recently used libraries (the new one always)
    and removes the rest, plus partial files a killed build left; recent partials stay."""
    import os
    import time

    now = time.time()
    libraries = []
    for age in range(12):  # psf_cpu-00.so is the most recently used, psf_cpu-11.so the least
        path = tmp_path / f"psf_cpu-{age:02d}.so"
        path.write_bytes(b"lib")
        os.utime(path, (now - 60 * age, now - 60 * age))
        libraries.append(path)
    new = tmp_path / "psf_cpu-new.so"
    new.write_bytes(b"lib")
    os.utime(new, (now - 3600 * 24, now - 3600 * 24))  # even an old mtime: it is the current one
    stale = tmp_path / "psf_cpu-x.123.456.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (now - 2 * _native.STALE_PARTIAL_SECONDS,) * 2)
    building = tmp_path / "psf_cpu-y.789.1.tmp"  # another process's build in progress
    building.write_bytes(b"half")
    other = tmp_path / "notes.txt"
    other.write_text("not ours")

    removed = _native.prune(new, keep=8)

    kept = sorted(p.name for p in tmp_path.iterdir())
    expected = sorted([new.name, building.name, other.name] + [p.name for p in libraries[:7]])
    assert kept == expected
    assert sorted(removed) == sorted(libraries[7:] + [stale])
    assert _native.prune(new, keep=8) == []  # nothing more to do


@pytest.mark.parametrize("num_parameters", [1, 2])
@pytest.mark.parametrize("alpha", [-100.0, -30.0, -20.0, 0.0, 20.0, 30.0, 80.0])
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
    # and the slopes are the spec's (~0 below 0 for alpha -> -inf, ~1 for alpha -> +inf)
    s = math.exp(alpha)
    xr = x.double()
    slope = torch.where(xr >= 0, 1.0, s**2 / (s + xr.abs()) ** 2).float()
    torch.testing.assert_close(results[0][1], slope, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_native_low_precision_matches_reference(dtype: torch.dtype) -> None:
    """float16/bfloat16 on the native kernels: dtypes kept, values and gradients within the
    dtype's precision of the float64 formula, alpha = -30 (where |y| underflows) included."""
    x64 = torch.tensor([-1e4, -300.0, -7.0, -1.0, -0.25, -1e-3, 0.0, 0.5, 2.0], dtype=torch.float64)
    for alpha in (-30.0, -2.0, 0.0, 3.0):
        s = math.exp(alpha)
        x = x64.to(dtype).requires_grad_()
        m = ParametricSoftsign(alpha_init=alpha, fused=True)
        y = m(x)
        y.backward(torch.ones_like(y))
        assert y.dtype == dtype and x.grad.dtype == dtype
        xr = x.detach().double()
        d = s + xr.abs()
        expected_y = torch.where(xr >= 0, xr, s * xr / d)
        expected_dx = torch.where(xr >= 0, torch.ones_like(xr), s**2 / d**2)
        expected_da = torch.where(xr >= 0, torch.zeros_like(xr), -s * xr**2 / d**2).sum()
        torch.testing.assert_close(y.double(), expected_y, rtol=1e-2, atol=1e-3)
        torch.testing.assert_close(x.grad.double(), expected_dx, rtol=1e-2, atol=1e-6)
        torch.testing.assert_close(
            m.alpha.grad.double(), expected_da.reshape(1), rtol=1e-2, atol=1e-6
        )
