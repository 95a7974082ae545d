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
