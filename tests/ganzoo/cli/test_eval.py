"""``ganzoo eval``'s own checks, without Inception: the output path is tested before the work,
scores computed are printed even when saving them fails, --device and --reference are checked
like ``train.device`` and datasets are, and the table says what it scored."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch

import evaluation
from evaluation.images import save_image_folder
from ganzoo.cli import main
from ganzoo.cli.eval import _fmt, format_table


class FakeEvaluator:
    """Stands in for evaluation.Evaluator: fixed scores, and a count of evaluations."""

    evaluated = 0

    def __init__(self, *args, **kwargs) -> None:
        pass

    def evaluate(self, images):
        FakeEvaluator.evaluated += 1
        return {"fid": 12.3456, "kid_mean": -0.00001, "protocol": {"suite": "smoke"}}


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    images = torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8)
    save_image_folder(images, tmp_path / "gen")
    save_image_folder(images, tmp_path / "ref")
    FakeEvaluator.evaluated = 0
    monkeypatch.setattr(evaluation, "Evaluator", FakeEvaluator)
    return tmp_path


def eval_args(folders: Path, *extra: str) -> list[str]:
    return ["eval", "--images", str(folders / "gen"), "--reference", str(folders / "ref"), *extra]


def test_an_unusable_out_is_refused_before_any_scoring(folders, capsys):
    """--out naming a directory, or a place under a regular file, is one line (exit 2) before
    the evaluation starts, not a traceback after minutes of scoring."""
    (folders / "blocker").write_text("a file")
    for out, words in [
        (folders / "gen", "is a directory"),
        (folders / "blocker" / "scores.json", "blocker is a file, not a folder"),
    ]:
        assert main(eval_args(folders, "--out", str(out))) == 2
        err = capsys.readouterr().err
        assert words in err and str(out) in err and "Traceback" not in err
        assert err.count("\n") == 1
    assert FakeEvaluator.evaluated == 0


def test_a_full_disk_at_the_end_prints_the_scores_then_one_error(folders, monkeypatch, capsys):
    """Writing the JSON fails with ENOSPC after the scoring: the table is printed first, then
    one line says the results were not saved; no partial file is left."""

    def full_disk(results, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(evaluation, "write_results_json", full_disk)
    out = folders / "scores.json"
    assert main(eval_args(folders, "--out", str(out))) == 2
    captured = capsys.readouterr()
    assert "12.3456" in captured.out  # the scores survive
    assert "not saved" in captured.err and "No space left" in captured.err
    assert captured.err.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize(
    ("device", "words"),
    [
        ("banana", "must be auto, cpu, cuda"),
        ("cuda", "CUDA is not available"),
        ("cuda:x", "cuda:N"),
    ],
)
def test_bad_devices_are_refused_like_train_device(folders, monkeypatch, capsys, device, words):
    """--device banana, or cuda on a machine without CUDA, is one line before any work."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(eval_args(folders, "--device", device)) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert FakeEvaluator.evaluated == 0


def test_a_missing_reference_folder_is_not_called_an_unknown_dataset(folders, capsys):
    """--reference /missing/dir says the folder does not exist; a file says it is a file."""
    missing = folders / "no" / "such"
    argv = ["eval", "--images", str(folders / "gen"), "--reference", str(missing)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and str(missing) in err and "dataset" in err
    (folders / "afile").write_text("x")
    assert main(["eval", "--images", str(folders / "gen"), "--reference", str(folders / "afile")])
    assert "is a file" in capsys.readouterr().err


def test_the_table_names_the_checkpoint_and_prints_negative_zero_as_zero():
    """-0.0000 is printed as 0.0000 (a tiny negative KID is zero at this precision); the
    checkpoint and its iteration are a row; a clamped KID subset's note is a row."""
    assert _fmt(-0.00001) == "0.0000" and _fmt(-0.5) == "-0.5000" and _fmt(0.0) == "0.0000"
    table = format_table(
        {
            "kid_mean": -0.00002,
            "protocol": {
                "generated": {"checkpoint": "runs/x/1/checkpoints/checkpoint_7.pt", "iteration": 7},
                "kid_note": "KID subset size 1000 is larger than the samples (20 and 20)",
            },
        }
    )
    assert "kid_mean    0.0000" in table
    assert "checkpoint_7.pt (iteration 7)" in table and "KID subset size 1000" in table
