"""Fixtures shared by ganzoo's tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from evaluation.metrics import METRICS
from ganzoo.activations import ACTIVATIONS
from ganzoo.architectures import ARCHITECTURES
from ganzoo.data import DATASETS
from ganzoo.losses import LOSSES

REGISTRIES = (ACTIVATIONS, ARCHITECTURES, LOSSES, METRICS, DATASETS)


@pytest.fixture
def install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Install a plugin distribution the way pip would: a package and its .dist-info folder
    with entry_points.txt on sys.path. The registries are rescanned now and after the test."""

    def install(
        dist: str, package: str, source: str, entry_points: dict[str, dict[str, str]]
    ) -> None:
        site = tmp_path / f"site-{dist}"
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
        lines = []
        for group, names in entry_points.items():
            lines.append(f"[{group}]")
            lines += [f"{name} = {target}" for name, target in names.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        monkeypatch.syspath_prepend(str(site))
        for registry in REGISTRIES:
            registry.refresh()

    yield install
    monkeypatch.undo()
    for registry in REGISTRIES:
        registry.refresh()


@pytest.fixture
def one_thread():
    """One intra-op thread: tiny tensors run faster, and results compared across runs are
    summed in the same order (engine tests use it automatically, see engine/conftest.py)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
