"""What a GAN loss is: given the critic and the batches it needs, the loss and what to log.

A loss computes the discriminator's and the generator's objective itself, calling the critic
(D with augmentation and labels applied) on whatever it needs: real and generated batches,
interpolates for a gradient penalty. So a penalty is a loss detail, not a variant of the
training step; a new loss is one file and one registration (see ``ganzoo.losses``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

Tensor = torch.Tensor


class Samples(NamedTuple):
    """A batch as the critic sees it: images and their class labels (None: unconditional)."""

    images: Tensor
    labels: Tensor | None = None


# critic(samples) -> one float32 score per sample, shape (N,): D's logit, or a critic value.
Critic = Callable[[Samples], Tensor]


@dataclass
class LossResult:
    """A loss value to minimise and the scalar statistics it wants logged (name -> 0-d tensor)."""

    loss: Tensor
    stats: dict[str, Tensor] = field(default_factory=dict)


class GANLoss:
    """A GAN objective: :meth:`discriminator_loss` and :meth:`generator_loss`.

    ``stat_names`` lists the statistics :meth:`discriminator_loss` returns (the training log
    keeps running averages of them). Losses on probabilities (D's score is the logit of
    P(real)) report ``d_real`` / ``d_fake`` as mean probabilities; the others report raw critic
    scores ``score_real`` / ``score_fake``, which have no probability meaning.
    """

    name: str = "?"
    stat_names: tuple[str, ...] = ("score_real", "score_fake")

    def discriminator_loss(self, critic: Critic, real: Samples, fake: Samples) -> LossResult:
        raise NotImplementedError

    def generator_loss(self, critic: Critic, fake: Samples) -> LossResult:
        raise NotImplementedError

    def describe(self) -> str:
        """A short human description, for ``ganzoo losses``."""
        paragraph = (self.__doc__ or self.name).strip().split("\n\n")[0]
        return " ".join(paragraph.split())


class ScoreLoss(GANLoss):
    """A loss that only looks at the critic's scores of the real and the generated batch.

    Subclasses define :meth:`d_loss` and :meth:`g_loss` on scores; the critic is called on the
    real batch first, then on the generated one.
    """

    probabilities: bool = False  # True: scores are logits of P(real), logged as probabilities

    def __init__(self) -> None:
        if self.probabilities:
            self.stat_names = ("d_real", "d_fake")

    def d_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        raise NotImplementedError

    def g_loss(self, fake_scores: Tensor) -> Tensor:
        raise NotImplementedError

    def discriminator_loss(self, critic: Critic, real: Samples, fake: Samples) -> LossResult:
        real_scores = critic(real)
        fake_scores = critic(fake)
        loss = self.d_loss(real_scores, fake_scores)
        return LossResult(loss, self.score_stats(real_scores, fake_scores))

    def generator_loss(self, critic: Critic, fake: Samples) -> LossResult:
        return LossResult(self.g_loss(critic(fake)))

    def score_stats(self, real_scores: Tensor, fake_scores: Tensor) -> dict[str, Tensor]:
        with torch.no_grad():
            if self.probabilities:
                return {
                    "d_real": torch.sigmoid(real_scores).mean(),
                    "d_fake": torch.sigmoid(fake_scores).mean(),
                }
            return {"score_real": real_scores.mean(), "score_fake": fake_scores.mean()}


def input_gradient(critic: Critic, samples: Samples) -> Tensor:
    """d(sum of critic scores)/d(images) for ``samples``, kept in the graph (for penalties)."""
    images = samples.images.detach().requires_grad_(True)
    scores = critic(Samples(images, samples.labels))
    (grad,) = torch.autograd.grad(scores.sum(), images, create_graph=True)
    return grad
