"""The ``ganzoo`` command itself."""

from __future__ import annotations

import pytest

import ganzoo
from ganzoo.cli import main


def test_version_prints_the_version_and_exits_0(capsys):
    """`ganzoo --version` prints "ganzoo X.Y.Z" (argparse exits 0)."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ganzoo {ganzoo.__version__}"


def test_the_version_is_written_once_in_pyproject():
    """ganzoo.__version__ (and so `ganzoo --version`) is the installed distribution's version,
    which only pyproject.toml declares."""
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["version"]
    assert ganzoo.__version__ == declared
    assert "pytest" not in " ".join(tomllib.loads(pyproject.read_text())["project"]["dependencies"])
