"""A metric from a package ganzoo has never seen (entry-point group ``ganzoo.metrics``) is
listed by ``ganzoo metrics``, computed by ``ganzoo eval`` and during training, and ranked by the
leaderboard in the direction it declares, with no edit to ganzoo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from evaluation import metric_direction
from ganzoo.cli import main
from ganzoo.engine.runlog import read_eval_curve
from ganzoo.leaderboard.board import build_board
from ganzoo.leaderboard.runner import OK
from ganzoo.leaderboard.tasks import Metric, Task
from ganzoo.runs import load_checkpoint

# Two metrics on the images themselves: the gap between the mean pixel of the generated and of
# the reference images (better lower), and the generated images' mean pixel (better higher).
PIXEL_SOURCE = """
from evaluation.metrics import Metric, ResultKey


def _gap(inputs):
    gap = abs(inputs.images.float().mean() - inputs.reference_images.float().mean()) / 255
    return {"pixel_gap": float(gap)}, {"pixel_gap_note": "mean pixel difference / 255"}


def _brightness(inputs):
    return {"brightness": float(inputs.images.float().mean() / 255)}, {}


PIXEL_GAP = Metric("images", (ResultKey("pixel_gap", "lower"),), _gap, "mean pixel gap")
BRIGHTNESS = Metric("images", (ResultKey("brightness", "higher"),), _brightness, "mean pixel")
"""


@pytest.fixture
def pixel_metrics(install_plugin):
    install_plugin(
        "ganzoo-pixels",
        "ganzoo_pixels_fixture",
        PIXEL_SOURCE,
        {
            "ganzoo.metrics": {
                "pixel_gap": "ganzoo_pixels_fixture:PIXEL_GAP",
                "brightness": "ganzoo_pixels_fixture:BRIGHTNESS",
            }
        },
    )


def _suite(path: Path, metrics: list[str], **extra: str) -> Path:
    suite = {"metrics": metrics, "num_samples": 20, "batch_size": 10, **extra}
    path.write_text(yaml.safe_dump(suite))
    return path


def _save_images(images: torch.Tensor, folder: Path) -> None:
    from torchvision.utils import save_image

    folder.mkdir()
    for i, image in enumerate(images):
        save_image(image.float() / 255, folder / f"{i}.png")


def test_ganzoo_metrics_lists_the_plugin_with_its_inputs_and_direction(pixel_metrics, capsys):
    """`ganzoo metrics` shows the plugin's metrics, their distribution, inputs and directions."""
    assert main(["metrics"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("pixel_gap"))
    assert "ganzoo-pixels 1.2.3" in line and "images" in line and "pixel_gap (lower)" in line
    assert "brightness (higher)" in out and "fid (lower)" in out
    assert metric_direction("pixel_gap") == "lower" and metric_direction("brightness") == "higher"


def test_ganzoo_eval_computes_the_plugin_metric(pixel_metrics, tmp_path, capsys):
    """`ganzoo eval --images` with a suite naming the plugin's metrics: the JSON and the table
    hold their values (the generated folder is twice as bright as the reference)."""
    dark = torch.full((20, 1, 8, 8), 50, dtype=torch.uint8)
    _save_images(dark, tmp_path / "reference")
    _save_images(dark * 2, tmp_path / "generated")
    suite = _suite(tmp_path / "pixels.yaml", ["pixel_gap", "brightness"])
    out = tmp_path / "scores.json"
    argv = ["eval", "--images", str(tmp_path / "generated"), "--reference"]
    argv += [str(tmp_path / "reference"), "--suite", str(suite), "--out", str(out)]
    assert main(argv) == 0
    results = json.loads(out.read_text())
    assert results["pixel_gap"] == pytest.approx(50 / 255, abs=1e-3)
    assert results["brightness"] == pytest.approx(100 / 255, abs=1e-3)
    assert results["protocol"]["pixel_gap_note"] == "mean pixel difference / 255"
    assert "pixel_gap" in capsys.readouterr().out


def _board_ranked_by(metric: str, values: dict[str, float]) -> list[str]:
    """The leaderboard's order of activations on a one-task board ranked by ``metric``."""
    task = Task(
        "pixels", 1, "a task scored by a plugin metric", 10, (10,), (Metric(metric, metric),), None
    )
    records = {
        ("pixels", label, 0): {"status": OK, "curve": [{"iteration": 10, metric: value}]}
        for label, value in values.items()
    }
    board = build_board([task], list(values), [0], records, "relu", "test")
    return [row["activation"] for row in board["per_task"]["pixels"]["rows"]]


def test_the_leaderboard_ranks_by_the_plugins_declared_direction(pixel_metrics):
    """The same numbers rank in opposite orders under a lower-is-better and a higher-is-better
    plugin metric: the leaderboard took each direction from the registry."""
    values = {"relu": 0.1, "tanh": 0.3, "elu": 0.2}
    assert _board_ranked_by("pixel_gap", values) == ["relu", "elu", "tanh"]
    assert _board_ranked_by("brightness", values) == ["tanh", "elu", "relu"]


@pytest.mark.usefixtures("one_thread")
def test_a_training_run_records_the_plugin_metric_and_keeps_its_best_checkpoint(
    pixel_metrics, tmp_path
):
    """Periodic evaluation with a suite whose headline is a plugin's metric writes its numbers
    to metrics.jsonl (the curve the leaderboard ranks) and keeps best_brightness.pt at the
    evaluation with the highest brightness (better higher, as the plugin declares)."""
    suite = _suite(tmp_path / "pixels.yaml", ["pixel_gap", "brightness"], headline="brightness")
    config = {
        "data": {"name": "mnist5k", "image_size": 28, "limit": 64},
        "train": {"batch_size": 16, "iterations": 4, "progress": False, "log_every": 2},
        "generator": {"width": 4, "latent_dim": 8},
        "discriminator": {"width": 4},
        "eval": {"every": 2, "suite": str(suite)},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["train", str(path), "--out", str(tmp_path / "runs")]) == 0
    (run_dir,) = (tmp_path / "runs" / "tiny").iterdir()
    curve = read_eval_curve(run_dir / "metrics.jsonl")
    assert [point["iteration"] for point in curve] == [2, 4]
    assert all(0 <= point["pixel_gap"] <= 1 for point in curve)
    brightest = max(curve, key=lambda point: point["brightness"])["iteration"]
    best = load_checkpoint(run_dir / "checkpoints" / "best_brightness.pt")
    assert best["trainer"]["iteration"] == brightest
