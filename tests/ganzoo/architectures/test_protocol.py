"""The architecture contract: a plugin that breaks it is refused with one line naming what it
lacks, and the built-ins meet it."""

from __future__ import annotations

import pytest

from ganzoo.architectures import ARCHITECTURES, get_architecture
from ganzoo.architectures.protocol import check_network
from ganzoo.errors import ConfigError, RegistryError

NO_SHAPE_CHECK = """
from torch import nn
from ganzoo.architectures import Architecture


class G(nn.Module):
    latent_dim = 2

    @classmethod
    def activation_slots(cls, data_shape, **options):
        return []


ARCH = Architecture(G, G)
"""


def test_a_plugin_without_check_data_shape_gets_one_line(install_plugin):
    """Before: a raw AttributeError deep in config validation. Now: the plugin is named and
    the missing classmethod too."""
    install_plugin(
        "ganzoo-broken-arch",
        "ganzoo_broken_arch_fixture",
        NO_SHAPE_CHECK,
        {"ganzoo.architectures": {"broken": "ganzoo_broken_arch_fixture:ARCH"}},
    )
    with pytest.raises(RegistryError) as info:
        ARCHITECTURES.get("broken")
    message = str(info.value)
    assert "ganzoo-broken-arch" in message and "check_data_shape" in message
    assert "\n" not in message


@pytest.mark.parametrize("name", ["dcgan", "mlp"])
def test_built_in_networks_meet_the_contract(name):
    """Built-ins have the classmethods and, once built, data_shape/latent_dim/num_classes."""
    arch = get_architecture(name)
    shape = (1, 28, 28) if name == "dcgan" else (2,)
    generator = arch.generator(data_shape=shape)
    discriminator = arch.discriminator(data_shape=shape)
    check_network("generator", generator)
    check_network("discriminator", discriminator)
    slots = arch.generator.activation_slots(shape)
    assert len(slots) == arch.generator.hidden_activation_count(shape)


def test_a_built_network_missing_an_attribute_is_refused():
    """check_network names the attribute a network lacks."""
    from torch import nn

    with pytest.raises(ConfigError, match="latent_dim"):
        check_network("generator", nn.Linear(2, 2))
