"""MLP generator and discriminator for the 2-D mode-collapse benchmarks."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganzoo.activations import LeakyReLU
from ganzoo.architectures import activation_layers
from ganzoo.architectures.mlp import MLPDiscriminator, MLPGenerator
from ganzoo.errors import ConfigError


def test_shapes_on_2d_data_and_linear_output():
    """G maps (N, latent_dim) to (N, 2) with a linear output (a bias of 10 gives values near 10,
    far outside tanh's range); D gives one logit per point, shape (N,)."""
    torch.manual_seed(0)
    g = MLPGenerator(latent_dim=3, hidden_dim=16)
    d = MLPDiscriminator(hidden_dim=16)
    x = g(torch.randn(7, 3))
    assert x.shape == (7, 2) and x.std() > 0
    assert d(x).shape == (7,)
    with torch.no_grad():
        g.out.bias.fill_(10.0)
    assert (g(torch.randn(7, 3)) > 5).all()


def test_any_flat_data_shape_is_reshaped():
    """data_shape (1, 4, 4) is produced as a flat layer of 16 outputs reshaped to (N, 1, 4, 4);
    D flattens it back."""
    g = MLPGenerator((1, 4, 4), latent_dim=5, hidden_dim=8, depth=2)
    d = MLPDiscriminator([1, 4, 4], hidden_dim=8, depth=2)
    assert g.out.out_features == 16 and d.blocks[0].fc.in_features == 16
    x = g(torch.randn(3, 5))
    assert x.shape == (3, 1, 4, 4)
    assert d(x).shape == (3,)


def test_depth_defaults_and_overrides():
    """depth=4 gives 4 hidden activations (ReLU in G, LeakyReLU(0.2) in D by default), and a
    per-layer override changes exactly that layer."""
    g = MLPGenerator(depth=4, hidden_dim=8, layer_activations=[None, None, "elu", None])
    d = MLPDiscriminator(depth=4, hidden_dim=8)
    assert MLPGenerator.hidden_activation_count((2,), depth=4, hidden_dim=8) == 4
    assert [type(m) for _, m in activation_layers(g)] == [nn.ReLU, nn.ReLU, nn.ELU, nn.ReLU]
    assert [type(m) for _, m in activation_layers(d)] == [LeakyReLU] * 4
    with pytest.raises(ConfigError, match=r"has 3 entries .* 4 hidden activation layers"):
        MLPDiscriminator(depth=4, layer_activations=["elu"] * 3)


def test_prelu_per_feature_gets_gradient():
    """num_parameters "channels" gives each PReLU one slope per hidden unit, and one backward
    reaches all of them."""
    g = MLPGenerator(
        hidden_dim=6, depth=2, activation="prelu", activation_kwargs={"num_parameters": "channels"}
    )
    weights = [m.weight for _, m in activation_layers(g)]
    assert [w.shape for w in weights] == [(6,), (6,)]
    g(torch.randn(32, 2)).pow(2).sum().backward()
    assert all((w.grad != 0).any() for w in weights)


def test_discriminator_learns_to_separate_ring_from_centre():
    """Plain gradient descent on BCE-with-logits separates points on the radius-2 ring (8
    modes) from points near the centre: the forward/backward path works end to end. (No
    torch.optim here: building the first optimizer imports torch._dynamo, ~6 s on these CPUs.)
    """
    torch.manual_seed(0)
    angles = torch.arange(8) * (2 * math.pi / 8)
    centres = 2 * torch.stack([angles.cos(), angles.sin()], 1)
    real = centres[torch.randint(8, (256,))] + 0.02 * torch.randn(256, 2)
    fake = 0.3 * torch.randn(256, 2)
    x = torch.cat([real, fake])
    y = torch.cat([torch.ones(256), torch.zeros(256)])
    d = MLPDiscriminator(hidden_dim=32, depth=2)
    accuracy = ((d(x) > 0).float() == y).float().mean().item()
    assert accuracy < 0.9  # not separated before training
    for _ in range(60):
        d.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(d(x), y).backward()
        with torch.no_grad():
            for p in d.parameters():
                p -= 0.5 * p.grad
    accuracy = ((d(x) > 0).float() == y).float().mean().item()
    assert accuracy > 0.97


def test_bad_options_are_refused():
    """Non-positive depth, width or latent size and a bad data shape raise ConfigError."""
    with pytest.raises(ConfigError, match="depth >= 1"):
        MLPGenerator(depth=0)
    with pytest.raises(ConfigError, match="hidden_dim=0"):
        MLPDiscriminator(hidden_dim=0)
    with pytest.raises(ConfigError, match="latent_dim >= 1"):
        MLPGenerator(latent_dim=0)
    with pytest.raises(ConfigError, match="positive integers"):
        MLPDiscriminator.check_data_shape((2, 0))
    with pytest.raises(ConfigError, match="sequence of integers"):
        MLPGenerator.check_data_shape("xy")
