"""The activation registry's public functions, built-ins, listing and plotting."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo.activations import (
    ACTIVATIONS,
    create_activation,
    describe_activations,
    get_activation,
)
from ganzoo.cli import main
from ganzoo.errors import RegistryError
from ganzoo.plotting import activation_curves


def test_builtins_are_registered():
    """Every built-in the issues name is there, from ganzoo itself."""
    for name in (
        *("relu", "leaky_relu", "prelu", "elu", "tanh", "sigmoid", "identity", "gelu", "silu"),
        *("mish", "selu", "softplus", "celu", "hardswish", "softsign"),
    ):
        assert ACTIVATIONS.origin(name) == "built-in"


def test_smooth_builtins_compute_their_textbook_formulas():
    """The torch built-ins compute their published formulas at known points, with PyTorch's
    defaults: gelu(1) = Phi(1), silu(x) = x sigmoid(x), mish(x) = x tanh(softplus(x)),
    selu's Klambauer constants, softplus(0) = log 2, celu(-1) = exp(-1) - 1,
    hardswish(1) = 1 * 4 / 6, softsign(-3) = -3 / 4."""
    x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 2.0], dtype=torch.float64)
    sigmoid = 1 / (1 + torch.exp(-x))
    softplus = torch.log1p(torch.exp(x))
    phi = 0.5 * (1 + torch.erf(x / 2**0.5))
    lam, alpha = 1.0507009873554805, 1.6732632423543772
    expected = {
        "gelu": x * phi,
        "silu": x * sigmoid,
        "mish": x * torch.tanh(softplus),
        "selu": lam * torch.where(x > 0, x, alpha * (torch.exp(x) - 1)),
        "softplus": softplus,
        "celu": torch.where(x > 0, x, torch.exp(x) - 1),
        "hardswish": x * torch.clamp(x + 3, 0, 6) / 6,
        "softsign": x / (1 + x.abs()),
    }
    for name, values in expected.items():
        assert ACTIVATIONS.origin(name) == "built-in"
        assert torch.allclose(create_activation(name)(x), values, atol=1e-12), name
    assert create_activation("softplus")(torch.zeros(1)).item() == pytest.approx(0.693147, 1e-5)
    assert create_activation("hardswish")(torch.ones(1)).item() == pytest.approx(4 / 6)


def test_smooth_builtins_take_their_usual_kwargs():
    """Each keeps PyTorch's keyword arguments: gelu's tanh approximation differs from the exact
    one at x = 1 by about 1.6e-4; softplus beta = 2 gives log(1 + e^2) / 2 at 1; celu alpha = 2
    gives 2 (e^(-1/2) - 1) at -1."""
    one = torch.tensor([1.0], dtype=torch.float64)
    exact = create_activation("gelu")(one).item()
    tanh = create_activation("gelu", approximate="tanh")(one).item()
    assert 1e-5 < abs(exact - tanh) < 1e-3
    beta2 = create_activation("softplus", beta=2.0)(one).item()
    assert beta2 == pytest.approx(float(torch.log1p(torch.exp(torch.tensor(2.0)))) / 2)
    celu = create_activation("celu", alpha=2.0)(-one).item()
    assert celu == pytest.approx(2 * (float(torch.exp(torch.tensor(-0.5))) - 1))
    with pytest.raises(RegistryError, match="unexpected keyword argument 'beta'"):
        create_activation("silu", beta=2.0)


def test_psf_at_alpha_zero_is_softsign_on_the_negative_half():
    """PSF's alpha = 0 negative half is exactly the softsign built-in."""
    if "psf" not in ACTIVATIONS.names():
        pytest.skip("the PSF plugin is not installed")
    x = torch.linspace(-8, 0, 33, dtype=torch.float64)
    psf = create_activation("psf", alpha_init=0.0, fused=False)
    assert torch.allclose(psf(x), create_activation("softsign")(x), atol=1e-12)


def test_leaky_relu_defaults_to_dcgan_slope():
    """leaky_relu uses DCGAN's 0.2 slope: f(-1) = -0.2 (PyTorch's default would give -0.01)."""
    assert create_activation("leaky_relu")(torch.tensor([-1.0])).item() == pytest.approx(-0.2)
    assert create_activation("leaky_relu", negative_slope=0.1)(torch.tensor([-1.0])).item() == (
        pytest.approx(-0.1)
    )


def test_spec_may_be_name_class_or_none():
    """get_activation accepts a name, an nn.Module subclass, or None (identity)."""
    assert get_activation("elu") is nn.ELU
    assert get_activation(nn.SiLU) is nn.SiLU
    assert get_activation(None) is nn.Identity
    with pytest.raises(RegistryError, match="nn.Module subclass"):
        get_activation(42)


def test_each_call_builds_a_new_module_with_its_own_parameters():
    """Two PReLU layers from the registry never share their learnable slope."""
    first, second = create_activation("prelu"), create_activation("prelu")
    assert first is not second
    with torch.no_grad():
        first.weight.fill_(0.9)
    assert second.weight.item() == pytest.approx(0.25)


def test_bad_constructor_arguments_are_explained():
    """A wrong keyword for an activation names the activation and the config place to fix."""
    with pytest.raises(RegistryError, match="activation_kwargs|_kwargs"):
        create_activation("elu", slope=3)


def test_describe_lists_learnable_parameters():
    """The listing shows PReLU's one learnable weight and none for ReLU."""
    infos = {info.name: info for info in describe_activations()}
    assert infos["prelu"].parameters == {"weight": (1,)}
    assert infos["relu"].parameters == {}


def test_cli_lists_builtins_and_plugins(capsys):
    """`ganzoo activations` prints each name with its origin, the PSF plugin's distribution
    included, and PReLU's parameter."""
    assert main(["activations"]) == 0
    out = capsys.readouterr().out
    assert "leaky_relu" in out and "built-in" in out
    assert any(line.startswith("prelu") and "weight [1]" in line for line in out.splitlines())
    if "psf" in ACTIVATIONS.names():
        assert any(line.startswith("psf") and "ganzoo-psf" in line for line in out.splitlines())


def test_curves_have_known_values():
    """The plotted curves are the functions: leaky_relu(-5) = -1, elu(-5) = exp(-5) - 1, and an
    activation with an `alpha` parameter gets one curve per alpha."""
    curves = {label: (x, y) for label, x, y in activation_curves(["leaky_relu", "elu"])}
    x, y = curves["leaky_relu"]
    assert x[0].item() == -5.0 and y[0].item() == pytest.approx(-1.0)
    assert curves["elu"][1][0].item() == pytest.approx(torch.exp(torch.tensor(-5.0)).item() - 1)
    if "psf" in ACTIVATIONS.names():
        labels = [label for label, _, _ in activation_curves(["psf"], alphas=[-2, 0, 2])]
        assert labels == ["psf (alpha=-2)", "psf (alpha=0)", "psf (alpha=2)"]


def test_plot_command_writes_a_png(tmp_path, capsys):
    """`ganzoo activations plot` writes a PNG image and prints its path."""
    out = tmp_path / "fig.png"
    assert main(["activations", "plot", "leaky_relu", "elu", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(out) in capsys.readouterr().out


def test_plot_unknown_name_is_a_clear_cli_error(tmp_path, capsys):
    """An unknown name gives exit code 2 and one message, not a traceback."""
    assert main(["activations", "plot", "nope", "-o", str(tmp_path / "f.png")]) == 2
    err = capsys.readouterr().err
    assert "unknown activation 'nope'" in err and "Traceback" not in err
