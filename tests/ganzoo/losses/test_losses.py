"""The GAN losses: known values on fixed scores, the penalties' analytic values, the registry
and a loss plugin that `ganzoo losses` lists and `ganzoo train` trains with."""

from __future__ import annotations

import math

import pytest
import torch

from ganzoo.errors import ConfigError
from ganzoo.losses import LOSSES, Samples, build_loss, get_loss
from ganzoo.losses.penalties import WithR1


def fixed_critic(scores_by_id: dict[int, torch.Tensor]):
    """A critic that returns preset scores for preset batches (by tensor identity)."""
    return lambda samples: scores_by_id[id(samples.images)]


@pytest.mark.parametrize(
    ("name", "d_expected", "g_expected"),
    [
        # real scores [2, -1], fake [0.5, -3]
        ("hinge", (0 + 2) / 2 + (1.5 + 0) / 2, -(0.5 - 3) / 2),
        ("lsgan", 0.5 * (1 + 4) / 2 + 0.5 * (0.25 + 9) / 2, 0.5 * (0.25 + 16) / 2),
        ("wgan", (0.5 - 3) / 2 - (2 - 1) / 2, -(0.5 - 3) / 2),
        (
            "bce",
            (math.log1p(math.exp(-2)) + math.log1p(math.exp(1))) / 2
            + (math.log1p(math.exp(0.5)) + math.log1p(math.exp(-3))) / 2,
            (math.log1p(math.exp(-0.5)) + math.log1p(math.exp(3))) / 2,
        ),
    ],
)
def test_score_losses_have_their_textbook_values(name, d_expected, g_expected):
    """Each built-in loss gives its formula's value on hand-picked scores."""
    real, fake = torch.zeros(2, 3), torch.ones(2, 3)
    critic = fixed_critic(
        {id(real): torch.tensor([2.0, -1.0]), id(fake): torch.tensor([0.5, -3.0])}
    )
    loss = get_loss(name)
    d = loss.discriminator_loss(critic, Samples(real), Samples(fake))
    g = loss.generator_loss(critic, Samples(fake))
    assert d.loss.item() == pytest.approx(d_expected, rel=1e-6)
    assert g.loss.item() == pytest.approx(g_expected, rel=1e-6)
    assert set(d.stats) == set(loss.stat_names)


def test_probabilities_only_for_the_probability_loss():
    """bce logs D(x) and D(G(z)) as probabilities (sigmoid of the logits); the others log raw
    critic scores, and wgan also its Wasserstein estimate."""
    real, fake = torch.zeros(2, 1), torch.ones(2, 1)
    critic = fixed_critic({id(real): torch.tensor([0.0, 0.0]), id(fake): torch.tensor([4.0, 6.0])})
    bce = get_loss("bce").discriminator_loss(critic, Samples(real), Samples(fake)).stats
    assert bce["d_real"].item() == pytest.approx(0.5)
    assert 0.98 < bce["d_fake"].item() < 1.0
    wgan = get_loss("wgan").discriminator_loss(critic, Samples(real), Samples(fake)).stats
    assert wgan["score_fake"].item() == pytest.approx(5.0)
    assert wgan["wasserstein"].item() == pytest.approx(-5.0)


def test_gradient_penalty_of_a_linear_critic_is_analytic():
    """D(x) = <w, x> + b has gradient w everywhere, so the penalty is (|w| - 1)^2 whatever the
    interpolates: with |w| = 3 and weight 10 the D loss is E D(fake) - E D(real) + 40."""
    torch.manual_seed(0)
    w = torch.tensor([2.0, 1.0, 2.0])  # |w| = 3
    critic = lambda s: s.images.flatten(1) @ w + 0.5  # noqa: E731
    real, fake = torch.randn(8, 3), torch.randn(8, 3)
    result = get_loss("wgan_gp").discriminator_loss(critic, Samples(real), Samples(fake))
    assert result.stats["gp"].item() == pytest.approx(4.0, rel=1e-6)
    wasserstein = (fake @ w).mean() - (real @ w).mean()
    assert result.loss.item() == pytest.approx(wasserstein.item() + 40.0, rel=1e-5)
    weighted = get_loss("wgan_gp", {"gp_weight": 2.0})
    loss2 = weighted.discriminator_loss(critic, Samples(real), Samples(fake)).loss
    assert loss2.item() == pytest.approx(wasserstein.item() + 8.0, rel=1e-5)


def test_r1_of_a_quadratic_critic_is_analytic():
    """D(x) = a/2 |x|^2 has gradient a x, so R1 = gamma/2 * a^2 * E|x|^2 on the real batch."""
    a, gamma = 3.0, 0.5
    critic = lambda s: 0.5 * a * s.images.flatten(1).pow(2).sum(1)  # noqa: E731
    real, fake = torch.randn(6, 2, 2), torch.randn(6, 2, 2)
    base = get_loss("hinge").discriminator_loss(critic, Samples(real), Samples(fake)).loss
    with_r1 = build_loss("hinge", r1_gamma=gamma)
    assert isinstance(with_r1, WithR1)
    result = with_r1.discriminator_loss(critic, Samples(real), Samples(fake))
    expected = gamma / 2 * a**2 * real.flatten(1).pow(2).sum(1).mean()
    assert (result.loss - base).item() == pytest.approx(expected.item(), rel=1e-5)
    assert result.stats["r1"].item() == pytest.approx(
        (a**2 * real.pow(2).flatten(1).sum(1).mean()).item(), rel=1e-5
    )


def test_penalties_backpropagate_into_the_critic():
    """The gradient penalty is differentiable in D's weights (create_graph), so it trains D."""
    layer = torch.nn.Linear(4, 1)
    critic = lambda s: layer(s.images).squeeze(1)  # noqa: E731
    loss = get_loss("wgan_gp").discriminator_loss(
        critic, Samples(torch.randn(5, 4)), Samples(torch.randn(5, 4))
    )
    loss.loss.backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_unknown_loss_and_bad_arguments_are_one_line_errors():
    """An unknown name suggests the closest; kwargs the loss does not take name the loss; a
    negative R1 weight is refused."""
    with pytest.raises(ConfigError, match="Did you mean 'hinge'"):
        get_loss("hinj")
    with pytest.raises(ConfigError, match="wgan_gp"):
        get_loss("wgan_gp", {"lambda": 10})
    with pytest.raises(ConfigError, match="r1_gamma"):
        build_loss("bce", r1_gamma=-1.0)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"gp_weight": "abc"}, ["train.loss_kwargs.gp_weight", "must be a number", "'abc'"]),
        ({"gp_weight": True}, ["gp_weight", "must be a number", "True"]),
        ({"gp_weight": "1e1"}, ["YAML reads 1e1 as text; write 10.0"]),
        ({"gpweight": 3}, ["train.loss_kwargs.gpweight", "its options are gp_weight"]),
    ],
)
def test_a_loss_option_of_the_wrong_kind_is_refused_in_plain_words(kwargs, words):
    """`gp_weight: abc` once surfaced Python's "'>=' not supported between 'str' and 'int'";
    now the option, the kind it wants and the value given are named."""
    with pytest.raises(ConfigError) as info:
        get_loss("wgan_gp", kwargs)
    message = str(info.value)
    assert "not supported between" not in message
    for word in words:
        assert word in message, (word, message)


def test_loss_options_of_the_right_kind_reach_the_loss():
    """An int where the default is a float is a number too: gp_weight=5 builds with 5.0."""
    assert get_loss("wgan_gp", {"gp_weight": 5}).gp_weight == 5.0
    with pytest.raises(ConfigError, match="it has no options"):
        get_loss("hinge", {"gp_weight": 5})


TINY = {
    "data": {"name": "mnist5k", "image_size": 28, "limit": 64},
    "train": {"batch_size": 16, "iterations": 2, "log_every": 1, "progress": False},
    "generator": {"width": 4, "latent_dim": 8},
    "discriminator": {"width": 4},
}

RELATIVISTIC = '''
import torch.nn.functional as F
from ganzoo.losses import ScoreLoss


class Relativistic(ScoreLoss):
    """Relativistic standard GAN (Jolicoeur-Martineau 2019)."""

    name = "rsgan"

    def discriminator_loss(self, critic, real, fake):
        from ganzoo.losses import LossResult
        r, f = critic(real), critic(fake)
        loss = F.softplus(-(r - f)).mean()
        self._last_real = r.detach()
        return LossResult(loss, self.score_stats(r, f))

    def generator_loss(self, critic, fake):
        from ganzoo.losses import LossResult
        return LossResult(F.softplus(-(critic(fake) - self._last_real.mean())).mean())
'''


def test_a_loss_plugin_is_listed_and_trains(install_plugin, tmp_path, capsys):
    """A package ganzoo has never seen adds `rsgan` through the ganzoo.losses entry point:
    `ganzoo losses` lists it with its distribution, and `ganzoo train` trains with it."""
    import yaml

    import ganzoo
    from ganzoo.cli import main

    install_plugin(
        "ganzoo-rsgan",
        "ganzoo_rsgan_fixture",
        RELATIVISTIC,
        {"ganzoo.losses": {"rsgan": "ganzoo_rsgan_fixture:Relativistic"}},
    )
    assert main(["losses"]) == 0
    listing = capsys.readouterr().out
    assert "rsgan" in listing and "ganzoo-rsgan 1.2.3" in listing
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    result = ganzoo.train(config, ["train.loss=rsgan"], out=tmp_path / "runs")
    assert result.status == "finished"
    run_dir = result.run_dir
    import json
    from pathlib import Path

    lines = [json.loads(x) for x in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    assert [x["iteration"] for x in lines] == [1, 2] and "score_real" in lines[-1]


def test_a_loss_plugin_that_is_not_a_loss_is_refused(install_plugin):
    """An entry point naming something that is not a GANLoss gets one line saying so."""
    install_plugin(
        "ganzoo-notaloss",
        "ganzoo_notaloss_fixture",
        "X = 3\n",
        {"ganzoo.losses": {"bad": "ganzoo_notaloss_fixture:X"}},
    )
    with pytest.raises(ConfigError, match="must be a subclass of ganzoo.losses.GANLoss"):
        get_loss("bad")
    assert "bce" in LOSSES.names()  # the rest works
