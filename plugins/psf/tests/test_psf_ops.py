"""PSF as ``torch.library`` operators: registered with fake implementations and autograd that
pass PyTorch's own checks, double backward equal to the textbook formula's (gradient penalties),
and no graph break inside ``torch.compile`` (a whole PSF DCGAN, CPU)."""

from __future__ import annotations

import pytest
import torch
from ganzoo_psf import ParametricSoftsign, _ops, parametric_softsign
from psf_helpers import compiled_graphs

from ganzoo.architectures import get_architecture
from ganzoo.losses import Samples, gradient_penalty


def textbook(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """The spec's formula with autograd's derivatives: e^a x / (e^a + |x|) below 0."""
    shape = (1, -1) + (1,) * (x.dim() - 2) if alpha.numel() > 1 else ()
    s = torch.exp(alpha).reshape(shape)
    return torch.where(x >= 0, x, s * x / (s + x.abs()))


def test_operators_are_registered() -> None:
    """Both operators exist under torch.ops.ganzoo, with the schemas the kernels implement."""
    forward = torch.ops.ganzoo.psf_forward.default
    backward = torch.ops.ganzoo.psf_backward.default
    assert str(forward._schema) == "ganzoo::psf_forward(Tensor x, Tensor alpha) -> Tensor"
    assert str(backward._schema) == (
        "ganzoo::psf_backward(Tensor x, Tensor alpha, Tensor grad) -> (Tensor, Tensor)"
    )


# opcheck's AOT-dispatch check (tracing with dynamic shapes) is slow: test-all only.
FAST_CHECKS = ("test_schema", "test_autograd_registration", "test_faketensor")
OPCHECKS = [
    pytest.param(FAST_CHECKS, id="fast"),
    pytest.param(("test_aot_dispatch_dynamic",), id="aot", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("checks", OPCHECKS)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_opcheck(channels: int, dtype: torch.dtype, checks: tuple[str, ...]) -> None:
    """torch.library.opcheck: schema, fake implementation, autograd registration (and, in
    test-all, AOT dispatch) agree with the real kernels, for one alpha and one per channel."""
    torch.manual_seed(0)
    x = (torch.randn(2, 3, 4, 5, dtype=dtype) * 2).requires_grad_()
    alpha = torch.linspace(-0.5, 1.0, channels, dtype=dtype).requires_grad_()
    grad = torch.randn(2, 3, 4, 5, dtype=dtype)
    torch.library.opcheck(torch.ops.ganzoo.psf_forward.default, (x, alpha), test_utils=checks)
    torch.library.opcheck(
        torch.ops.ganzoo.psf_backward.default, (x, alpha, grad), test_utils=checks
    )


@pytest.mark.parametrize("channels", [1, 3])
def test_meta_shapes(channels: int) -> None:
    """On the meta device both operators give results of the right shape, dtype and device."""
    x = torch.empty(2, 3, 4, 4, device="meta", dtype=torch.bfloat16)
    alpha = torch.empty(channels, device="meta")
    y = torch.ops.ganzoo.psf_forward(x, alpha)
    grad_x, grad_alpha = torch.ops.ganzoo.psf_backward(x, alpha, y)
    assert (y.shape, y.dtype, y.device.type) == (x.shape, torch.bfloat16, "meta")
    assert (grad_x.shape, grad_x.dtype) == (x.shape, torch.bfloat16)
    assert (grad_alpha.shape, grad_alpha.dtype) == ((channels,), torch.float32)


@pytest.mark.parametrize("channels", [1, 3])
def test_double_backward_equals_textbook(channels: int) -> None:
    """A penalty on the input gradient (create_graph=True, then backward) through the operator
    gives the textbook formula's x and alpha gradients (float64), and gradgradcheck holds."""
    torch.manual_seed(1)
    x0 = torch.randn(4, 3, 5, dtype=torch.float64) * 2
    alpha0 = torch.linspace(-0.7, 1.2, channels, dtype=torch.float64)
    weight = torch.randn_like(x0)
    results = []
    for fn in (lambda x, a: parametric_softsign(x, a, fused=True), textbook):
        x = x0.clone().requires_grad_()
        alpha = alpha0.clone().requires_grad_()
        (grad,) = torch.autograd.grad((fn(x, alpha) * weight).sum(), x, create_graph=True)
        penalty = (grad * weight).pow(2).sum() + grad.sum()
        penalty.backward()
        results.append((grad.detach(), x.grad, alpha.grad))
    for got, expected in zip(*results):
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
    x = x0.clone().requires_grad_()
    alpha = alpha0.clone().requires_grad_()
    assert torch.autograd.gradgradcheck(lambda x, a: _ops.psf_forward(x, a), (x, alpha))
    grad = torch.randn_like(x0).requires_grad_()
    assert torch.autograd.gradcheck(lambda x, a, g: _ops.psf_backward(x, a, g), (x, alpha, grad))


def test_second_order_finite_at_extremes() -> None:
    """The double backward stays finite for x = -1e4 and alpha = +-30 (float32)."""
    x = torch.tensor([-1e4, -30.0, -1.0, 0.0, 2.0]).requires_grad_()
    for a in (-30.0, 30.0):
        alpha = torch.tensor([a], requires_grad=True)
        (grad,) = torch.autograd.grad(_ops.psf_forward(x, alpha).sum(), x, create_graph=True)
        grad.pow(2).sum().backward()
        assert torch.isfinite(x.grad).all() and torch.isfinite(alpha.grad).all()
        x.grad = None


def _dcgan_critic(fused: bool) -> torch.nn.Module:
    torch.manual_seed(2)
    return get_architecture("dcgan").discriminator(
        data_shape=(1, 28, 28), width=4, activation="psf", activation_kwargs={"fused": fused}
    )


def test_gradient_penalty_through_a_psf_critic() -> None:
    """WGAN-GP's penalty through a PSF DCGAN critic: the operator and the portable path give
    the same penalty and the same gradients for every weight and alpha."""
    results = []
    for fused in (True, False):
        critic = _dcgan_critic(fused)
        torch.manual_seed(3)
        real = Samples(torch.randn(4, 1, 28, 28))
        fake = Samples(torch.randn(4, 1, 28, 28))
        penalty = gradient_penalty(lambda s, c=critic: c(s.images), real, fake)
        penalty.backward()
        grads = {name: p.grad for name, p in critic.named_parameters() if p.grad is not None}
        assert sum(name.endswith("alpha") for name in grads) == 3  # every PSF layer of D
        results.append((penalty.detach(), grads))
    (penalty, grads), (expected_penalty, expected_grads) = results
    torch.testing.assert_close(penalty, expected_penalty, rtol=1e-5, atol=1e-7)
    assert grads.keys() == expected_grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name], rtol=1e-4, atol=1e-6)


def test_compiled_dcgan_has_no_graph_break() -> None:
    """A DCGAN with PSF everywhere (G and D) compiles into one graph (torch._dynamo.explain:
    0 graph breaks) and, compiled with fullgraph=True (aot_eager: dynamo and AOT autograd,
    which trace the operators' fake implementations and autograd), gives eager's scores and
    gradients."""
    torch.manual_seed(4)
    arch = get_architecture("dcgan")
    options = {"data_shape": (1, 28, 28), "width": 4, "activation": "psf"}
    options["activation_kwargs"] = {"fused": True}
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
    compiled = torch.compile(step, backend="aot_eager", fullgraph=True)
    got = compiled(z)
    got.backward()
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    for p, eager in zip(generator.parameters(), eager_grads):
        torch.testing.assert_close(p.grad, eager, rtol=1e-4, atol=1e-6)


def test_eager_calls_do_not_touch_dynamo() -> None:
    """Eager calls run the operator's kernels directly: dynamo compiles nothing."""
    before = compiled_graphs()
    psf = ParametricSoftsign(3, fused=True)
    for shape in ((2, 3), (4, 3, 5, 5), (1, 3, 7)):
        x = torch.randn(shape, requires_grad=True)
        psf(x).sum().backward()
    assert compiled_graphs() == before


@pytest.mark.slow
def test_inductor_compiles_the_operator() -> None:
    """Inductor (the default torch.compile backend) compiles a Linear + PSF model with the
    operator inside, fullgraph, to eager's values and alpha gradient (slow: C++ codegen)."""
    torch.manual_seed(5)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), ParametricSoftsign(6, fused=True))
    x = torch.randn(5, 4)
    expected = model(x)
    expected.sum().backward()
    eager_grad = model[1].alpha.grad.clone()
    model.zero_grad()
    y = torch.compile(model, fullgraph=True)(x)
    y.sum().backward()
    torch.testing.assert_close(y, expected)
    torch.testing.assert_close(model[1].alpha.grad, eager_grad)


CACHED_COMPILE = """
import torch
from ganzoo_psf import ParametricSoftsign
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), ParametricSoftsign(fused=True))
x = torch.randn(2, 3, 8, 8, requires_grad=True)
torch.compile(model)(x).sum().backward()
print(repr(float(x.grad.abs().sum())))
"""


@pytest.mark.slow
def test_a_fresh_process_runs_inductors_cached_cpu_code(tmp_path) -> None:
    """Two fresh processes compile the same Conv + PSF model on the CPU with one inductor cache:
    the second runs the cached code (which once called the C++ library's operators before
    anything had loaded them: AttributeError) and gets the first one's gradient (slow: two
    processes, C++ codegen)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor")}
    command = [sys.executable, "-c", CACHED_COMPILE]
    runs = [subprocess.run(command, env=env, capture_output=True, text=True) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    assert runs[0].stdout.split()[-1] == runs[1].stdout.split()[-1]
