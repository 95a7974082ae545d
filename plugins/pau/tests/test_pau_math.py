"""The safe PAU's maths: known values, analytic gradients against finite differences, and the
initial fit to LeakyReLU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ganzoo_pau import LEAKY_RELU_02, PadeActivation, fit_leaky_relu, pade_activation
from ganzoo_pau.fit import fit_grid, rational


def _coefficients(numerator, denominator, dtype=torch.float64, grad=False):
    num = torch.tensor([numerator], dtype=dtype, requires_grad=grad)
    den = torch.tensor([denominator], dtype=dtype, requires_grad=grad)
    return num, den


def test_known_rational_functions():
    """Hand-set coefficients give textbook functions: a = (0, 1), b = (1) is softsign
    x / (1 + |x|) (f(-3) = -0.75, slope 1/16 there); b = (0, 1) gives x / (1 + x^2) (f(2) = 0.4);
    a = (1, 1, 1) with b = 0 is the polynomial 1 + x + x^2."""
    x = torch.tensor([-3.0, -1.0, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
    num, den = _coefficients([0.0, 1.0], [1.0])
    y = pade_activation(x, num, den)
    assert y.tolist() == pytest.approx([-0.75, -0.5, 1 / 3, 2 / 3])
    y.backward(torch.ones_like(y))
    assert x.grad.tolist() == pytest.approx([1 / 16, 1 / 4, 1 / 2.25, 1 / 9])
    num, den = _coefficients([0.0, 1.0], [0.0, 1.0])
    assert pade_activation(torch.tensor([2.0], dtype=torch.float64), num, den).item() == (
        pytest.approx(0.4)
    )
    num, den = _coefficients([1.0, 1.0, 1.0], [0.0])
    assert pade_activation(x.detach(), num, den).tolist() == pytest.approx([7.0, 1.0, 1.75, 7.0])


def test_denominator_uses_absolute_coefficients():
    """The safe form uses |b_k|: flipping a denominator coefficient's sign changes nothing, and
    no choice of signs makes a pole (Q >= 1)."""
    x = torch.linspace(-4, 4, 81, dtype=torch.float64)
    num, den = _coefficients([0.1, 1.0, 0.5, 0.2, 0.1, 0.05], [0.5, -2.0, 0.3, -0.1])
    flipped = den.abs()
    assert torch.equal(pade_activation(x, num, den), pade_activation(x, num, flipped))
    assert torch.isfinite(pade_activation(x, num, -den.abs() * 100)).all()


@pytest.mark.parametrize("channels", [1, 3])
def test_gradcheck_against_finite_differences(channels):
    """The hand-written backward matches finite differences for x, the numerator and the
    denominator (with negative denominator coefficients, so the sign rule is exercised), for
    one coefficient set and for one per channel."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, channels, 5, generator=gen, dtype=torch.float64)
    x = (x + 0.05 * torch.sign(x)).requires_grad_()  # keep clear of |x|'s kink at 0
    num = torch.randn(channels, 6, generator=gen, dtype=torch.float64).requires_grad_()
    den = torch.randn(channels, 4, generator=gen, dtype=torch.float64)
    den = (den + 0.1 * torch.sign(den)).requires_grad_()  # keep clear of |b|'s kink at 0
    assert torch.autograd.gradcheck(pade_activation, (x, num, den))


def test_zero_denominator_coefficient_can_move():
    """At b_k = 0 the |b_k| derivative is taken as +1, so a coefficient at 0 gets a non-zero
    gradient (with sign(0) = 0 it would be stuck at 0 for good)."""
    x = torch.tensor([-1.5, 0.7, 2.0], dtype=torch.float64)
    num, den = _coefficients([0.0, 1.0, 0.3], [0.0, 0.0], grad=True)
    pade_activation(x, num, den).sum().backward()
    assert (den.grad != 0).all()


def test_stored_initial_fit_approximates_leaky_relu():
    """The default unit is the stored least-squares fit of LeakyReLU(0.2) on [-3, 3]: largest
    error 0.0256 (at the kink, f(0) = a_0) and RMS error 0.0043 over the grid, and f(-2) and
    f(2) within 0.01 of -0.4 and 2."""
    unit = PadeActivation()
    x = torch.from_numpy(fit_grid()).float()
    target = torch.where(x >= 0, x, 0.2 * x)
    error = (unit(x) - target).detach().double()
    assert error.abs().max().item() == pytest.approx(0.02559, abs=2e-4)
    assert error.pow(2).mean().sqrt().item() == pytest.approx(0.00427, abs=1e-4)
    assert unit(torch.tensor([-2.0, 2.0])).tolist() == pytest.approx([-0.4, 2.0], abs=0.01)


def test_a_fresh_fit_reproduces_the_stored_coefficients():
    """Running the fit again gives the stored coefficients (to 1e-6) and error figures, so the
    constants in the code are what the documented procedure produces."""
    fresh = fit_leaky_relu(0.2)
    assert np.allclose(fresh.numerator, LEAKY_RELU_02.numerator, atol=1e-6)
    assert np.allclose(fresh.denominator, LEAKY_RELU_02.denominator, atol=1e-6)
    assert fresh.rms_error == pytest.approx(LEAKY_RELU_02.rms_error, rel=1e-6)
    x = fit_grid()
    direct = rational(x, np.array(fresh.numerator), np.array(fresh.denominator))
    assert np.abs(direct - np.where(x >= 0, x, 0.2 * x)).max() == pytest.approx(fresh.max_error)


def test_other_slopes_are_fitted_on_construction():
    """negative_slope = 0.01 (PyTorch's default) builds a unit close to that LeakyReLU: f(-3)
    near -0.03, not 0.2's -0.6."""
    unit = PadeActivation(negative_slope=0.01)
    assert unit(torch.tensor([-3.0])).item() == pytest.approx(-0.03, abs=0.03)
    assert fit_leaky_relu(0.01).rms_error < 0.006
