"""The safe PAU as ``torch.library`` operators: registered with fake implementations and
autograd that pass PyTorch's own checks, on the meta device, with double backward (gradient
penalties through a PAU critic), and without a graph break inside ``torch.compile``."""

from __future__ import annotations

import pytest
import torch
from ganzoo_pau import PadeActivation, pade_activation

from ganzoo.architectures import get_architecture
from ganzoo.losses import Samples, gradient_penalty


def _coefficients(channels: int, dtype=torch.float32, grad=False):
    torch.manual_seed(channels)
    unit = PadeActivation(channels)
    numerator = (unit.numerator.detach() + 0.1 * torch.randn(channels, 6)).to(dtype)
    denominator = (unit.denominator.detach() + 0.3 * torch.randn(channels, 4)).to(dtype)
    return numerator.requires_grad_(grad), denominator.requires_grad_(grad)


def textbook(x: torch.Tensor, numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """P(x) / (1 + sum |b_k| |x|^k) as plain tensor maths, derivatives by autograd."""
    shape = (1, -1) + (1,) * (x.dim() - 2) if numerator.shape[0] > 1 else ()
    p = sum(numerator[:, j].reshape(shape) * x**j for j in range(numerator.shape[1]))
    t = x.abs()
    q = 1 + sum(
        denominator[:, k].abs().reshape(shape) * t ** (k + 1) for k in range(denominator.shape[1])
    )
    return p / q


def test_operators_are_registered() -> None:
    """Both operators exist under torch.ops.ganzoo with the schemas the kernels implement."""
    assert str(torch.ops.ganzoo.pau_forward.default._schema) == (
        "ganzoo::pau_forward(Tensor x, Tensor numerator, Tensor denominator) -> Tensor"
    )
    assert str(torch.ops.ganzoo.pau_backward.default._schema) == (
        "ganzoo::pau_backward(Tensor x, Tensor numerator, Tensor denominator, Tensor grad) "
        "-> (Tensor, Tensor, Tensor)"
    )


# opcheck's AOT-dispatch check (tracing with dynamic shapes) takes ~20 s here: test-all only.
FAST_CHECKS = ("test_schema", "test_autograd_registration", "test_faketensor")
OPCHECKS = [
    pytest.param(FAST_CHECKS, id="fast"),
    pytest.param(("test_aot_dispatch_dynamic",), id="aot", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("checks", OPCHECKS)
@pytest.mark.parametrize("channels", [1, 3])
def test_opcheck(channels: int, checks: tuple[str, ...]) -> None:
    """torch.library.opcheck: schema, fake implementation, autograd registration (and, in
    test-all, AOT dispatch) agree with the real implementation (float64)."""
    numerator, denominator = _coefficients(channels, torch.float64, grad=True)
    x = (torch.randn(2, 3, 4, 5, dtype=torch.float64) * 2).requires_grad_()
    grad = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    for op, args in (
        (torch.ops.ganzoo.pau_forward.default, (x, numerator, denominator)),
        (torch.ops.ganzoo.pau_backward.default, (x, numerator, denominator, grad)),
    ):
        torch.library.opcheck(op, args, test_utils=checks)


@pytest.mark.parametrize("channels", [1, 3])
def test_double_backward_equals_textbook(channels: int) -> None:
    """A penalty on the input gradient (create_graph=True, then backward) through the unit
    gives the textbook formula's gradients for x and both coefficient sets (float64), and
    gradgradcheck holds."""
    torch.manual_seed(7)
    x0 = torch.randn(4, 3, 5, dtype=torch.float64) * 2
    num0, den0 = _coefficients(channels, torch.float64)
    results = []
    for fn in (pade_activation, textbook):
        x = x0.clone().requires_grad_()
        num, den = num0.clone().requires_grad_(), den0.clone().requires_grad_()
        (grad,) = torch.autograd.grad(fn(x, num, den).pow(2).sum(), x, create_graph=True)
        (grad.pow(2).sum() + grad.sum()).backward()
        results.append((grad.detach(), x.grad, num.grad, den.grad))
    for got, expected in zip(*results):
        torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-10)
    x = x0[:2, :, :2].clone().requires_grad_()
    num, den = num0.clone().requires_grad_(), den0.clone().requires_grad_()
    assert torch.autograd.gradgradcheck(pade_activation, (x, num, den))


def test_gradient_penalty_through_a_pau_critic() -> None:
    """WGAN-GP's penalty trains through a PAU DCGAN critic: finite, and it reaches every
    unit's coefficients (once_differentiable refused this before)."""
    torch.manual_seed(8)
    critic = get_architecture("dcgan").discriminator(
        data_shape=(1, 28, 28), width=4, activation="pau"
    )
    real = Samples(torch.randn(4, 1, 28, 28))
    fake = Samples(torch.randn(4, 1, 28, 28))
    penalty = gradient_penalty(lambda s: critic(s.images), real, fake)
    penalty.backward()
    units = [m for m in critic.modules() if isinstance(m, PadeActivation)]
    assert len(units) == 3
    for unit in units:
        for p in (unit.numerator, unit.denominator):
            assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


@pytest.mark.parametrize("channels", [1, 3])
def test_meta_shapes(channels: int) -> None:
    """On the meta device both operators give results of the right shape, dtype and device."""
    numerator, denominator = (t.to("meta") for t in _coefficients(channels))
    x = torch.empty(2, 3, 4, 4, device="meta", dtype=torch.bfloat16)
    y = torch.ops.ganzoo.pau_forward(x, numerator, denominator)
    grads = torch.ops.ganzoo.pau_backward(x, numerator, denominator, y)
    assert (y.shape, y.dtype, y.device.type) == (x.shape, torch.bfloat16, "meta")
    assert [tuple(g.shape) for g in grads] == [tuple(x.shape), (channels, 6), (channels, 4)]


def test_compiled_dcgan_has_no_graph_break() -> None:
    """A DCGAN with PAU everywhere (G and D) compiles into one graph (torch._dynamo.explain:
    0 graph breaks) and, compiled with fullgraph=True (aot_eager), gives eager's scores and
    gradients."""
    torch.manual_seed(4)
    arch = get_architecture("dcgan")
    options = {"data_shape": (1, 28, 28), "width": 4, "activation": "pau"}
    generator = arch.generator(latent_dim=8, **options)
    discriminator = arch.discriminator(**options)
    z = torch.randn(4, 8)

    def step(z: torch.Tensor) -> torch.Tensor:
        return discriminator(generator(z)).sum()

    explained = torch._dynamo.explain(step)(z)
    assert explained.graph_break_count == 0, explained.break_reasons
    assert explained.graph_count == 1
    expected = step(z)
    expected.backward()
    eager_grads = [p.grad.clone() for p in generator.parameters()]
    generator.zero_grad()
    discriminator.zero_grad()
    got = torch.compile(step, backend="aot_eager", fullgraph=True)(z)
    got.backward()
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    for p, eager in zip(generator.parameters(), eager_grads):
        torch.testing.assert_close(p.grad, eager, rtol=1e-4, atol=1e-6)
