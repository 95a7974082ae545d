import math

import pytest
import torch

from evaluation.mixture_modes import mixture_metrics, reverse_kl_to_uniform
from ganzoo.data.mixtures import get_mixture


@pytest.mark.parametrize("task", ["ring8", "grid25"])
def test_samples_exactly_at_every_centre_cover_all_modes_all_hq_and_kl_zero(task):
    """100 samples on each centre: every mode covered, 100 % high quality, reverse KL 0."""
    mix = get_mixture(task)
    samples = mix.centers.repeat(100, 1)
    m = mixture_metrics(samples, mix.centers, mix.std)
    assert m.modes_covered == mix.num_modes
    assert m.high_quality_fraction == 1.0
    assert m.reverse_kl == pytest.approx(0.0, abs=1e-12)
    assert m.mode_counts == [100] * mix.num_modes


@pytest.mark.parametrize("task", ["ring8", "grid25"])
def test_all_samples_at_one_centre_cover_one_mode_with_kl_log_k(task):
    """A fully collapsed generator: 1 mode, 100 % HQ, reverse KL = log(number of modes)."""
    mix = get_mixture(task)
    samples = mix.centers[3].expand(2500, 2).clone()
    m = mixture_metrics(samples, mix.centers, mix.std)
    assert m.modes_covered == 1
    assert m.high_quality_fraction == 1.0
    assert m.reverse_kl == pytest.approx(math.log(mix.num_modes))


def test_samples_far_from_every_mode_are_not_high_quality_and_cover_nothing():
    """Samples 10 std away from all centres (and the origin of the ring) give 0 HQ, 0 modes and
    an undefined (NaN) reverse KL."""
    ring = get_mixture("ring8")
    far = torch.cat([torch.zeros(100, 2), ring.centers.repeat(10, 1) * 1.5])
    m = mixture_metrics(far, ring.centers, ring.std)
    assert m.high_quality_fraction == 0.0
    assert m.modes_covered == 0
    assert math.isnan(m.reverse_kl)


def test_threshold_is_three_standard_deviations_strictly():
    """A sample 2.9 std from a centre is high quality, one 3.1 std away is not."""
    grid = get_mixture("grid25")
    centre = grid.centers[12]  # (0, 0)
    inside = centre + torch.tensor([2.9 * grid.std, 0.0])
    outside = centre + torch.tensor([0.0, 3.1 * grid.std])
    m = mixture_metrics(torch.stack([inside, outside]), grid.centers, grid.std)
    assert m.high_quality_fraction == 0.5 and m.modes_covered == 1
    assert m.mode_counts[12] == 1


def test_real_mixture_samples_score_like_the_data():
    """2,500 samples from the true ring8 cover all 8 modes, about 98.9 % are within 3 std (the
    chi distribution with 2 d.o.f.: 1 - exp(-4.5)) and the reverse KL is small."""
    ring = get_mixture("ring8")
    samples = ring.sample(2500, torch.Generator().manual_seed(0))
    m = mixture_metrics(samples, ring.centers, ring.std)
    assert m.modes_covered == 8
    assert m.high_quality_fraction == pytest.approx(1 - math.exp(-4.5), abs=0.006)
    assert m.reverse_kl < 0.01


def test_reverse_kl_of_a_two_mode_split_is_log_k_over_2():
    """Half the mass on each of 2 of 8 modes: KL(p || U) = log(8 / 2) = log 4."""
    counts = torch.tensor([5, 5, 0, 0, 0, 0, 0, 0])
    assert reverse_kl_to_uniform(counts) == pytest.approx(math.log(4))
