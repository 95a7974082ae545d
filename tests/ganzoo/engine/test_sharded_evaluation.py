"""Evaluation shared by the processes of a distributed run: each extracts features for its own
block of images, rank 0 scores the gathered set, and the result equals one process's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import ganzoo
from evaluation import Evaluator
from ganzoo.architectures import get_architecture
from ganzoo.engine.handlers.evaluation import build_evaluator
from ganzoo.engine.sharded_evaluation import evaluate_across_ranks, share_of_rows
from ganzoo.sampling import load_generator, make_sampler

SUITE = {
    "metrics": ["fid", "kid", "prdc"],
    "num_samples": 45,  # odd: the second block wraps round to row 0
    "reference_num_samples": 37,
    "kid_subset_size": 20,
    "kid_subsets": 10,
    "batch_size": 8,
}
REFERENCE_SEED = 5


class PixelFeatures:
    """A cheap, deterministic stand-in for Inception: pooled pixels times a fixed matrix.
    Counts the images it sees, per process, in a file (spawned processes share no memory)."""

    extractor_id = "pixel-test"

    def __init__(self, log: Path | None = None) -> None:
        self.log = log
        self.projection = torch.randn(49, 12, generator=torch.Generator().manual_seed(0))

    def describe(self) -> dict[str, str]:
        return {"extractor": self.extractor_id}

    def __call__(self, images: torch.Tensor) -> np.ndarray:
        if self.log is not None:
            with self.log.open("a") as handle:
                handle.write(f"{len(images)}\n")
        pooled = torch.nn.functional.avg_pool2d(images.float() / 255, 4).flatten(1)
        return (pooled.double() @ self.projection.double()).numpy()


def tiny_generator() -> torch.nn.Module:
    torch.manual_seed(0)
    return get_architecture("dcgan").generator(
        data_shape=(1, 28, 28), width=8, latent_dim=16, activation="elu"
    )


def reference_images() -> torch.Tensor:
    return torch.randint(
        0, 256, (37, 1, 28, 28), generator=torch.Generator().manual_seed(REFERENCE_SEED)
    ).to(torch.uint8)


def make_evaluator(suite_path: Path, cache: Path, log: Path | None = None) -> Evaluator:
    return Evaluator(
        suite_path, reference_images(), reference_name="noise", cache_dir=cache,
        extractor=PixelFeatures(log),
    )  # fmt: skip


def worker(local_rank: int, suite_path: Path, cache: Path, out: Path) -> None:
    """Two evaluations in a row (the second finds the reference features cached on rank 0)."""
    import ignite.distributed as idist

    rank = idist.get_rank()
    evaluator = make_evaluator(suite_path, cache, out / f"extracted-{rank}.txt")
    generator = tiny_generator()
    for attempt in range(2):
        results = evaluate_across_ranks(evaluator, generator, seed=7, device="cpu")
        if rank == 0:
            (out / f"results-{attempt}.json").write_text(
                json.dumps({k: v for k, v in results.items() if k != "protocol"})
            )
        else:
            assert results is None


def test_blocks_cover_every_row_once_in_rank_order():
    """share_of_rows gives equal blocks whose concatenation, cut to the total, is 0..total-1;
    blocks past the end wrap round."""
    for total, world in [(45, 2), (10, 4), (3, 4), (8, 8)]:
        blocks = [share_of_rows(total, rank, world) for rank in range(world)]
        assert len({len(b) for b in blocks}) == 1
        assert torch.equal(torch.cat(blocks)[:total], torch.arange(total))
    assert share_of_rows(3, 3, 4).tolist() == [0]


def test_two_processes_score_what_one_process_scores(tmp_path: Path, monkeypatch):
    """Two gloo processes evaluate the same generator: rank 0's FID, KID and PRDC equal one
    process's to 1e-9. The first evaluation extracts the reference too, each process 19 of the
    37 images and 23 of the 45 samples; the second, the reference being cached, only samples."""
    import ignite.distributed as idist

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    suite_path = tmp_path / "suite.yaml"
    suite_path.write_text(yaml.safe_dump(SUITE))
    out = tmp_path / "out"
    out.mkdir()
    with idist.Parallel(backend="gloo", nproc_per_node=2) as parallel:
        parallel.run(worker, suite_path, tmp_path / "cache", out)

    single = make_evaluator(suite_path, tmp_path / "single-cache").evaluate(
        make_sampler(tiny_generator(), seed=7)
    )
    for attempt in range(2):
        shared = json.loads((out / f"results-{attempt}.json").read_text())
        for key in ("fid", "kid_mean", "precision", "recall", "density", "coverage"):
            assert shared[key] == pytest.approx(single[key], rel=1e-9, abs=1e-12), key
    assert single["fid"] > 1.0  # an untrained generator against noise images: far apart
    for rank in range(2):
        counts = [int(n) for n in (out / f"extracted-{rank}.txt").read_text().split()]
        assert counts == [19, 23, 23], (rank, counts)


def test_a_two_process_run_logs_the_evaluation_one_process_gives(
    tmp_path: Path, request, monkeypatch
):
    """`ganzoo train --nproc-per-node 2` with eval.every: one result line per evaluation
    (rank 0's), and the last one equals a single-process evaluation of the final checkpoint
    (digit modes of 61 samples, counted by the mnist5k classifier)."""
    monkeypatch.setenv("GANZOO_EVAL_CACHE", str(request.config.cache.mkdir("ganzoo-evaluation")))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    suite = tmp_path / "modes.yaml"
    suite.write_text(yaml.safe_dump({"metrics": ["modes"], "num_samples": 61, "batch_size": 16}))
    config = {
        "data": {"name": "mnist5k", "image_size": 28, "limit": 256},
        "train": {"batch_size": 32, "iterations": 4, "checkpoint_every": 4, "progress": False},
        "generator": {"width": 8, "latent_dim": 16},
        "discriminator": {"width": 8},
        "eval": {"every": 2, "suite": str(suite)},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "runs"
    result = ganzoo.train(path, nproc_per_node=2, out=out)
    assert result.status == "finished"
    run_dir = result.run_dir
    lines = [json.loads(t) for t in (run_dir / "metrics.jsonl").read_text().splitlines()]
    evals = [line for line in lines if "eval" in line]
    assert [line["iteration"] for line in evals] == [2, 4]
    assert evals[-1]["protocol"]["num_generated"] == 61
    assert result.metrics == evals[-1]["eval"]  # rank 0's result came back to this process

    loaded = load_generator(run_dir)
    assert loaded.iteration == 4
    single = build_evaluator(loaded.config, "cpu").evaluate(
        make_sampler(loaded.generator, seed=loaded.config.seed)
    )
    assert evals[-1]["eval"]["modes_covered"] == single["modes_covered"]
    assert evals[-1]["eval"]["mode_kl"] == pytest.approx(single["mode_kl"], abs=1e-12)
