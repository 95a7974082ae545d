"""Loading a trained generator back from its run directory and sampling it reproducibly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

import ganzoo
from evaluation.images import resolve_images
from ganzoo.errors import CheckpointError
from ganzoo.runs import load_checkpoint
from ganzoo.sampling import load_generator, make_sampler, sample_rows

TINY = {
    "data": {"name": "mnist5k", "image_size": 28, "limit": 64},
    "train": {"batch_size": 32, "iterations": 2, "checkpoint_every": 1, "progress": False},
    "generator": {"width": 8, "latent_dim": 16, "activation": "elu"},
    "discriminator": {"width": 8},
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sampling")
    config = tmp / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    assert ganzoo.train(config, out=tmp / "runs").status == "finished"
    (found,) = (tmp / "runs" / "tiny").iterdir()
    return found


def test_loads_the_newest_checkpoint_with_its_weights(run_dir: Path):
    """The loaded generator is the one saved at the last iteration, weight for weight."""
    loaded = load_generator(run_dir)
    assert loaded.iteration == 2 and loaded.checkpoint.name == "checkpoint_2.pt"
    saved = load_checkpoint(loaded.checkpoint)["generator"]
    for name, tensor in loaded.generator.state_dict().items():
        assert torch.equal(tensor, saved[name]), name
    assert loaded.config.generator["activation"] == "elu"


def test_an_older_checkpoint_can_be_chosen_by_name(run_dir: Path):
    """--checkpoint checkpoint_1.pt picks the first iteration's weights."""
    assert load_generator(run_dir, "checkpoint_1.pt").iteration == 1
    with pytest.raises(CheckpointError, match="does not exist"):
        load_generator(run_dir, "checkpoint_99.pt")


def test_sampler_is_seeded_uint8(run_dir: Path):
    """The same seed gives the same uint8 images; another seed gives others."""
    generator = load_generator(run_dir).generator
    first = make_sampler(generator, seed=1, batch_size=4)(10)
    again = make_sampler(generator, seed=1, batch_size=7)(10)
    other = make_sampler(generator, seed=2)(10)
    assert first.dtype == torch.uint8 and first.shape == (10, 1, 28, 28)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_rows_of_an_evaluation_draw_are_the_images_one_sampler_gives(run_dir: Path):
    """sample_rows gives, row for row, the images an evaluation suite draws from one seeded
    sampler in calls of 7 (two processes' blocks, the second wrapping round to row 0, are the
    matching rows); a row out of range is refused."""
    generator = load_generator(run_dir).generator
    whole = resolve_images(make_sampler(generator, seed=3, batch_size=5), 23, batch_size=7)
    first = sample_rows(generator, 23, torch.arange(0, 12), seed=3, draw_size=7, batch_size=5)
    second = sample_rows(
        generator, 23, torch.arange(12, 24) % 23, seed=3, draw_size=7, batch_size=5
    )
    assert torch.equal(torch.cat([first, second])[:23], whole)
    assert torch.equal(second[-1], whole[0])
    with pytest.raises(ValueError, match="below 23"):
        sample_rows(generator, 23, torch.tensor([23]), seed=3, draw_size=7)
