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


def _options_without_help(parser, path=()):
    """(command path, option) for every argument of every (sub)command that has no help."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options_without_help(sub, (*path, name))
        elif action.help is None:
            yield " ".join(path), "/".join(action.option_strings) or action.dest


def test_every_option_of_every_command_says_what_it_does():
    """`--help` describes every option (`eval --suite` and `--inception-weights` once had no
    description): no argument of any subcommand is left without a help text."""
    from ganzoo.cli import build_parser

    assert list(_options_without_help(build_parser())) == []


def test_eval_help_says_what_a_suite_and_the_inception_weights_are(capsys):
    """`ganzoo eval --help` names the suites and where the Inception weights come from."""
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "a suite name (default: all metrics" in text and "smoke" in text
    assert "InceptionV3 weights" in text and "torch hub cache" in text


def test_the_version_is_written_once_in_pyproject():
    """ganzoo.__version__ (and so `ganzoo --version`) is the installed distribution's version,
    which only pyproject.toml declares."""
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["version"]
    assert ganzoo.__version__ == declared
    assert "pytest" not in " ".join(tomllib.loads(pyproject.read_text())["project"]["dependencies"])


def test_a_reader_that_leaves_early_is_not_an_error(monkeypatch):
    """`ganzoo metrics | head -1`: when the pipe's reader has gone, the listing stops quietly
    with status 0 instead of a BrokenPipeError traceback."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    stdout = os.fdopen(write_end, "w", buffering=1)
    monkeypatch.setattr("sys.stdout", stdout)
    try:
        assert main(["metrics"]) == 0
    finally:
        stdout.close()
