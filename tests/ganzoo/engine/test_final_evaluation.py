"""The declared final protocol: scored at the end of training and at declared points against
the whole training set, named in every record, and reproducible after the fact with
``ganzoo eval RUN --suite final``.

Inception is replaced by a cheap deterministic feature map (the evaluation module's own tests
cover the real network), so a tiny run checks the bookkeeping and the numbers quickly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from evaluation.fid import fid_from_features
from ganzoo.cli import main

SUITE = {
    "metrics": ["fid", "kid", "prdc"],
    "num_samples": 20,
    "reference_whole_set": True,
    "kid_subset_size": 10,
    "kid_subsets": 5,
    "batch_size": 8,
}
TRAINING_IMAGES = 64  # data.limit: the whole training set the GAN sees


class PixelInception:
    """Stands in for evaluation.features.InceptionFeatures: pooled pixels times a fixed
    matrix, with the description a real extractor gives."""

    extractor_id = "pixel-test"

    def __init__(self, *args, **kwargs) -> None:
        self.projection = torch.randn(49, 12, generator=torch.Generator().manual_seed(0))

    def describe(self) -> dict[str, str]:
        return {"feature_extractor": "pixels", "weights_source": "test", "weights_sha1": "0" * 40}

    def __call__(self, images: torch.Tensor) -> np.ndarray:
        pooled = torch.nn.functional.avg_pool2d(images.float() / 255, 4).flatten(1)
        return (pooled.double() @ self.projection.double()).numpy()


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import evaluation.features

    monkeypatch.setattr(evaluation.features, "InceptionFeatures", PixelInception)
    monkeypatch.setenv("GANZOO_EVAL_CACHE", str(tmp_path / "cache"))
    suite = tmp_path / "tiny_final.yaml"
    suite.write_text(yaml.safe_dump(SUITE))
    config = {
        "data": {"name": "mnist5k", "image_size": 28, "limit": TRAINING_IMAGES},
        "train": {"batch_size": 32, "iterations": 8, "checkpoint_every": 4, "progress": False},
        "generator": {"width": 8, "latent_dim": 16},
        "discriminator": {"width": 8},
        "eval": {"final": {"enabled": True, "suite": str(suite), "at": [4]}},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["train", str(path), "--out", str(tmp_path / "runs")]) == 0
    (found,) = (tmp_path / "runs" / "tiny").iterdir()
    return found


def test_final_protocol_is_scored_at_the_end_and_declared_points(run_dir: Path):
    """metrics.jsonl holds a final record at the declared iteration 4 and at the end (8), each
    naming its counts (20 generated vs all 64 training images), the whole-set reference and
    the weights; eval/final.json holds the end's full result, eval/final-4.json the other."""
    lines = [json.loads(t) for t in (run_dir / "metrics.jsonl").read_text().splitlines()]
    finals = [line for line in lines if "final" in line]
    assert [line["iteration"] for line in finals] == [4, 8]
    protocol = finals[-1]["protocol"]
    assert protocol["num_generated"] == 20 and protocol["num_reference"] == TRAINING_IMAGES
    assert protocol["reference_whole_set"] is True and protocol["weights_source"] == "test"
    result = json.loads((run_dir / "eval" / "final.json").read_text())
    assert result["iteration"] == 8 and result["fid"] == finals[-1]["final"]["fid"]
    assert json.loads((run_dir / "eval" / "final-4.json").read_text())["iteration"] == 4


def test_final_fid_is_the_generators_fid_against_the_training_set(run_dir: Path):
    """The recorded FID equals one computed here from scratch: the final generator's first 20
    images (the run's seed) against all 64 training images, through the same feature map."""
    from ganzoo.data import load_images
    from ganzoo.sampling import load_generator, make_sampler

    loaded = load_generator(run_dir)
    assert loaded.iteration == 8
    generated = make_sampler(loaded.generator, seed=loaded.config.seed)(20)
    reference = load_images("mnist5k", "data", TRAINING_IMAGES, image_size=28)
    features = PixelInception()
    expected = fid_from_features(features(generated), features(reference))
    recorded = json.loads((run_dir / "eval" / "final.json").read_text())["fid"]
    assert recorded == pytest.approx(expected, rel=1e-9)


def test_a_finished_run_is_scored_after_the_fact_to_the_same_numbers(run_dir: Path, capsys):
    """`ganzoo eval RUN --suite FINAL_SUITE` on the final checkpoint writes eval/<suite>.json
    with the numbers training recorded (same generator, noise seed and whole-set reference),
    and the report's loader reads it as that suite's results, not as a training line."""
    from ganzoo.report import load_run, run_summary

    suite = run_dir.parents[2] / "tiny_final.yaml"
    assert main(["eval", str(run_dir), "--suite", str(suite)]) == 0
    after = json.loads((run_dir / "eval" / "tiny_final.json").read_text())
    during = json.loads((run_dir / "eval" / "final.json").read_text())
    for key in ("fid", "kid_mean", "precision", "recall", "density", "coverage"):
        assert after[key] == pytest.approx(during[key], rel=1e-9), key
    assert after["protocol"]["num_reference"] == TRAINING_IMAGES
    summary = run_summary(load_run(run_dir))
    assert summary["fid (eval final)"] == pytest.approx(during["fid"])
    assert summary["last logged iteration"] == 8
