"""``ganzoo activations plot -o``: the figure is written whole or not at all, with one line
saying why not."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from ganzoo.cli import main


def test_a_suffix_matplotlib_cannot_write_is_refused(tmp_path, capsys):
    """-o curves.txt: one line listing the image formats, and no file."""
    out = tmp_path / "curves.txt"
    assert main(["activations", "plot", "relu", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert ".png" in err and str(out) in err and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("problem", ["full disk", "unwritable"])
def test_a_failed_write_leaves_no_empty_png(tmp_path, monkeypatch, capsys, problem):
    """A full disk (simulated ENOSPC after savefig opened its file) or a path under a regular
    file: exit 2, one line with the reason, and no 0-byte PNG left where the figure was to go."""
    out = tmp_path / "curves.png"
    if problem == "full disk":

        def full_disk(self, path, **kwargs):
            Path(path).write_bytes(b"")
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(Figure, "savefig", full_disk)
        reason = "No space left on device"
    else:
        (tmp_path / "blocker").write_text("a file")
        out = tmp_path / "blocker" / "curves.png"
        reason = "blocker is a file, not a folder"
    assert main(["activations", "plot", "relu", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.suffix != ""] == []


def test_the_figure_is_written_as_a_png(tmp_path, capsys):
    """The ordinary case still writes a real PNG and prints its path."""
    out = tmp_path / "sub" / "curves.png"
    assert main(["activations", "plot", "relu", "elu", "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["psf", "--alpha", "1", "nan"], ["--alpha", "finite", "nan"]),
        (["psf", "--alpha", "inf"], ["--alpha", "finite", "inf"]),
        (["relu", "--xmin", "nan"], ["--xmin", "finite", "nan"]),
        (["relu", "--xmax=-inf"], ["--xmax", "finite", "-inf"]),
    ],
)
def test_a_non_finite_alpha_or_range_is_refused_not_drawn_empty(tmp_path, capsys, args, words):
    """--alpha nan (or inf, or a non-finite x bound) once drew an empty curve without a word:
    now exit 2, one line naming the option and the value, and no figure."""
    out = tmp_path / "curves.png"
    assert main(["activations", "plot", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert not out.exists()


NAN_ACTIVATION = """
import torch
from torch import nn

class AlwaysNan(nn.Module):
    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x / self.alpha * 0.0  # 0/0 = nan at alpha = 0
"""


def test_a_curve_with_no_finite_point_is_refused(install_plugin, tmp_path, capsys):
    """An activation that is nan everywhere at alpha=0 is named with its alpha, not drawn as
    an empty line; the same activation at alpha=1 draws."""
    install_plugin(
        "ganzoo-nan",
        "ganzoo_nan_fixture",
        NAN_ACTIVATION,
        {"ganzoo.activations": {"always_nan": "ganzoo_nan_fixture:AlwaysNan"}},
    )
    out = tmp_path / "curves.png"
    assert main(["activations", "plot", "always_nan", "--alpha", "1", "0", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "always_nan (alpha=0) has no finite value" in err and not out.exists()
    assert main(["activations", "plot", "always_nan", "--alpha", "1", "-o", str(out)]) == 0
    assert out.exists()
