"""DCGAN generator and discriminator: shapes, the reference layout, init, per-layer activations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo.activations import ACTIVATIONS, LeakyReLU
from ganzoo.architectures import activation_layers
from ganzoo.architectures.dcgan import DCGANDiscriminator, DCGANGenerator
from ganzoo.errors import ConfigError, RegistryError

SHAPES = [(c, s, s) for c in (1, 3) for s in (28, 32, 64)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_generator_and_discriminator_shapes_and_ranges(shape):
    """Every supported size/channel pair gives images of that shape in [-1, 1] and one logit
    per image; the logits are not squashed by a sigmoid (a bias of -5 makes them all < 0)."""
    torch.manual_seed(0)
    g = DCGANGenerator(shape, latent_dim=16, width=8)
    d = DCGANDiscriminator(shape, width=8)
    x = g(torch.randn(5, 16))
    assert x.shape == (5, *shape)
    assert x.abs().max() <= 1.0 and x.std() > 0
    logits = d(x)
    assert logits.shape == (5,)
    assert logits.std() > 0  # depends on the input, not a constant
    with torch.no_grad():
        d.out.bias.fill_(-5.0)
    assert (d(x) < 0).all()


def test_generator_saturates_at_tanh_bounds():
    """The output is tanh: a huge output bias drives every pixel to exactly +-1, never beyond."""
    g = DCGANGenerator((1, 28, 28), latent_dim=8, width=4)
    with torch.no_grad():
        g.out.bias.fill_(100.0)
    assert torch.allclose(g(torch.randn(3, 8)), torch.ones(3, 1, 28, 28))


def test_64x64_parameter_count_matches_pytorch_dcgan_example():
    """With nz=100, ngf=ndf=64, nc=3 the networks are the PyTorch DCGAN example's (3,576,704 and
    2,765,568 parameters) plus our biases on the layers without batch norm after them (G's
    output: 3; D's first conv: 64, output: 1)."""
    g = DCGANGenerator((3, 64, 64), latent_dim=100, width=64)
    d = DCGANDiscriminator((3, 64, 64), width=64)
    assert sum(p.numel() for p in g.parameters()) == 3_576_704 + 3
    assert sum(p.numel() for p in d.parameters()) == 2_765_568 + 64 + 1
    assert [b.conv.out_channels for b in g.blocks] == [512, 256, 128, 64]
    assert [b.conv.out_channels for b in d.blocks] == [64, 128, 256, 512]
    # Batch norm everywhere in G, everywhere but the first layer in D.
    assert all(isinstance(b.bn, nn.BatchNorm2d) for b in g.blocks)
    assert [isinstance(b.bn, nn.BatchNorm2d) for b in d.blocks] == [False, True, True, True]


def test_28x28_goes_through_4_7_14_without_cropping():
    """MNIST size: G grows 4 -> 7 -> 14 -> 28, D shrinks 28 -> 14 -> 7 -> 4 -> 1."""
    g = DCGANGenerator((1, 28, 28), latent_dim=8, width=4)
    d = DCGANDiscriminator((1, 28, 28), width=4)
    sizes: list[int] = []
    hooks = [b.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1])) for b in g.blocks]
    hooks += [b.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1])) for b in d.blocks]
    d(g(torch.randn(2, 8)))
    for h in hooks:
        h.remove()
    assert sizes == [4, 7, 14, 14, 7, 4]


def test_dcgan_weight_init():
    """Conv weights ~ N(0, 0.02), BN weights ~ N(1, 0.02); activation parameters untouched
    (PReLU's slope stays at its 0.25 default)."""
    torch.manual_seed(0)
    g = DCGANGenerator((3, 32, 32), width=32, activation="prelu")
    w = g.blocks[1].conv.weight
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.002
    bn = torch.cat([b.bn.weight for b in g.blocks])
    assert abs(bn.mean().item() - 1.0) < 0.005 and 0.01 < bn.std().item() < 0.03
    assert all(torch.all(m.weight == 0.25) for _, m in activation_layers(g))


def test_default_activations_are_relu_and_leaky_relu_0_2():
    """Radford et al.: ReLU in G, LeakyReLU(0.2) in D."""
    g = DCGANGenerator((1, 32, 32), width=4)
    d = DCGANDiscriminator((1, 32, 32), width=4)
    assert [type(m) for _, m in activation_layers(g)] == [nn.ReLU] * 3
    d_acts = [m for _, m in activation_layers(d)]
    assert [type(m) for m in d_acts] == [LeakyReLU] * 3
    assert all(m.negative_slope == 0.2 for m in d_acts)


def test_layer_override_puts_chosen_activation_at_that_layer():
    """layer_activations [None, 'elu', None]: layer 2 is ELU, the others the network default;
    a mapping sets kwargs, and a mapping without a name keeps the default with new kwargs."""
    g = DCGANGenerator((1, 32, 32), width=4, layer_activations=[None, "elu", None])
    assert [type(m) for _, m in activation_layers(g)] == [nn.ReLU, nn.ELU, nn.ReLU]
    assert isinstance(g.blocks[1].act, nn.ELU)

    d = DCGANDiscriminator(
        (1, 64, 64),
        width=4,
        activation_kwargs={"negative_slope": 0.3},
        layer_activations=[
            {"name": "elu", "kwargs": {"alpha": 0.5}},
            None,
            {"kwargs": {"negative_slope": 0.1}},
            "prelu",
        ],
    )
    acts = [m for _, m in activation_layers(d)]
    assert [type(m) for m in acts] == [nn.ELU, LeakyReLU, LeakyReLU, nn.PReLU]
    assert acts[0].alpha == 0.5
    assert [acts[1].negative_slope, acts[2].negative_slope] == [0.3, 0.1]


def test_wrong_length_and_bad_entries_fail_with_the_expected_count_and_layer():
    """A list of the wrong length names the expected count; a bad entry names its layer; an
    unknown activation name names the layer and suggests the closest name."""
    with pytest.raises(ConfigError, match=r"has 2 entries .* 3 hidden activation layers"):
        DCGANGenerator((1, 32, 32), width=4, layer_activations=["elu", "elu"])
    with pytest.raises(ConfigError, match=r"4 hidden activation layers"):
        DCGANDiscriminator((1, 64, 64), width=4, layer_activations=[None] * 3)
    with pytest.raises(ConfigError, match=r"layer_activations\[1\] \(hidden layer 2 of 3\)"):
        DCGANGenerator((1, 32, 32), width=4, layer_activations=[None, 5, None])
    with pytest.raises(ConfigError, match=r"layer_activations\[0\].*unknown keys \['kwarg'\]"):
        DCGANGenerator((1, 32, 32), width=4, layer_activations=[{"kwarg": {}}, None, None])
    with pytest.raises(ConfigError, match=r"layer 3 of 3: unknown activation 'elux'.*'elu'"):
        DCGANGenerator((1, 32, 32), width=4, layer_activations=[None, None, "elux"])
    with pytest.raises(ConfigError, match="layer 1 of 3"):
        DCGANGenerator((1, 32, 32), width=4, activation_kwargs={"bogus": 1})


def test_prelu_layers_do_not_share_parameters():
    """Each hidden PReLU is its own module with its own weight: changing one leaves the rest."""
    g = DCGANGenerator((1, 32, 32), width=4, activation="prelu")
    acts = [m for _, m in activation_layers(g)]
    assert len({id(m) for m in acts}) == 3 and len({id(m.weight) for m in acts}) == 3
    with torch.no_grad():
        acts[0].weight.fill_(0.9)
    assert [m.weight.item() for m in acts] == pytest.approx([0.9, 0.25, 0.25])


def test_gradient_reaches_every_learnable_activation_parameter():
    """One backward through D(G(z)) gives a nonzero gradient to every PReLU weight in both
    networks, including per-channel weights sized by "channels"."""
    torch.manual_seed(0)
    channels = {"name": "prelu", "kwargs": {"num_parameters": "channels"}}
    g = DCGANGenerator(
        (1, 28, 28),
        latent_dim=8,
        width=4,
        activation="prelu",
        layer_activations=[None, channels, None],
    )
    d = DCGANDiscriminator((1, 28, 28), width=4, activation="prelu")
    assert [m.weight.numel() for _, m in activation_layers(g)] == [1, 8, 1]
    d(g(torch.randn(8, 8))).mean().backward()
    params = [m.weight for net in (g, d) for _, m in activation_layers(net)]
    assert len(params) == 6
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params)


def test_per_channel_activation_gets_each_layers_channel_count():
    """num_parameters: "channels" sizes each layer's PReLU to that layer's channels."""
    spec = {"num_parameters": "channels"}
    g = DCGANGenerator((3, 64, 64), width=4, activation="prelu", activation_kwargs=spec)
    d = DCGANDiscriminator((3, 64, 64), width=4, activation="prelu", activation_kwargs=spec)
    assert [m.weight.numel() for _, m in activation_layers(g)] == [32, 16, 8, 4]
    assert [m.weight.numel() for _, m in activation_layers(d)] == [4, 8, 16, 32]


@pytest.mark.parametrize("bad", [(3, 48, 48), (2, 32, 32), (3, 32, 28), (32, 32), (1, 28, 28, 1)])
def test_check_data_shape_refuses_unsupported_shapes(bad):
    """Unsupported shapes are refused by both classes with the supported sizes and the fix."""
    for cls in (DCGANGenerator, DCGANDiscriminator):
        with pytest.raises(ConfigError, match=r"image sizes 28, 32 and 64 with 1 or 3 channels"):
            cls.check_data_shape(bad)
        with pytest.raises(ConfigError, match=r"data.image_size to one of 28, 32, 64"):
            cls(bad)


def test_hidden_activation_count_per_size():
    """3 hidden activation layers for 28 and 32, 4 for 64, matching the built networks;
    unrelated options are ignored so a validator can pass the whole network config."""
    for shape, n in [((1, 28, 28), 3), ((3, 32, 32), 3), ((3, 64, 64), 4)]:
        for cls in (DCGANGenerator, DCGANDiscriminator):
            cls.check_data_shape(list(shape))  # lists (e.g. from YAML) are fine
            assert cls.hidden_activation_count(shape, width=8, activation="elu") == n
            assert len(activation_layers(cls(shape, width=2))) == n


def test_psf_plugin_activation_if_installed(monkeypatch):
    """With the PSF plugin installed, each DCGAN layer gets its own PSF parameters (one alpha,
    or one per channel with num_parameters "channels") and a gradient reaches every one."""
    try:
        ACTIVATIONS.get("psf")
    except RegistryError as exc:
        pytest.skip(f"psf plugin unavailable: {exc}")
    monkeypatch.setenv("GANZOO_PSF_FUSED", "0")  # the portable path: no 30 s torch.compile
    g = DCGANGenerator(
        (1, 28, 28),
        latent_dim=8,
        width=4,
        activation="psf",
        layer_activations=[None, {"kwargs": {"num_parameters": "channels"}}, None],
    )
    params = [p for _, m in activation_layers(g) for p in m.parameters()]
    assert [p.numel() for p in params] == [1, 8, 1]
    g(torch.randn(4, 8)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params)


def test_default_dcgan_is_unchanged_by_the_spectral_norm_option():
    """Regression fingerprint: with the defaults (spectral_norm off) a seeded build gives the
    same parameters and outputs as before the option existed. The numbers were recorded from
    the code at commit bf76def (before spectral_norm and activation_slots were added)."""
    torch.manual_seed(0)
    g = DCGANGenerator((3, 32, 32), latent_dim=16, width=8)
    d = DCGANDiscriminator((3, 32, 32), width=8)
    x = g(torch.randn(4, 16))
    assert sum(p.double().sum().item() for p in g.parameters()) == pytest.approx(
        53.2263173471606, abs=1e-9
    )
    assert sum(p.double().sum().item() for p in d.parameters()) == pytest.approx(
        50.84209674290014, abs=1e-9
    )
    assert x.double().sum().item() == pytest.approx(-133.0155052402697, abs=1e-6)
    assert d(x).tolist() == pytest.approx(
        [0.3602102994918823, 0.05910133942961693, 0.4593625068664551, 0.3593064546585083],
        abs=1e-6,
    )
    assert next(iter(g.state_dict())) == "blocks.0.conv.weight"  # checkpoints keep their keys


def test_dcgan_spectral_norm_wraps_every_convolution_after_the_init():
    """spectral_norm=True wraps every (transposed) convolution, keeps the parameter count and
    the DCGAN init of the raw weights (std 0.02), and after a few training forwards each
    weight's largest singular value is within 2% of 1 (one power iteration per forward converges
    slowly where the top two singular values are close: D's second conv starts 1.2% off);
    "yes" is refused."""
    from ganzoo.architectures.blocks import parametrizations_on

    torch.manual_seed(0)
    g = DCGANGenerator((1, 28, 28), latent_dim=8, width=8, spectral_norm=True)
    d = DCGANDiscriminator((1, 28, 28), width=8, spectral_norm=True)
    convs = [m for net in (g, d) for m in net.modules() if isinstance(m, nn.modules.conv._ConvNd)]
    assert len(convs) == 8 and all(parametrizations_on(m) for m in convs)
    assert sum(p.numel() for p in d.parameters()) == sum(
        p.numel() for p in DCGANDiscriminator((1, 28, 28), width=8).parameters()
    )
    raw = d.blocks[1].conv.parametrizations.weight.original
    assert abs(raw.std().item() - 0.02) < 0.003
    for _ in range(5):
        d(g(torch.randn(4, 8)))
    for m in convs:
        weight = m.weight.detach()
        if isinstance(m, nn.ConvTranspose2d):  # torch normalises over dim 1 (out channels)
            weight = weight.transpose(0, 1)
        assert torch.linalg.matrix_norm(weight.flatten(1), ord=2).item() == pytest.approx(
            1.0, abs=2e-2
        )
    with pytest.raises(ConfigError, match="dcgan generator spectral_norm must be true or false"):
        DCGANGenerator((1, 28, 28), width=2, spectral_norm="yes")


def test_dcgan_activation_slots_name_the_hidden_activations():
    """activation_slots lists activation_layers' names in order; a wrong-length override
    names them."""
    for shape, n in [((1, 28, 28), 3), ((3, 64, 64), 4)]:
        for cls in (DCGANGenerator, DCGANDiscriminator):
            slots = cls.activation_slots(shape)
            assert slots == [f"blocks.{i}.act" for i in range(n)]
            assert [name for name, _ in activation_layers(cls(shape, width=2))] == slots
    with pytest.raises(ConfigError, match=r"Their order: blocks.0.act, blocks.1.act, blocks.2.act"):
        DCGANGenerator((1, 32, 32), width=4, layer_activations=["elu"])
