"""The one GAN update: n_critic discriminator updates on their own real batches, then one
generator update; labels reach conditional networks; augmentation sits before D."""

from __future__ import annotations

import pytest
import torch

from ganzoo.architectures import get_architecture
from ganzoo.augment import DiffAugment
from ganzoo.engine.step import GANStep
from ganzoo.errors import DataError
from ganzoo.losses import get_loss


def mlp_pair(num_classes: int = 0, shape=(2,)):
    arch = get_architecture("mlp")
    options = dict(data_shape=shape, hidden_dim=8, depth=1, num_classes=num_classes)
    return arch.generator(latent_dim=3, **options), arch.discriminator(**options)


def make_step(generator, discriminator, **kwargs) -> GANStep:
    return GANStep(
        generator,
        discriminator,
        torch.optim.Adam(generator.parameters()),
        torch.optim.Adam(discriminator.parameters()),
        get_loss(kwargs.pop("loss", "wgan_gp")),
        torch.device("cpu"),
        **kwargs,
    )


def test_n_critic_5_makes_5_discriminator_updates_per_generator_update():
    """Adam's step counters after 3 iterations: 15 for D, 3 for G; each D update saw its own
    slice of the 5 x 4 real images."""
    torch.manual_seed(0)
    generator, discriminator = mlp_pair()
    seen = []
    original = discriminator.forward
    discriminator.forward = lambda x, y=None: (seen.append(x.detach().clone()), original(x))[1]
    step = make_step(generator, discriminator, n_critic=5)
    for i in range(3):
        batch = torch.arange(40, dtype=torch.float).reshape(20, 2) + 100 * i
        output = step.update((batch, torch.zeros(20)), iteration=i + 1)
    d_steps = step.optimizer_d.state[next(discriminator.parameters())]["step"]
    g_steps = step.optimizer_g.state[next(generator.parameters())]["step"]
    assert (int(d_steps), int(g_steps)) == (15, 3)
    reals = [x for x in seen if x.shape[0] == 4 and torch.all(x >= 200)]  # iteration 3's reals
    starts = sorted(int(x[0, 0]) for x in reals)
    assert starts == [200, 208, 216, 224, 232]  # five distinct consecutive batches
    assert {"loss_d", "loss_g", "gp", "wasserstein", "score_real"} <= set(output)


def test_conditional_networks_get_labels_and_bad_labels_are_refused():
    """A conditional pair receives the batch's labels in D and drawn labels in G; a label at or
    above num_classes (or none at all) is a DataError naming the problem."""
    torch.manual_seed(0)
    generator, discriminator = mlp_pair(num_classes=3)
    labels_seen = []
    original = discriminator.forward
    discriminator.forward = lambda x, y=None: (labels_seen.append(y), original(x, y))[1]
    step = make_step(generator, discriminator, loss="bce")
    step.update((torch.randn(6, 2), torch.tensor([0, 1, 2, 2, 1, 0])))
    assert torch.equal(labels_seen[0], torch.tensor([0, 1, 2, 2, 1, 0]))  # the real batch's
    assert all(y is not None and int(y.max()) < 3 for y in labels_seen)
    with pytest.raises(DataError, match="num_classes=3"):
        step.update((torch.randn(6, 2), torch.tensor([0, 1, 2, 3, 1, 0])))
    with pytest.raises(DataError, match="gives no labels"):
        step.update(torch.randn(6, 2))


def test_augmentation_is_applied_to_everything_d_sees():
    """With translation on, every image D receives (real and generated, D and G updates)
    differs from what the step was given, and none is left untouched."""
    torch.manual_seed(0)
    arch = get_architecture("dcgan")
    generator = arch.generator(data_shape=(1, 28, 28), latent_dim=4, width=2)
    discriminator = arch.discriminator(data_shape=(1, 28, 28), width=2)
    seen = []
    original = discriminator.forward
    discriminator.forward = lambda x, y=None: (seen.append(x.detach()), original(x))[1]
    real = torch.rand(4, 1, 28, 28) + 5.0  # no generated image is near these values
    make_step(generator, discriminator, loss="bce", augment=DiffAugment("cutout")).update(real)
    assert len(seen) == 3  # real, generated for D, generated for G
    assert (seen[0] == 0).any() and not torch.equal(seen[0], real)  # the real batch, cut out
    assert all((x == 0).flatten(1).any(1).all() for x in seen)  # every image has its hole
