"""``ganzoo datasets`` lists every registered dataset, and a 2-D mixture from a package ganzoo
has never seen is a dataset, listed and usable as a mode-collapse task, with no edit to ganzoo."""

from __future__ import annotations

from ganzoo.cli import main

RING4_SOURCE = """
import math

import torch

from ganzoo.data.mixtures import GaussianMixture2D, mixture_builder


def ring4():
    angles = [math.pi / 2 * i for i in range(4)]
    centers = torch.tensor([[math.cos(a), math.sin(a)] for a in angles], dtype=torch.float32)
    return GaussianMixture2D("ring4", centers, 0.02)


RING4 = mixture_builder(ring4, "4 Gaussians on the unit circle")
"""


def test_ganzoo_datasets_lists_images_and_points(capsys):
    """Every built-in is listed with its kind, size and classes; nothing is read."""
    assert main(["datasets"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    for name in ("mnist5k", "mnist", "fashion_mnist", "cifar10", "stl10", "image_folder"):
        assert "images" in lines[name]
    assert "28px x3" in lines["stacked_mnist"] and " 1000 " in lines["stacked_mnist"]
    assert "points" in lines["ring8"] and "points" in lines["grid25"] and " 25 " in lines["grid25"]


def test_a_plugin_mixture_is_listed_and_becomes_a_mode_collapse_task(install_plugin, capsys):
    """A package's `ganzoo.datasets` entry point adds `ring4`: `ganzoo datasets` lists it with
    its distribution, its mixture has 4 modes, and `bench mode-collapse` accepts it as a task."""
    install_plugin(
        "ganzoo-ring4",
        "ganzoo_ring4_fixture",
        RING4_SOURCE,
        {"ganzoo.datasets": {"ring4": "ganzoo_ring4_fixture:RING4"}},
    )
    assert main(["datasets"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("ring4"))
    assert "ganzoo-ring4 1.2.3" in line and "points" in line
    from ganzoo.cli.bench import _check_task
    from ganzoo.data.mixtures import get_mixture

    assert get_mixture("ring4").num_modes == 4
    _check_task("ring4")  # no error: a task like ring8
