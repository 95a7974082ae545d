"""The Registry: built-ins, lazy entry-point plugins, and the errors people see."""

from __future__ import annotations

import sys

import pytest
from torch import nn

from ganzoo.activations import ACTIVATIONS, create_activation
from ganzoo.errors import RegistryError
from ganzoo.registry import Registry

MISH_SOURCE = """
import torch
from torch import nn

IMPORTED = True

class Mish(nn.Module):
    def forward(self, x):
        return x * torch.tanh(nn.functional.softplus(x))
"""


def test_register_decorator_and_get_return_the_class_itself():
    """A decorated class is stored as the class (not an instance) and found by name,
    case- and dash-insensitively."""
    registry = Registry("widget", "ganzoo.test-widgets")

    @registry.register("my_widget")
    class Widget:
        pass

    assert registry.get("my_widget") is Widget
    assert registry.get("My-Widget") is Widget
    assert registry.names() == ["my_widget"]
    assert registry.origin("my_widget") == "built-in"


def test_duplicate_registration_is_refused_naming_both():
    """Registering a second class under a taken name fails, naming the holder and newcomer."""
    registry = Registry("widget", "ganzoo.test-widgets")
    registry.register("w", nn.ReLU)
    with pytest.raises(RegistryError) as info:
        registry.register("w", nn.ELU)
    message = str(info.value)
    assert "torch.nn.modules.activation.ReLU" in message
    assert "torch.nn.modules.activation.ELU" in message


def test_unknown_name_lists_names_and_suggests_closest():
    """An unknown activation says so, lists every registered name and the closest match."""
    with pytest.raises(RegistryError) as info:
        ACTIVATIONS.get("leaky_rel")
    message = str(info.value)
    assert "unknown activation 'leaky_rel'" in message
    assert "Did you mean 'leaky_relu'?" in message
    for name in ("relu", "prelu", "elu", "tanh", "sigmoid", "identity"):
        assert name in message


def test_plugin_is_found_lazily_and_reports_its_distribution(install_plugin):
    """A distribution ganzoo has never seen adds `mish_fixture` through an entry point: listed
    without being imported, imported on first use, and its origin names the distribution. (Not
    `mish`: that is a built-in now, and a plugin may not shadow it.)"""
    install_plugin(
        "ganzoo-mish",
        "ganzoo_mish_fixture",
        MISH_SOURCE,
        {"ganzoo.activations": {"mish_fixture": "ganzoo_mish_fixture:Mish"}},
    )
    assert "mish_fixture" in ACTIVATIONS.names()
    assert "ganzoo_mish_fixture" not in sys.modules  # listed, not imported
    assert ACTIVATIONS.origin("mish_fixture") == "ganzoo-mish 1.2.3"
    layer = create_activation("mish_fixture")
    assert "ganzoo_mish_fixture" in sys.modules
    import torch

    x = torch.tensor([-1.0, 0.0, 2.0])
    expected = x * torch.tanh(torch.log1p(torch.exp(x)))
    assert torch.allclose(layer(x), expected)


def test_broken_plugin_is_reported_and_others_keep_working(install_plugin):
    """A plugin whose import fails is named with its distribution; other names still work."""
    install_plugin(
        "ganzoo-broken",
        "ganzoo_broken_fixture",
        "raise ImportError('needs libfoo')\n",
        {"ganzoo.activations": {"broken": "ganzoo_broken_fixture:Act"}},
    )
    with pytest.raises(RegistryError) as info:
        ACTIVATIONS.get("broken")
    message = str(info.value)
    assert "'broken'" in message and "ganzoo-broken 1.2.3" in message
    assert "needs libfoo" in message
    assert isinstance(create_activation("elu"), nn.ELU)
    assert "broken" in ACTIVATIONS.names()


def test_plugin_may_not_shadow_a_builtin(install_plugin):
    """A plugin declaring `relu` is refused with a message naming both; the built-in stays."""
    install_plugin(
        "ganzoo-evil",
        "ganzoo_evil_fixture",
        MISH_SOURCE,
        {"ganzoo.activations": {"relu": "ganzoo_evil_fixture:Mish"}},
    )
    assert ACTIVATIONS.get("relu") is nn.ReLU
    refused = " ".join(ACTIVATIONS.refused())
    assert "ganzoo-evil 1.2.3" in refused and "torch.nn.modules.activation.ReLU" in refused


def test_two_distributions_with_one_name_are_both_refused(install_plugin):
    """When two distributions declare the same name neither wins silently."""
    for dist, package in (("ganzoo-a", "ganzoo_a_fixture"), ("ganzoo-b", "ganzoo_b_fixture")):
        install_plugin(
            dist, package, MISH_SOURCE, {"ganzoo.activations": {"swishy": f"{package}:Mish"}}
        )
    assert "swishy" not in ACTIVATIONS.names()
    refused = " ".join(ACTIVATIONS.refused())
    assert "ganzoo-a 1.2.3" in refused and "ganzoo-b 1.2.3" in refused
    with pytest.raises(RegistryError, match="more than one distribution"):
        ACTIVATIONS.get("swishy")
