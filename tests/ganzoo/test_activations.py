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
    """Every built-in the issue names is there, from ganzoo itself."""
    for name in ("relu", "leaky_relu", "prelu", "elu", "tanh", "sigmoid", "identity"):
        assert ACTIVATIONS.origin(name) == "built-in"


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
