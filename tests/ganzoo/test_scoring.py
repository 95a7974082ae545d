"""``ganzoo.evaluate`` and ``ganzoo eval RUN_DIR --repeat N``: repeat 0 is the single evaluation,
later repeats draw fresh generator noise and fresh reference subsets, and the summary's mean and
std are those of the repeats' values (std undefined, not 0, for one value).

A 16-number pooled-pixel feature stands in for Inception, so FID and PRDC are computed for real
on a tiny trained run within seconds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import ganzoo
from ganzoo.cli import main
from ganzoo.cli.eval import format_table
from ganzoo.errors import ConfigError
from ganzoo.scoring import summarize_repeats

pytestmark = pytest.mark.usefixtures("one_thread")


class PooledPixels:
    """A stand-in feature extractor: each image averaged into a 4 x 4 grid (16 features)."""

    extractor_id = "pooled-pixels-4x4"

    def describe(self) -> dict[str, str]:
        return {"features": self.extractor_id}

    def __call__(self, images, value_range=(-1.0, 1.0)) -> np.ndarray:
        x = torch.as_tensor(images).float().mean(dim=1, keepdim=True)
        pooled = torch.nn.functional.adaptive_avg_pool2d(x, 4)
        return pooled.reshape(len(x), -1).double().numpy()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A tiny mnist5k run (256 images), trained 2 iterations."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    config = {
        "name": "tiny",
        "data": {"name": "mnist5k", "image_size": 28, "limit": 256},
        "train": {"batch_size": 32, "iterations": 2, "sample_every": 1000, "progress": False},
        "generator": {"width": 8, "latent_dim": 16},
        "discriminator": {"width": 8},
    }
    result = ganzoo.train(config, out=tmp_path_factory.mktemp("scoring") / "runs")
    torch.set_num_threads(before)
    assert result.status == "finished"
    return result.run_dir


@pytest.fixture
def suite(tmp_path) -> Path:
    path = tmp_path / "tiny_suite.yaml"
    path.write_text("metrics: [fid, prdc]\nnum_samples: 40\nreference_num_samples: 40\n")
    return path


def score(run_dir: Path, suite: Path, tmp_path: Path, **kwargs) -> dict:
    return ganzoo.evaluate(
        run_dir, suite=str(suite), extractor=PooledPixels(), cache_dir=tmp_path, **kwargs
    )


def test_repeats_summarise_fresh_draws_and_repeat_0_is_the_single_evaluation(
    run_dir, suite, tmp_path
):
    """Three repeats: the FIDs differ (fresh noise and reference subsets), the first equals a
    plain evaluation's FID, and mean/std are numpy's mean and sample std of the three."""
    single = score(run_dir, suite, tmp_path)
    repeated = score(run_dir, suite, tmp_path, repeat=3)
    fids = repeated["repeat"]["values"]["fid"]
    assert len(fids) == 3 and len(set(fids)) == 3
    assert fids[0] == pytest.approx(single["fid"], rel=1e-12)
    assert repeated["fid"] == pytest.approx(np.mean(fids), rel=1e-12)
    assert repeated["repeat"]["std"]["fid"] == pytest.approx(np.std(fids, ddof=1), rel=1e-9)
    assert repeated["repeat"]["count"] == 3
    protocol = repeated["protocol"]["repeat"]
    assert protocol["noise_seeds"] == [0, 1, 2]
    assert protocol["reference"] == "a fresh subset each repeat"  # 40 of 256 images


def test_a_reference_that_is_the_whole_set_stays_the_same(run_dir, tmp_path):
    """With as many reference images as the data holds (256), every repeat scores against the
    same reference: only the generator's noise changes, and the protocol says so."""
    path = tmp_path / "whole.yaml"
    path.write_text("metrics: [fid]\nnum_samples: 40\nreference_num_samples: 300\n")
    repeated = score(run_dir, path, tmp_path, repeat=2)
    assert repeated["protocol"]["repeat"]["reference"] == "the same each repeat"
    assert repeated["protocol"]["num_reference"] == 256
    assert len(set(repeated["repeat"]["values"]["fid"])) == 2


def test_summary_of_known_values_and_of_one_finite_value():
    """Values 10, 12, 14: mean 12, std 2. A metric finite in only one repeat has std None (not
    0.0), and the table says n/a for it."""
    runs = [
        {"fid": 10.0, "recall": 0.5, "protocol": {"suite": "s"}},
        {"fid": 12.0, "recall": math.nan, "protocol": {"suite": "s"}},
        {"fid": 14.0, "recall": math.nan, "protocol": {"suite": "s"}},
    ]
    summary = summarize_repeats(runs, [0, 1, 2], reference_varies=False)
    assert summary["fid"] == 12.0 and summary["repeat"]["std"]["fid"] == pytest.approx(2.0)
    assert summary["recall"] == 0.5 and summary["repeat"]["std"]["recall"] is None
    table = format_table(summary)
    assert "12.0000 ± 2.0000" in table and "0.5000 ± n/a" in table
    assert "repeats" in table and "noise seeds 0..2" in table


def test_bad_repeat_counts_are_refused(run_dir, suite, tmp_path):
    """repeat 0 (or a float) is a ConfigError before anything is scored."""
    for bad in (0, -2, 1.5):
        with pytest.raises(ConfigError, match="repeat"):
            score(run_dir, suite, tmp_path, repeat=bad)


class ScriptedEvaluator:
    """Stands in for evaluation.Evaluator in the CLI test: FID 10, 12, 14 on successive calls,
    and it checks that each repeat samples the generator with its own noise."""

    calls = 0
    first_images: list = []

    def __init__(self, *args, **kwargs) -> None:
        self.extractor = None

    def evaluate(self, sample, **kwargs):
        ScriptedEvaluator.first_images.append(sample(2))
        fid = 10.0 + 2 * ScriptedEvaluator.calls
        ScriptedEvaluator.calls += 1
        return {"fid": fid, "protocol": {"suite": "tiny_suite"}}


def test_cli_repeat_prints_mean_and_std_and_writes_its_own_file(
    run_dir, suite, monkeypatch, capsys
):
    """`ganzoo eval RUN --repeat 3` prints FID 12.0000 ± 2.0000, writes
    eval/tiny_suite.repeat3.json (not the single evaluation's file), and each repeat drew
    different images."""
    import evaluation

    ScriptedEvaluator.calls, ScriptedEvaluator.first_images = 0, []
    monkeypatch.setattr(evaluation, "Evaluator", ScriptedEvaluator)
    assert main(["eval", str(run_dir), "--suite", str(suite), "--repeat", "3"]) == 0
    printed = capsys.readouterr().out
    assert "12.0000 ± 2.0000" in printed and ", 3 times" in printed
    out = Path(printed.strip().splitlines()[-1])
    assert out == run_dir / "eval" / "tiny_suite.repeat3.json"
    data = json.loads(out.read_text())
    assert data["repeat"]["values"]["fid"] == [10.0, 12.0, 14.0]
    first, second, third = ScriptedEvaluator.first_images
    assert not torch.equal(first, second) and not torch.equal(second, third)


@pytest.mark.parametrize(
    ("extra", "words"),
    [(["--repeat", "0"], "--repeat must be 1 or more"), (["--repeat", "2"], "needs a run")],
)
def test_cli_refuses_bad_repeat(tmp_path, capsys, extra, words):
    """--repeat 0, and --repeat with a folder of images (nothing to re-draw): exit 2, one line."""
    (tmp_path / "gen").mkdir()
    argv = ["eval", "--images", str(tmp_path / "gen"), "--reference", "mnist5k", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
