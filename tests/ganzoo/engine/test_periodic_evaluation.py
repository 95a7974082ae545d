"""Periodic evaluation during training: results logged, best-by-FID checkpoint, collapse flag.

The evaluator is replaced by a scripted one (the evaluation module's own tests cover the real
metrics), so these tests check the trainer's bookkeeping with known values quickly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

import ganzoo
from evaluation import load_suite
from ganzoo.engine.handlers import evaluation as periodic
from ganzoo.runs import load_checkpoint

# FID is lowest at the 2nd evaluation; coverage collapses from the 3rd on.
SCRIPT = [
    {"fid": 300.0, "coverage": 0.50, "recall": 0.40},
    {"fid": 200.0, "coverage": 0.60, "recall": 0.45},
    {"fid": 250.0, "coverage": 0.20, "recall": 0.40},
    {"fid": 260.0, "coverage": 0.10, "recall": 0.40},
]


class ScriptedEvaluator:
    """Returns the next scripted result and checks it is given a sampler of real images."""

    def __init__(self) -> None:
        self.calls = 0
        self.suite = load_suite("smoke")  # its headline, FID, picks the best checkpoint

    def evaluate(self, sample):
        images = sample(4)
        assert images.dtype == torch.uint8 and images.shape == (4, 1, 28, 28)
        result = {**SCRIPT[self.calls], "protocol": {"suite": "scripted"}}
        self.calls += 1
        return result


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(
        periodic, "build_evaluator", lambda config, device, rank=0, **_: ScriptedEvaluator()
    )
    config = {
        "data": {"name": "mnist5k", "image_size": 28, "limit": 64},
        "train": {
            "batch_size": 32,
            "iterations": 8,
            "checkpoint_every": 4,
            "log_every": 2,
            "progress": False,
        },
        "generator": {"width": 8, "latent_dim": 16},
        "discriminator": {"width": 8},
        "eval": {"every": 2},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    result = ganzoo.train(path, out=tmp_path / "runs")
    assert result.status == "finished"
    return result.run_dir


def test_results_best_checkpoint_and_collapse(run_dir: Path):
    """Each evaluation lands in metrics.jsonl at its iteration; best_fid.pt is the generator of
    iteration 4 (FID 200, the lowest); coverage falling 67% from its peak for two evaluations in
    a row is flagged once, at iteration 6."""
    lines = [json.loads(t) for t in (run_dir / "metrics.jsonl").read_text().splitlines()]
    evals = [(line["iteration"], line["eval"]["fid"]) for line in lines if "eval" in line]
    assert evals == [(2, 300.0), (4, 200.0), (6, 250.0), (8, 260.0)]
    best = load_checkpoint(run_dir / "checkpoints" / "best_fid.pt")
    assert best["trainer"]["iteration"] == 4
    collapses = [line["collapse"] for line in lines if "collapse" in line]
    assert len(collapses) == 1
    assert collapses[0]["iteration"] == 6
    assert collapses[0]["events"][0]["metric"] == "coverage"
    assert collapses[0]["events"][0]["peak_iteration"] == 4


def test_evaluation_scalars_reach_tensorboard(run_dir: Path):
    """eval/fid and eval/collapse are TensorBoard scalar series with the scripted values."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tb"))
    events.Reload()
    fid = [(e.step, e.value) for e in events.Scalars("eval/fid")]
    assert fid == [(2, 300.0), (4, 200.0), (6, 250.0), (8, 260.0)]
    collapse = [e.value for e in events.Scalars("eval/collapse")]
    assert collapse == [0.0, 0.0, 0.0, 1.0] or collapse == [0.0, 0.0, 1.0, 1.0]
    assert "train/loss_d" in events.Tags()["scalars"]


def write_idx(path: Path, array) -> None:
    """An MNIST IDX file (unsigned bytes, big-endian dimensions), as MNIST ships it."""
    import numpy as np

    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.tobytes())


def test_full_mnist_trains_its_own_digit_classifier(tmp_path: Path):
    """With the run's data `mnist` present, modes are counted by a classifier trained on it and
    tested on its official test split (here: real mnist5k digits written as MNIST files);
    mnist5k runs and a missing MNIST fall back to the default (None)."""
    from types import SimpleNamespace

    from ganzoo.data import build_dataset

    digits = build_dataset("mnist5k")
    images, labels = digits.images, digits.labels
    order = torch.arange(len(images)).reshape(10, 500)  # mnist5k is sorted by class
    train, test = order[:, :100].reshape(-1), order[:, 100:150].reshape(-1)
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, index in (("train", train), ("t10k", test)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images[index, 0].numpy())
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels[index].numpy())

    data = SimpleNamespace(name="mnist", root=str(tmp_path / "data"))
    model, accuracy, name = periodic.digit_classifier_for(data, tmp_path / "cache")
    assert name == "mnist" and accuracy > 0.8  # 1,000 training digits, 500 held out
    assert periodic.digit_classifier_for(SimpleNamespace(name="mnist5k", root="x")) is None
    missing = SimpleNamespace(name="mnist", root=str(tmp_path / "nowhere"))
    assert periodic.digit_classifier_for(missing, tmp_path / "cache") is None
