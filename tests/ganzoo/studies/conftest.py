"""Fixtures for the study tests: a tiny base config and one intra-op thread."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

# mnist5k limited to 256 images, width-8 networks: milliseconds per iteration.
TINY_BASE = {
    "data": {"name": "mnist5k", "image_size": 28, "limit": 256},
    "train": {
        "batch_size": 32,
        "iterations": 3,
        "log_every": 1,
        "sample_every": 3,
        "checkpoint_every": 3,
        "num_samples": 4,
        "progress": False,
    },
    "generator": {"width": 8, "latent_dim": 8, "activation": "leaky_relu"},
    "discriminator": {"width": 8, "activation": "leaky_relu"},
}


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch):
    """Tiny tensors: one thread is faster on the shared CPUs; PSF's portable path (no compile)."""
    monkeypatch.setenv("GANZOO_PSF_FUSED", "0")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def base_config(tmp_path: Path) -> Path:
    path = tmp_path / "configs" / "tiny.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(TINY_BASE))
    return path


@pytest.fixture
def write_study(tmp_path: Path, base_config: Path):
    """``write_study(**fields)``: a study YAML next to the tiny base (``base: tiny.yaml``)."""

    def write(**fields) -> Path:
        data = {"base": "tiny.yaml", "out": str(tmp_path / "studies"), "seeds": [0], **fields}
        path = base_config.parent / f"{data.pop('file', 'study')}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write
