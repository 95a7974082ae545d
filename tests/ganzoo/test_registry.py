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


def _shadowing_site(site) -> str:
    """A distribution `ganzoo-shadow` on a fresh sys.path entry that declares the built-in
    names `tanh` (activation) and `hinge` (loss), as pip would leave it."""
    (site / "ganzoo_shadow_fixture").mkdir(parents=True)
    (site / "ganzoo_shadow_fixture" / "__init__.py").write_text(MISH_SOURCE)
    info = site / "ganzoo_shadow-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ganzoo-shadow\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(
        "[ganzoo.activations]\ntanh = ganzoo_shadow_fixture:Mish\n"
        "[ganzoo.losses]\nhinge = ganzoo_shadow_fixture:Mish\n"
    )
    return str(site)


def test_a_plugin_shadowing_builtins_is_refused_at_startup_not_fatal(tmp_path):
    """A fresh interpreter with a plugin declaring `tanh` and `hinge` installed still starts:
    `ganzoo --version` works, and `ganzoo activations` / `ganzoo losses` keep the built-ins and
    say why the plugin was refused. (In-process tests cannot see this: there the built-ins are
    registered before the plugin is installed; the bug was discovery running mid-registration.)"""
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": _shadowing_site(tmp_path / "site")}
    version = subprocess.run(
        [sys.executable, "-m", "ganzoo", "--version"], env=env, capture_output=True, text=True
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("ganzoo ")

    script = (
        "from torch import nn\n"
        "from ganzoo.activations import ACTIVATIONS\n"
        "from ganzoo.cli import main\n"
        "from ganzoo.losses import LOSSES\n"
        "from ganzoo.losses.standard import Hinge\n"
        "assert main(['activations']) == 0 and main(['losses']) == 0\n"
        "assert ACTIVATIONS.get('tanh') is nn.Tanh and LOSSES.get('hinge') is Hinge\n"
    )
    listing = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    assert listing.returncode == 0, listing.stderr
    refused = [line for line in listing.stdout.splitlines() if line.startswith("refused:")]
    assert len(refused) == 2, listing.stdout
    assert "activation 'tanh'" in refused[0] and "ganzoo-shadow 1.2.3" in refused[0]
    assert "the built-in torch.nn.modules.activation.Tanh" in refused[0]
    assert "loss 'hinge'" in refused[1]
    assert "the built-in ganzoo.losses.standard.Hinge" in refused[1]


def test_a_builtin_registered_after_discovery_still_wins(install_plugin):
    """If plugins were discovered before a built-in of the same name registers, the built-in
    is kept and the plugin is refused (rather than the built-in's registration failing)."""
    install_plugin(
        "ganzoo-late",
        "ganzoo_late_fixture",
        MISH_SOURCE,
        {"ganzoo.test-widgets": {"late": "ganzoo_late_fixture:Mish"}},
    )
    registry = Registry("widget", "ganzoo.test-widgets")
    assert "late" in registry.names()  # the plugin is discovered first
    registry.register("late", nn.ReLU)
    assert registry.get("late") is nn.ReLU
    assert registry.origin("late") == "built-in"
    assert "ganzoo-late 1.2.3" in " ".join(registry.refused())


def test_unknown_loss_message_spells_the_plural():
    """The unknown-loss message lists "Registered losses", not "losss"."""
    from ganzoo.losses import LOSSES

    with pytest.raises(RegistryError) as info:
        LOSSES.get("hingee")
    message = str(info.value)
    assert "Registered losses: bce, hinge" in message and "losss" not in message
    assert "Did you mean 'hinge'?" in message
