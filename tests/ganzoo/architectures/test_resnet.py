"""The resnet architecture: the standard SNGAN/cGAN-PD networks, slots, shapes, labels, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo.activations import ACTIVATIONS
from ganzoo.architectures import activation_layers, get_architecture
from ganzoo.architectures.blocks import parametrizations_on
from ganzoo.architectures.resnet import ResNetDiscriminator, ResNetGenerator
from ganzoo.errors import ConfigError, RegistryError


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# Parameter counts of the reference networks, from instantiating kwotsin/mimicry (commit
# a7fda06, torch_mimicry/nets/sngan/sngan_{32,48,64}.py and cgan_pd/cgan_pd_32.py with their
# defaults; num_classes=10 for cGAN-PD). w86763777/pytorch-gan-collections' ResGenerator32 has
# the same 4,276,739 and its ResDiscriminator32 1,053,824 (its last linear layer has no bias;
# the SNGAN Chainer code and mimicry have one). mimicry has no cGAN-PD at 48 or 64 px: those
# counts are its SNGAN counts plus what its cGAN-PD-32 adds, conditional batch norm (2 * K * C
# in place of 2 * C per batch norm in the up-blocks) and the K x C projection embedding.
SNGAN_COUNTS = {
    32: (4_276_739, 1_053_825),
    48: (4_878_083, 10_141_441),
    64: (12_220_675, 10_141_441),
}
CGAN_PD_10_COUNTS = {
    32: (4_304_387, 1_055_105),  # mimicry CGANPDGenerator32 / CGANPDDiscriminator32
    48: (4_878_083 + 2 * 9 * (512 + 256 + 256 + 128 + 128 + 64), 10_141_441 + 10 * 1024),
    64: (
        12_220_675 + 2 * 9 * (1024 + 512 + 512 + 256 + 256 + 128 + 128 + 64),
        10_141_441 + 10 * 1024,
    ),
}


@pytest.mark.parametrize("size", [32, 48, 64])
def test_default_networks_are_the_standard_sngan_and_cgan_pd(size):
    """With each size's defaults the parameter counts equal the reference implementations',
    unconditional and with 10 classes; spectral norm does not change them. Built on the meta
    device (no memory, no init cost) except with spectral norm, whose 15 initial power
    iterations are slow there (about 0.1 s a layer through Python decompositions)."""
    shape = (3, size, size)
    assert _count(ResNetDiscriminator(shape, spectral_norm=True)) == SNGAN_COUNTS[size][1]
    with torch.device("meta"):
        g, d = ResNetGenerator(shape), ResNetDiscriminator(shape)
        assert (_count(g), _count(d)) == SNGAN_COUNTS[size]
        cg, cd = ResNetGenerator(shape, num_classes=10), ResNetDiscriminator(shape, num_classes=10)
        assert (_count(cg), _count(cd)) == CGAN_PD_10_COUNTS[size]
    assert g.latent_dim == 128 and g.num_classes == 0 and cg.num_classes == 10


def test_default_layouts_follow_the_paper_tables():
    """Block widths: 32 px G 4x4x256 then three up-blocks of 256, D 128 x 4 (down, down, -,
    -); 48 px G 6x6x512 -> 256 -> 128 -> 64, D 64 -> ... -> 1024, the last not down-sampling;
    64 px G 4x4x1024 -> ... -> 64, D 64 -> ... -> 1024 all down-sampling."""
    expected = {
        32: (4, [256, 256, 256, 256], [128] * 4, [True, True, False, False]),
        48: (6, [512, 256, 128, 64], [64, 128, 256, 512, 1024], [True] * 4 + [False]),
        64: (4, [1024, 512, 256, 128, 64], [64, 128, 256, 512, 1024], [True] * 5),
    }
    for size, (bottom, g_widths, d_widths, d_down) in expected.items():
        with torch.device("meta"):
            g = ResNetGenerator((3, size, size))
            d = ResNetDiscriminator((3, size, size))
        assert g.bottom == bottom and g.project.out_features == bottom**2 * g_widths[0]
        assert [g.blocks[0].conv1.in_channels] + [b.conv2.out_channels for b in g.blocks] == (
            g_widths
        )
        assert [b.conv2.out_channels for b in d.blocks] == d_widths
        assert [True] + [b.downsample for b in d.blocks[1:]] == d_down
        assert d.linear.in_features == d_widths[-1]


SHAPES = [(c, s, s) for c in (1, 3) for s in (28, 32, 48, 64)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_output_shapes_and_ranges(shape):
    """Every supported size/channel pair (tiny width) gives images of that shape in [-1, 1]
    and one logit per image that depends on the image."""
    torch.manual_seed(0)
    g = ResNetGenerator(shape, latent_dim=8, width=2)
    d = ResNetDiscriminator(shape, width=2)
    x = g(torch.randn(3, 8))
    assert x.shape == (3, *shape) and x.abs().max() <= 1.0 and x.std() > 0
    logits = d(x)
    assert logits.shape == (3,) and logits.std() > 0


def test_28_px_grows_7_14_28_and_shrinks_28_14_7():
    """MNIST size without cropping: G starts at 7x7, D goes 28 -> 14 -> 7 -> 7 -> 7."""
    g = ResNetGenerator((1, 28, 28), latent_dim=4, width=2)
    d = ResNetDiscriminator((1, 28, 28), width=2)
    sizes: list[int] = []
    for block in [*g.blocks, *d.blocks]:
        block.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1]))
    d(g(torch.randn(2, 4)))
    assert sizes == [14, 28, 14, 7, 7, 7]


@pytest.mark.parametrize("size,g_slots,d_slots", [(28, 5, 8), (32, 7, 8), (48, 7, 10), (64, 9, 10)])
def test_activation_slots_are_the_hidden_activations_in_forward_order(size, g_slots, d_slots):
    """activation_slots names every hidden activation module (activation_layers' names) in the
    order the forward pass calls them, and hidden_activation_count is its length."""
    shape = (1, size, size)
    for cls, count in [(ResNetGenerator, g_slots), (ResNetDiscriminator, d_slots)]:
        slots = cls.activation_slots(shape, width=4, activation="elu")
        assert len(slots) == count == cls.hidden_activation_count(shape)
        model = cls(shape, width=2, **({"latent_dim": 4} if cls is ResNetGenerator else {}))
        assert [name for name, _ in activation_layers(model)] == slots
        fired: list[str] = []
        for name, module in activation_layers(model):
            module.register_forward_hook(lambda m, i, o, name=name, log=fired: log.append(name))
        model(torch.randn(2, 4) if cls is ResNetGenerator else torch.randn(2, *shape))
        assert fired == slots


def test_every_slot_is_its_own_module_with_its_own_parameters():
    """activation=prelu gives each slot its own PReLU (changing one leaves the others), and
    "channels" sizes each slot by the channels it sees: G act1 on the block's input, act2 on
    its output; D's optimized block on its output, a down-block's two on its input."""
    spec = {"num_parameters": "channels"}
    g = ResNetGenerator((3, 48, 48), width=1, activation="prelu", activation_kwargs=spec)
    d = ResNetDiscriminator((3, 48, 48), width=1, activation="prelu", activation_kwargs=spec)
    assert [m.weight.numel() for _, m in activation_layers(g)] == [8, 4, 4, 2, 2, 1, 1]
    assert [m.weight.numel() for _, m in activation_layers(d)] == [1, 1, 1, 2, 2, 4, 4, 8, 8, 16]
    small = ResNetDiscriminator((1, 32, 32), width=2, activation="prelu")
    acts = [m for _, m in activation_layers(small)]
    assert len({id(m.weight) for m in acts}) == len(acts) == 8
    with torch.no_grad():
        acts[3].weight.fill_(0.9)
    assert [m.weight.item() for m in acts] == pytest.approx([0.25] * 3 + [0.9] + [0.25] * 4)


def test_layer_overrides_and_default_activations():
    """Both networks default to ReLU (SNGAN); layer_activations puts the chosen activation in
    its slot and the default elsewhere."""
    g = ResNetGenerator(
        (1, 28, 28), width=2, layer_activations=[None, "elu", None, None, "leaky_relu"]
    )
    kinds = [type(m).__name__ for _, m in activation_layers(g)]
    assert kinds == ["ReLU", "ELU", "ReLU", "ReLU", "LeakyReLU"]
    assert isinstance(g.blocks[0].act2, nn.ELU) and g.final_act is activation_layers(g)[-1][1]
    d = ResNetDiscriminator((1, 28, 28), width=2)
    assert {type(m) for _, m in activation_layers(d)} == {nn.ReLU}


def test_psf_in_every_slot_if_installed(monkeypatch):
    """generator.activation=psf puts a fresh PSF with its own alpha in every slot, and one
    backward reaches all of them."""
    try:
        ACTIVATIONS.get("psf")
    except RegistryError as exc:
        pytest.skip(f"psf plugin unavailable: {exc}")
    monkeypatch.setenv("GANZOO_PSF_FUSED", "0")  # the portable path: no torch.compile
    g = ResNetGenerator((1, 28, 28), latent_dim=4, width=2, activation="psf")
    params = [p for _, m in activation_layers(g) for p in m.parameters()]
    assert len(params) == 5 and len({id(p) for p in params}) == 5
    g(torch.randn(4, 4)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params)


def test_wrong_number_of_layer_activations_names_the_count_and_the_order():
    """A list of the wrong length says how many slots there are and lists them in order."""
    with pytest.raises(ConfigError, match=r"has 2 entries .* 7 hidden activation layers") as err:
        ResNetGenerator((3, 32, 32), width=2, layer_activations=["elu", "elu"])
    assert "Their order: blocks.0.act1, blocks.0.act2, blocks.1.act1" in str(err.value)
    assert str(err.value).endswith("blocks.2.act2, final_act.")
    with pytest.raises(ConfigError, match=r"10 hidden activation layers.*blocks\.0\.act, "):
        ResNetDiscriminator((3, 64, 64), width=2, layer_activations=[None] * 8)


@pytest.mark.parametrize("bad", [(3, 40, 40), (2, 32, 32), (3, 32, 28), (32, 32), (3, 128, 128)])
def test_unsupported_shapes_list_the_sizes(bad):
    """An image size resnet cannot make is refused by the class check and the constructor,
    naming the supported sizes."""
    for cls in (ResNetGenerator, ResNetDiscriminator):
        with pytest.raises(ConfigError, match=r"resnet supports image sizes 28, 32, 48, 64"):
            cls.check_data_shape(bad)
        with pytest.raises(ConfigError, match=r"data.image_size to one of 28, 32, 48, 64"):
            cls(bad)


def test_bad_options_are_one_line_errors():
    """A non-bool spectral_norm, a negative num_classes, a zero width, an unknown up-sampling
    mode: ConfigErrors that name the option."""
    with pytest.raises(ConfigError, match=r"resnet discriminator spectral_norm must be true or"):
        ResNetDiscriminator((3, 32, 32), width=2, spectral_norm="yes")
    with pytest.raises(ConfigError, match=r"resnet generator num_classes must be 0"):
        ResNetGenerator((3, 32, 32), width=2, num_classes=-1)
    with pytest.raises(ConfigError, match=r"resnet discriminator width must be a positive"):
        ResNetDiscriminator((3, 32, 32), width=0)
    with pytest.raises(ConfigError, match=r"upsample must be one of nearest, bilinear"):
        ResNetGenerator((3, 32, 32), width=2, upsample="cubic")


def test_spectral_norm_wraps_every_weight_layer():
    """spectral_norm=True wraps every conv, linear and embedding of either network (and no
    batch norm); the default wraps none."""
    for cls in (ResNetGenerator, ResNetDiscriminator):
        wrapped = cls((3, 32, 32), width=2, num_classes=3, spectral_norm=True)
        layers = [m for m in wrapped.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        assert layers and all(parametrizations_on(m) for m in layers)
        plain = cls((3, 32, 32), width=2, num_classes=3)
        assert not any(parametrizations_on(m) for m in plain.modules())
    d = ResNetDiscriminator((3, 32, 32), width=2, num_classes=3, spectral_norm=True)
    assert parametrizations_on(d.embed)


def test_projection_discriminator_adds_the_class_embedding_inner_product():
    """cGAN-PD: D(x, a) - D(x, b) = <embed[a] - embed[b], pooled features>, so the output
    changes with the label; the conditional generator's output changes with the label once
    its per-class scales differ, and both refuse to run without labels."""
    torch.manual_seed(0)
    d = ResNetDiscriminator((3, 32, 32), width=4, num_classes=3)
    x = torch.randn(2, 3, 32, 32)
    pooled: list[torch.Tensor] = []
    d.final_act.register_forward_hook(lambda m, i, o: pooled.append(o.sum(dim=(2, 3))))
    a, b = d(x, torch.tensor([0, 0])), d(x, torch.tensor([2, 2]))
    difference = ((d.embed.weight[0] - d.embed.weight[2]) * pooled[0]).sum(dim=1)
    assert torch.allclose(a - b, difference, atol=1e-4) and (a - b).abs().min() > 1e-3

    g = ResNetGenerator((3, 32, 32), latent_dim=4, width=4, num_classes=3).eval()
    with torch.no_grad():
        g.blocks[0].bn1.scale.weight[1].fill_(3.0)
    z = torch.randn(1, 4)
    assert not torch.allclose(g(z, torch.tensor([0])), g(z, torch.tensor([1])))
    assert torch.equal(g(z, torch.tensor([0])), g(z, torch.tensor([2])))  # same scale/shift
    for network, call in [("generator", lambda: g(z)), ("discriminator", lambda: d(x))]:
        with pytest.raises(ConfigError, match=rf"resnet {network} is class-conditional"):
            call()


def test_unconditional_networks_ignore_labels():
    """An unconditional network gives the same output with or without labels, so the training
    step can pass a labelled dataset's labels to any architecture."""
    torch.manual_seed(0)
    d = ResNetDiscriminator((1, 28, 28), width=2).eval()
    x = torch.randn(2, 1, 28, 28)
    assert torch.equal(d(x), d(x, torch.tensor([3, 5])))


def test_gradient_penalty_backpropagates_through_spectral_norm():
    """WGAN-GP needs the gradient of a gradient through D: it works with SN on and is nonzero
    for every discriminator weight."""
    torch.manual_seed(0)
    d = ResNetDiscriminator((1, 28, 28), width=2, spectral_norm=True, num_classes=2)
    x = torch.randn(2, 1, 28, 28, requires_grad=True)
    (grad,) = torch.autograd.grad(d(x, torch.tensor([0, 1])).sum(), x, create_graph=True)
    ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean().backward()
    weights = [p for name, p in d.named_parameters() if name.endswith("original")]
    assert weights and all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)


def test_registered_as_resnet():
    """`architecture: resnet` resolves to these classes."""
    arch = get_architecture("resnet")
    assert (arch.generator, arch.discriminator) == (ResNetGenerator, ResNetDiscriminator)
