"""The score-only GAN losses: non-saturating BCE (DCGAN), hinge, least squares, Wasserstein.

All take raw scores (never probabilities): the BCE uses ``binary_cross_entropy_with_logits``,
which is numerically stable where Sigmoid + BCELoss is not.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo.losses.base import ScoreLoss

Tensor = torch.Tensor


class NonSaturatingBCE(ScoreLoss):
    """Non-saturating BCE on logits (Goodfellow et al. 2014; DCGAN's loss)."""

    name = "bce"
    probabilities = True

    def d_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            real_scores, torch.ones_like(real_scores)
        ) + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores))

    def g_loss(self, fake_scores: Tensor) -> Tensor:
        # Non-saturating: maximise log D(G(z)) instead of minimising log(1 - D(G(z))).
        return F.binary_cross_entropy_with_logits(fake_scores, torch.ones_like(fake_scores))


class Hinge(ScoreLoss):
    """Hinge loss (Lim & Ye 2017; SNGAN, BigGAN): D max(0, 1 - D(x)) + max(0, 1 + D(G(z)))."""

    name = "hinge"

    def d_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()

    def g_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()


class LeastSquares(ScoreLoss):
    """Least squares (Mao et al. 2017): real scores to 1, generated to 0."""

    name = "lsgan"

    def d_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return 0.5 * ((real_scores - 1.0) ** 2).mean() + 0.5 * (fake_scores**2).mean()

    def g_loss(self, fake_scores: Tensor) -> Tensor:
        return 0.5 * ((fake_scores - 1.0) ** 2).mean()


class Wasserstein(ScoreLoss):
    """Wasserstein critic loss (Arjovsky et al. 2017) without a Lipschitz constraint of its
    own: pair it with spectral norm, or use wgan_gp."""

    name = "wgan"
    stat_names = ("score_real", "score_fake", "wasserstein")

    def d_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return fake_scores.mean() - real_scores.mean()

    def g_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()

    def score_stats(self, real_scores: Tensor, fake_scores: Tensor) -> dict[str, Tensor]:
        stats = super().score_stats(real_scores, fake_scores)
        # The critic's estimate of the Wasserstein-1 distance (Gulrajani et al.'s curves).
        stats["wasserstein"] = stats["score_real"] - stats["score_fake"]
        return stats
