"""Device correctness: every tensor a model part creates is made on its input's device.

Everything runs on the ``meta`` device (shapes, no data, no memory): a tensor made without a
device (so on the CPU) meets a meta tensor and fails, as it would meet a CUDA tensor on a GPU.
The lists come from the registries, so a new activation, architecture or loss is covered
without editing this file. Each test also checks the shape and device of what comes out.
"""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

from ganzoo.activations import ACTIVATIONS, create_activation
from ganzoo.architectures import ARCHITECTURES, get_architecture
from ganzoo.augment import POLICIES, DiffAugment
from ganzoo.losses import LOSSES, Samples, build_loss, gradient_penalty, r1_penalty
from ganzoo.sampling import draw_inputs

META = torch.device("meta")
BATCH = 4


def _on_meta(tensor: torch.Tensor | None) -> None:
    assert tensor is not None and tensor.device.type == "meta", tensor


def _activation_cases() -> list[tuple[str, bool]]:
    """Every registered activation with its defaults, and once more with one parameter per
    channel where it has a ``num_parameters`` option (PReLU, PSF, PAU)."""
    cases = []
    for name in ACTIVATIONS.names():
        cases.append((name, False))
        if "num_parameters" in inspect.signature(ACTIVATIONS.get(name)).parameters:
            cases.append((name, True))
    return cases


@pytest.mark.parametrize(("name", "per_channel"), _activation_cases())
def test_activation_forward_and_backward_on_meta(name: str, per_channel: bool) -> None:
    """Every registered activation (built-in and plugin), built on meta, runs forward and
    backward on a meta batch; input and parameter gradients come back on meta with their
    shapes (per channel too, where the activation has that option)."""
    kwargs = {"num_parameters": 3} if per_channel else {}
    with META:
        module = create_activation(name, **kwargs)
    x = torch.randn(BATCH, 3, 5, 5, device=META, requires_grad=True)
    y = module(x)
    assert y.shape == x.shape
    _on_meta(y)
    y.backward(torch.ones_like(y))
    _on_meta(x.grad)
    assert x.grad.shape == x.shape
    for parameter in module.parameters():
        _on_meta(parameter.grad)
        assert parameter.grad.shape == parameter.shape


def _conditional_options(cls: type[nn.Module]) -> list[int]:
    """num_classes values to try: 0, and 3 where the network takes labels."""
    return [0, 3] if "num_classes" in inspect.signature(cls).parameters else [0]


def _architecture_cases() -> list[tuple[str, int, str]]:
    """Every architecture with LeakyReLU (conditional too, where it can be), and with each
    learnable plugin activation that is installed."""
    cases = []
    for name in ARCHITECTURES.names():
        for classes in _conditional_options(get_architecture(name).generator):
            cases.append((name, classes, "leaky_relu"))
        cases += [(name, 0, act) for act in ("psf", "pau") if act in ACTIVATIONS]
    return cases


def _build(name: str, classes: int, activation: str) -> tuple[nn.Module, nn.Module]:
    """The architecture's G and D on meta, with its default data shape, the given hidden
    activation, spectral norm where it has one and labels when ``classes`` > 0."""
    arch = get_architecture(name)
    nets = []
    for cls in (arch.generator, arch.discriminator):
        options = inspect.signature(cls).parameters
        kwargs = {"activation": activation}
        if classes:
            kwargs["num_classes"] = classes
        if "spectral_norm" in options:
            kwargs["spectral_norm"] = True
        with META:
            nets.append(cls(**kwargs))
    return nets[0], nets[1]


@pytest.mark.parametrize(("name", "classes", "activation"), _architecture_cases())
def test_architecture_forward_and_backward_on_meta(
    name: str, classes: int, activation: str
) -> None:
    """Every registered architecture, built on meta (with PSF and PAU too, and labels where it
    is conditional): G makes a batch of its data shape from meta noise, D scores it (N,), and
    the D score's backward reaches every parameter of both, on meta."""
    generator, discriminator = _build(name, classes, activation)
    inputs = draw_inputs(BATCH, generator.latent_dim, classes, device=META)
    _on_meta(inputs.z)
    images = generator(inputs.z) if inputs.y is None else generator(inputs.z, inputs.y)
    assert images.shape == (BATCH, *generator.data_shape)
    _on_meta(images)
    scores = discriminator(images) if inputs.y is None else discriminator(images, inputs.y)
    assert scores.shape == (BATCH,)
    _on_meta(scores)
    scores.sum().backward()
    for net in (generator, discriminator):
        for pname, parameter in net.named_parameters():
            assert parameter.grad is not None, pname
            _on_meta(parameter.grad)


def _critic_setup() -> tuple[nn.Module, Samples, Samples]:
    """A small DCGAN discriminator with PSF (if installed) on meta, and meta batches."""
    activation = "psf" if "psf" in ACTIVATIONS else "leaky_relu"
    with META:
        discriminator = get_architecture("dcgan").discriminator(
            data_shape=(1, 28, 28), width=4, activation=activation
        )
    real = Samples(torch.randn(BATCH, 1, 28, 28, device=META))
    fake = Samples(torch.randn(BATCH, 1, 28, 28, device=META, requires_grad=True))
    return discriminator, real, fake


@pytest.mark.parametrize("name", LOSSES.names())
@pytest.mark.parametrize("r1_gamma", [0.0, 1.0])
def test_losses_and_penalties_on_meta(name: str, r1_gamma: float) -> None:
    """Every registered loss (gradient penalties included), alone and with R1: D's and G's
    losses are 0-d meta tensors, every statistic is on meta, and both backwards run."""
    discriminator, real, fake = _critic_setup()

    def critic(samples: Samples) -> torch.Tensor:
        return discriminator(samples.images)

    loss = build_loss(name, r1_gamma=r1_gamma)
    result = loss.discriminator_loss(critic, real, Samples(fake.images.detach()))
    assert result.loss.shape == ()
    _on_meta(result.loss)
    assert set(result.stats) == set(loss.stat_names)
    for value in result.stats.values():
        _on_meta(value)
    result.loss.backward()
    for parameter in discriminator.parameters():
        _on_meta(parameter.grad)
    g_result = loss.generator_loss(critic, fake)
    _on_meta(g_result.loss)
    g_result.loss.backward()
    _on_meta(fake.images.grad)


def test_penalty_functions_on_meta() -> None:
    """The gradient penalty and R1 themselves (double backward through the critic, PSF layers
    included) on meta: 0-d meta values whose backward reaches D's weights and alphas."""
    discriminator, real, fake = _critic_setup()

    def critic(samples: Samples) -> torch.Tensor:
        return discriminator(samples.images)

    for penalty in (gradient_penalty(critic, real, fake), r1_penalty(critic, real)):
        assert penalty.shape == ()
        _on_meta(penalty)
        discriminator.zero_grad()
        penalty.backward()
        # the input gradient does not depend on biases feeding only the output, so check the
        # weights and the activations' own parameters (PSF's alpha)
        for pname, parameter in discriminator.named_parameters():
            if parameter.dim() >= 2 or pname.endswith("alpha"):
                assert parameter.grad is not None, pname
                _on_meta(parameter.grad)


@pytest.mark.parametrize("policy", [*POLICIES, ",".join(POLICIES)])
def test_diffaugment_on_meta(policy: str) -> None:
    """Every DiffAugment policy (and all together) keeps the batch's shape, stays on meta and
    passes gradients back to the images."""
    images = torch.randn(BATCH, 3, 8, 8, device=META, requires_grad=True)
    out = DiffAugment(policy)(images)
    assert out.shape == images.shape
    _on_meta(out)
    out.sum().backward()
    _on_meta(images.grad)
