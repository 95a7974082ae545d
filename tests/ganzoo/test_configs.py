"""Every config in configs/ validates (`ganzoo train CONFIG --dry-run`), so a recipe that
drifted from the schema fails here, not on a user's machine."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ganzoo.cli import main

CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_every_config_dry_runs(config, capsys):
    """The dry run exits 0 and prints the resolved config with the file's own values.
    (data.download=true: the dry run checks the data as the run would, and a dataset missing
    here, CIFAR-10 say, is then left to the download the run would make; nothing is fetched.)"""
    assert main(["train", str(config), "data.download=true", "--dry-run"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out.split("\n# ")[0])
    own = yaml.safe_load(config.read_text())
    assert printed["architecture"] == own.get("architecture", "dcgan")
    assert printed["train"]["iterations"] == own["train"].get("iterations")


def test_dry_run_ends_with_what_each_network_is(capsys):
    """The SNGAN CIFAR recipe builds the standard 32 px ResNets (mimicry's parameter counts)
    with 7 activation slots in G and 8 in D, said in one line per network."""
    config = Path(__file__).parents[2] / "configs" / "sngan_cifar.yaml"
    assert main(["train", str(config), "data.download=true", "--dry-run"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[-2:]
    assert lines == [
        "# generator: resnet, 4,276,739 parameters, 7 activation slots",
        "# discriminator: resnet, 1,053,825 parameters, 8 activation slots",
    ]
