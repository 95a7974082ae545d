"""ParametricSoftsign on the portable path, and its integration with ganzoo's registry.

The conftest makes ``fused=None`` mean portable, and these tests check no compile happens.
"""

from __future__ import annotations

import copy
import io
import math

import pytest
import torch
from ganzoo_psf import ParametricSoftsign, _math, parametric_softsign
from psf_helpers import REFERENCE, compiled_graphs, reference_check

from ganzoo.activations import ACTIVATIONS, create_activation, get_activation
from ganzoo.errors import ConfigError


def psf_reference(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """The spec's formula, written directly (float64)."""
    s = math.exp(alpha)
    return torch.where(x >= 0, x, s * x / (s + x.abs()))


@pytest.fixture(autouse=True)
def no_compile():
    """Every test in this file must leave dynamo's compile count unchanged."""
    before = compiled_graphs()
    yield
    assert compiled_graphs() == before, "the portable path triggered a torch.compile"


def test_reference_table_portable() -> None:
    """The spec's table of f, df/dx and df/dalpha at alpha = 0 holds on the portable path."""
    reference_check(ParametricSoftsign(fused=False))


def test_default_resolves_to_portable_under_env_var() -> None:
    """With GANZOO_PSF_FUSED=0 (set by the conftest) fused=None takes the portable path."""
    assert ParametricSoftsign().uses_fused() is False
    assert ParametricSoftsign(fused=True).uses_fused() is True


def test_matches_formula_for_several_alphas() -> None:
    """Values equal e^a x / (e^a + |x|) on a grid, for alphas on both sides of 0."""
    x = torch.linspace(-20, 5, 301, dtype=torch.float64)
    for alpha in (-3.0, -0.5, 0.0, 1.7, 4.0):
        m = ParametricSoftsign(alpha_init=alpha, fused=False).double()
        expected = psf_reference(x, m.alpha.item())  # alpha as stored (float32, then float64)
        torch.testing.assert_close(m(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("num_parameters", [1, 3])
def test_gradcheck_portable(num_parameters: int) -> None:
    """Analytic gradients for x and alpha match finite differences, including near 0."""
    torch.manual_seed(0)
    x = torch.randn(4, 3, 5, dtype=torch.float64) * 3
    x[0, :, :4] = torch.tensor([1e-3, -1e-3, 1e-6, -1e-6], dtype=torch.float64)
    x.requires_grad_()
    alpha = torch.linspace(-1.0, 1.5, num_parameters, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(lambda i, a: parametric_softsign(i, a, fused=False), (x, alpha))


def test_limits_relu_and_identity() -> None:
    """alpha = -30 gives ReLU and alpha = +30 the identity, within 1e-6 on [-50, 50]."""
    x = torch.linspace(-50, 50, 1001, dtype=torch.float64)
    relu_like = ParametricSoftsign(alpha_init=-30.0, fused=False).double()
    identity_like = ParametricSoftsign(alpha_init=30.0, fused=False).double()
    torch.testing.assert_close(relu_like(x), torch.relu(x), rtol=0, atol=1e-6)
    torch.testing.assert_close(identity_like(x), x, rtol=0, atol=1e-6)
    # and not trivially: at alpha = 0 the negative side is far from both
    assert (ParametricSoftsign(fused=False).double()(x) - torch.relu(x)).abs().max() > 0.9


def test_continuous_with_slope_one_at_zero() -> None:
    """f(+-h) = +-h to first order, and df/dx -> 1 from both sides of 0."""
    m = ParametricSoftsign(alpha_init=0.3, fused=False).double()
    h = 1e-7
    x = torch.tensor([-h, 0.0, h], dtype=torch.float64, requires_grad=True)
    y = m(x)
    y.sum().backward()
    expected = torch.tensor([-h, 0.0, h], dtype=torch.float64)
    torch.testing.assert_close(y, expected, rtol=1e-6, atol=0)
    torch.testing.assert_close(x.grad, torch.ones(3, dtype=torch.float64), rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("alpha", [-80.0, -20.0, 0.0, 20.0])
def test_low_precision_finite(dtype: torch.dtype, alpha: float) -> None:
    """No inf/nan in outputs or gradients for extreme x (-1e4 included) and large |alpha|; at
    alpha = -80 the portable backward's ``d^2`` overflows for every x < 0 and those slopes
    (all below 1e-38) must come out 0, not nan."""
    x = torch.tensor([-1e4, -300.0, -1.0, -1e-3, 0.0, 1e-3, 2.0, 1e4], dtype=dtype)
    x.requires_grad_()
    m = ParametricSoftsign(alpha_init=alpha, fused=False)
    y = m(x)
    y.backward(torch.ones_like(y))
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert torch.isfinite(y).all() and torch.isfinite(x.grad).all()
    assert torch.isfinite(m.alpha.grad).all()
    # and the values and slopes are right to the dtype's precision (slopes from x, not from y:
    # where |y| <= e^a underflows, as in float16 at alpha = -20, y no longer tells them)
    xr = x.detach().double()
    torch.testing.assert_close(y.double(), psf_reference(xr, alpha), rtol=1e-2, atol=1e-3)
    s = math.exp(alpha)
    slope = torch.where(xr >= 0, 1.0, s**2 / (s + xr.abs()) ** 2)
    torch.testing.assert_close(x.grad.double(), slope, rtol=1e-2, atol=1e-6)


def test_per_channel_shape_and_independence() -> None:
    """One alpha per channel (dim 1): each channel follows its own alpha; gradient per channel."""
    m = ParametricSoftsign(3, fused=False).double()
    with torch.no_grad():
        m.alpha.copy_(torch.tensor([-2.0, 0.0, 2.0]))
    x = -torch.ones(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    y = m(x)
    assert y.shape == x.shape and m.alpha.shape == (3,)
    expected = torch.tensor([-math.exp(a) / (math.exp(a) + 1) for a in (-2.0, 0.0, 2.0)])
    torch.testing.assert_close(y[0, :, 0, 0], expected.double())
    y.sum().backward()
    # df/da = -s / (s + 1)^2 per element, 2*4*4 = 32 elements per channel
    dfda = torch.tensor([-math.exp(a) / (math.exp(a) + 1) ** 2 * 32 for a in (-2.0, 0.0, 2.0)])
    torch.testing.assert_close(m.alpha.grad, dfda.double())


def test_per_channel_mismatch_is_a_clear_error() -> None:
    """A channel count that does not match num_parameters names both numbers and the fix."""
    m = ParametricSoftsign(8, fused=False)
    with pytest.raises(ConfigError, match=r"num_parameters=8.*4 channels"):
        m(torch.randn(2, 4, 3, 3))
    with pytest.raises(ConfigError, match="num_parameters"):
        ParametricSoftsign(0)


def test_registry_finds_psf_through_entry_point() -> None:
    """`psf` resolves through the plugin's entry point, with origin 'ganzoo-psf 0.1.0'."""
    assert "psf" in ACTIVATIONS.names()
    assert ACTIVATIONS.origin("psf") == "ganzoo-psf 0.1.0"
    assert get_activation("psf") is ParametricSoftsign


def test_registry_layers_do_not_share_alpha() -> None:
    """Two layers built from the registry own distinct alphas; changing one spares the other."""
    a = create_activation("psf")
    b = create_activation("psf", alpha_init=0.0)
    assert a.alpha is not b.alpha
    with torch.no_grad():
        a.alpha.fill_(1.5)
    assert b.alpha.item() == 0.0
    x = -torch.ones(3)
    assert not torch.equal(a(x), b(x))


def test_state_dict_deepcopy_and_pickle_round_trip() -> None:
    """A trained alpha survives state_dict save/load, deepcopy and pickling the whole module."""
    m = ParametricSoftsign(4, alpha_init=0.5)
    with torch.no_grad():
        m.alpha.copy_(torch.tensor([-1.0, 0.2, 0.7, 3.0]))
    buffer = io.BytesIO()
    torch.save(m.state_dict(), buffer)
    buffer.seek(0)
    restored = ParametricSoftsign(4)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(restored(x), m(x))
    clone = copy.deepcopy(m)
    assert clone.alpha is not m.alpha
    torch.testing.assert_close(clone(x), m(x))
    buffer = io.BytesIO()
    torch.save(m, buffer)
    buffer.seek(0)
    unpickled = torch.load(buffer, weights_only=False)
    torch.testing.assert_close(unpickled(x), m(x))
    assert "num_parameters=4" in repr(unpickled)


def test_reference_values_listed_match_formula() -> None:
    """The reference table itself agrees with the formula (guards against a typo in it)."""
    for x0, f0, _, _ in REFERENCE:
        assert psf_reference(torch.tensor([x0], dtype=torch.float64), 0.0).item() == f0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("alpha", [-30.0, -3.0, 0.0, 2.5, 30.0])
def test_one_alpha_shortcut_equals_general_kernels(dtype: torch.dtype, alpha: float) -> None:
    """The portable one-alpha CPU shortcut (elu_backward as a fused affine kernel) gives the
    general broadcasting kernels' values and gradients."""
    torch.manual_seed(5)
    x = (torch.randn(3, 4, 5, 6) * 4).to(dtype)
    x[0, 0, 0, :4] = torch.tensor([0.0, -1e-6, 1e-6, -1e4])
    g = torch.randn_like(x)
    a = torch.tensor([alpha])
    compute = _math.compute_dtype(dtype)
    assert _math.scalar_scales(a, compute) is not None
    t = _math.inverse_scale(a, compute)
    y = _math.forward(x, a)
    expected_y = _math.psf_forward(x.reshape(-1), t).to(dtype).view(x.shape)
    torch.testing.assert_close(y, expected_y, rtol=1e-6, atol=1e-7)
    grad_x, grad_alpha = _math.backward(x, a, g)
    expected_x, expected_alpha = _math.psf_backward(x.reshape(-1), t, g.reshape(-1))
    torch.testing.assert_close(grad_x, expected_x.view(x.shape), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad_alpha, expected_alpha, rtol=1e-4, atol=1e-6)


def test_shortcut_only_where_it_is_exact() -> None:
    """No shortcut per channel, or where e^a or e^-a would leave the normal range."""
    assert _math.scalar_scales(torch.tensor([80.0]), torch.float32) is not None
    assert _math.scalar_scales(torch.tensor([-81.0]), torch.float32) is None
    assert _math.scalar_scales(torch.tensor([300.0]), torch.float64) is not None
    assert _math.scalar_scales(torch.tensor([float("nan")]), torch.float32) is None
    assert _math.scalar_scales(torch.zeros(2), torch.float32) is None


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("channels", [1, 3])
def test_double_backward_for_gradient_penalties(fused, channels):
    """A gradient penalty differentiates PSF's gradient again (create_graph): gradgradcheck
    holds on both paths, one alpha or per channel, and the input gradient keeps its graph."""
    torch.manual_seed(0)
    module = ParametricSoftsign(num_parameters=channels, alpha_init=0.3, fused=fused).double()
    x = torch.randn(2, 3, 4, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradgradcheck(
        lambda x, a: parametric_softsign(x, a, fused), (x, module.alpha)
    )
    (grad,) = torch.autograd.grad(module(x).pow(2).sum(), x, create_graph=True)
    assert grad.requires_grad
    grad.pow(2).sum().backward()
    assert module.alpha.grad is not None and torch.isfinite(module.alpha.grad).all()
