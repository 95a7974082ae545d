"""Fixtures for the training-engine tests: a tiny config and one intra-op thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

# mnist5k limited to 256 images, width-8 networks: a few milliseconds per iteration.
TINY_CONFIG = {
    "data": {"name": "mnist5k", "image_size": 28, "limit": 256},
    "train": {
        "batch_size": 32,  # 8 iterations per epoch
        "iterations": 6,
        "log_every": 1,
        "sample_every": 1000,
        "checkpoint_every": 2,
        "keep_checkpoints": 10,
        "progress": False,
    },
    "generator": {"width": 8, "latent_dim": 16, "activation": "prelu"},
    "discriminator": {"width": 8, "activation": "prelu"},
}


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Tiny tensors: one intra-op thread is several times faster on the shared CPUs."""
    yield


@pytest.fixture(scope="session")
def tiny_config_data() -> dict:
    """The tiny config as a dict (for module-scoped fixtures)."""
    return {key: dict(value) for key, value in TINY_CONFIG.items()}


@pytest.fixture
def tiny_config(tmp_path: Path) -> Callable[..., Path]:
    """``tiny_config(name="tiny", **train_keys)`` writes the tiny config as YAML."""

    def write(name: str = "tiny", **train: object) -> Path:
        config = {**TINY_CONFIG, "train": {**TINY_CONFIG["train"], **train}}
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    return write
