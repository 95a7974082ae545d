"""The architecture registry and activation_layers (ganzoo/architectures/__init__.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo.architectures import ARCHITECTURES, Architecture, activation_layers, get_architecture
from ganzoo.architectures.dcgan import DCGANDiscriminator, DCGANGenerator
from ganzoo.architectures.mlp import MLPDiscriminator, MLPGenerator
from ganzoo.errors import RegistryError


def test_builtins_are_registered_on_import():
    """Importing ganzoo.architectures registers dcgan and mlp with their classes."""
    assert {"dcgan", "mlp"} <= set(ARCHITECTURES.names())
    assert get_architecture("dcgan") == Architecture(DCGANGenerator, DCGANDiscriminator)
    assert get_architecture("MLP") == Architecture(MLPGenerator, MLPDiscriminator)


def test_unknown_name_suggests_the_closest():
    """A misspelt name raises RegistryError suggesting the closest registered name."""
    with pytest.raises(RegistryError, match=r"unknown architecture 'dcgna'\. Did you mean 'dcgan'"):
        get_architecture("dcgna")


def test_activation_layers_lists_hidden_activations_in_forward_order():
    """activation_layers gives (qualified name, module) for every hidden activation in forward
    order, with the prefix of the enclosing module, and never the tanh output."""
    g = DCGANGenerator((1, 32, 32), width=4, layer_activations=["elu", "prelu", "relu"])
    d = DCGANDiscriminator((1, 32, 32), width=4)
    both = nn.ModuleDict({"generator": g, "discriminator": d})
    listed = activation_layers(both)
    assert [n for n, _ in listed[:3]] == [f"generator.blocks.{i}.act" for i in range(3)]
    assert [type(m) for _, m in listed[:3]] == [nn.ELU, nn.PReLU, nn.ReLU]
    assert [n for n, _ in listed[3:]] == [f"discriminator.blocks.{i}.act" for i in range(3)]
    # Forward order: hooks fire in the same order as the listing.
    fired: list[str] = []
    for name, m in listed[:3]:
        m.register_forward_hook(lambda mod, i, o, name=name: fired.append(name))
    g(torch.randn(2, 100))
    assert fired == [n for n, _ in listed[:3]]


def test_activation_layers_ignores_untagged_activations():
    """Activations a user adds around a model are not hidden layers of an architecture."""
    model = nn.Sequential(nn.PReLU(), MLPDiscriminator(depth=2, hidden_dim=4), nn.Sigmoid())
    assert [n for n, _ in activation_layers(model)] == ["1.blocks.0.act", "1.blocks.1.act"]


def test_networks_accept_omegaconf_containers():
    """The trainer passes config sections as OmegaConf lists and dicts: the data shape,
    activation_kwargs and layer_activations work in that form."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(
        {
            "data_shape": [1, 32, 32],
            "activation_kwargs": {"negative_slope": 0.3},
            "layer_activations": [None, {"name": "elu", "kwargs": {"alpha": 0.7}}, "prelu"],
        }
    )
    d = DCGANDiscriminator(
        cfg.data_shape,
        width=4,
        activation_kwargs=cfg.activation_kwargs,
        layer_activations=cfg.layer_activations,
    )
    acts = [m for _, m in activation_layers(d)]
    assert [type(m).__name__ for m in acts] == ["LeakyReLU", "ELU", "PReLU"]
    assert (acts[0].negative_slope, acts[1].alpha) == (0.3, 0.7)
    assert d.data_shape == (1, 32, 32)
