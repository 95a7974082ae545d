import math

import pytest
import torch

from ganzoo.data.mixtures import get_mixture
from ganzoo.errors import GanzooError


def test_ring8_centres_are_eight_points_on_the_unit_circle_with_std_0_01():
    """ring8 has PacGAN's parameters: 8 equally spaced means at radius 1, std 0.01."""
    ring = get_mixture("ring8")
    assert ring.num_modes == 8 and ring.std == pytest.approx(0.01)
    radii = ring.centers.norm(dim=1)
    assert torch.allclose(radii, torch.ones(8), atol=1e-6)
    # neighbours are 2 pi / 8 apart: chord length 2 sin(pi / 8)
    gaps = (ring.centers - ring.centers.roll(1, dims=0)).norm(dim=1)
    assert torch.allclose(gaps, torch.full((8,), 2 * math.sin(math.pi / 8)), atol=1e-6)


def test_grid25_centres_are_the_5x5_grid_from_minus_4_to_4_with_std_0_05():
    """grid25 has the VEEGAN / PacGAN means {-4,-2,0,2,4}^2 and std 0.05."""
    grid = get_mixture("grid25")
    assert grid.num_modes == 25 and grid.std == pytest.approx(0.05)
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(int(v) for v in c) for c in grid.centers.tolist()} == expected


def test_samples_are_seeded_and_spread_evenly_over_modes_with_the_stated_std():
    """The same generator seed gives the same samples; each mode gets about 1/K of them and the
    offsets from the nearest centre have the mixture's std."""
    grid = get_mixture("grid25")
    a = grid.sample(20000, torch.Generator().manual_seed(3))
    b = grid.sample(20000, torch.Generator().manual_seed(3))
    c = grid.sample(20000, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    nearest = torch.cdist(a, grid.centers).argmin(dim=1)
    share = torch.bincount(nearest, minlength=25).float() / len(a)
    assert share.min() > 0.03 and share.max() < 0.05  # 1/25 = 0.04
    offsets = a - grid.centers[nearest]
    assert offsets.std().item() == pytest.approx(0.05, rel=0.05)


def test_unknown_mixture_is_a_ganzoo_error_listing_the_choices():
    """A typo in the task name suggests the closest dataset; a dataset that is not a mixture
    names the mixtures."""
    with pytest.raises(GanzooError, match="Did you mean 'ring8'"):
        get_mixture("ring9")
    with pytest.raises(GanzooError, match="not a 2-D Gaussian mixture; choose one of grid25"):
        get_mixture("mnist5k")


def test_mixtures_are_datasets_of_the_registry():
    """`ring8` and `grid25` build as datasets of seeded points labelled by their mode: each
    point lies within 5 stds of its mode's centre, and a class filter is refused."""
    from ganzoo.data import build_dataset, dataset_info
    from ganzoo.errors import DataError

    ring = build_dataset("ring8", limit=500)
    assert len(ring) == 500 and dataset_info("ring8").kind == "points"
    point, mode = ring[7]
    assert point.shape == (2,) and 0 <= mode < 8
    distance = (ring.points - ring.mixture.centers[ring.labels]).norm(dim=1)
    assert distance.max() < 5 * ring.mixture.std
    assert torch.equal(build_dataset("ring8", limit=500).points, ring.points)
    with pytest.raises(DataError, match="2-D points"):
        build_dataset("grid25", classes=[0])


def test_a_mixture_dataset_trains_with_ganzoo_train(tmp_path, one_thread):
    """`data.name: ring8` with the mlp architecture trains through `ganzoo train` (the points'
    shape (2,) comes from the dataset's info) and logs its losses."""
    import json

    import yaml

    from ganzoo.cli import main

    config = {
        "architecture": "mlp",
        "data": {"name": "ring8", "limit": 512},
        "train": {"batch_size": 64, "iterations": 4, "log_every": 2, "progress": False},
        "generator": {"latent_dim": 2},
    }
    path = tmp_path / "ring.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["train", str(path), "--out", str(tmp_path / "runs")]) == 0
    (run_dir,) = (tmp_path / "runs" / "ring").iterdir()
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in lines if "loss_d" in r] == [2, 4]
