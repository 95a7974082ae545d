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
    """The dry run exits 0 and prints the resolved config with the file's own values."""
    assert main(["train", str(config), "--dry-run"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out.split("\n# ")[0])
    own = yaml.safe_load(config.read_text())
    assert printed["architecture"] == own.get("architecture", "dcgan")
    assert printed["train"]["iterations"] == own["train"].get("iterations")
