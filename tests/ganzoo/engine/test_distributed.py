"""Training on several processes (torch.distributed through ignite.distributed, gloo on the CPU)
and resuming its checkpoint on one process; the sharding of data and noise between ranks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from torch import nn
from torch.utils.data import BatchSampler, RandomSampler

import ganzoo
from ganzoo.cli import main
from ganzoo.engine.step import GANStep
from ganzoo.engine.trainer import ShardedBatchSampler
from ganzoo.losses import get_loss
from ganzoo.runs import list_checkpoints, load_checkpoint


def test_two_gloo_processes_then_resume_on_one(tmp_path, tiny_config, capfd, monkeypatch):
    """`--nproc-per-node 2` trains 4 iterations with a global batch of 32 (16 per process, said
    in the log); only rank 0 writes (one metrics line per iteration); the checkpoint holds plain
    module weights (no DDP 'module.' prefix) and resumes on one process to iteration 6."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "runs"
    config = tiny_config(iterations=4, checkpoint_every=2)
    result = ganzoo.train(config, nproc_per_node=2, out=out)
    captured = capfd.readouterr()
    assert "batch size 16 per process x 2 process(es) = 32 global" in captured.err
    (run_dir,) = (out / "tiny").iterdir()
    assert (result.run_dir, result.status, result.iteration) == (run_dir, "finished", 4)

    def logged() -> list[int]:
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
        return [json.loads(line)["iteration"] for line in lines]

    assert logged() == [1, 2, 3, 4]
    checkpoint = load_checkpoint(list_checkpoints(run_dir)[-1])
    assert checkpoint["trainer"]["iteration"] == 4
    assert not any(k.startswith("module.") for k in checkpoint["generator"])

    resumed = ganzoo.train(None, ["train.iterations=6"], resume=run_dir)
    assert (resumed.run_dir, resumed.iteration) == (run_dir, 6)
    assert logged() == [1, 2, 3, 4, 5, 6]
    assert load_checkpoint(list_checkpoints(run_dir)[-1])["trainer"]["iteration"] == 6


def test_ranks_take_disjoint_slices_of_the_same_global_batches():
    """With the same RNG state, rank 0 and rank 1 of 2 get halves of each global batch: together
    exactly the single-process batches, never overlapping, and as many batches per epoch."""
    dataset = list(range(40))

    def batches(rank: int | None) -> list[list[int]]:
        torch.manual_seed(7)
        sampler = BatchSampler(RandomSampler(dataset), 8, drop_last=True)
        if rank is not None:
            sampler = ShardedBatchSampler(sampler, rank, 2)
        return list(sampler)

    single, rank0, rank1 = batches(None), batches(0), batches(1)
    assert len(rank0) == len(rank1) == len(single) == 5
    for whole, first, second in zip(single, rank0, rank1):
        assert len(first) == len(second) == 4
        assert first + second == whole


class _RecordingGenerator(nn.Module):
    latent_dim = 3

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.seen: list[torch.Tensor] = []

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        self.seen.append(z.detach().clone())
        return z * self.scale


class _Engine:
    class state:  # noqa: N801 - stands in for ignite's engine.state
        iteration = 1


def test_each_rank_draws_its_own_slice_of_the_global_noise():
    """From the same RNG state, rank r of 2 uses rows r*B..(r+1)*B of the noise that one
    process would draw for the global batch 2B: different noise per rank, no extra RNG state."""

    def noise(rank: int, world_size: int, batch: int) -> torch.Tensor:
        generator = _RecordingGenerator()
        discriminator = nn.Linear(3, 1)
        step = GANStep(
            generator,
            discriminator,
            torch.optim.SGD(generator.parameters(), lr=0.0),
            torch.optim.SGD(discriminator.parameters(), lr=0.0),
            get_loss("bce"),
            torch.device("cpu"),
            rank=rank,
            world_size=world_size,
        )
        torch.manual_seed(3)
        step(_Engine(), torch.zeros(batch, 3))
        return generator.seen[0]

    whole = noise(0, 1, 4)
    first, second = noise(0, 2, 2), noise(1, 2, 2)
    assert not torch.equal(first, second)
    torch.testing.assert_close(torch.cat([first, second]), whole)


@pytest.mark.slow
def test_under_torchrun(tmp_path, tiny_config):
    """`torchrun --standalone --nproc-per-node 2 -m ganzoo train` joins torchrun's group: one
    run directory, printed once, with one metrics line per iteration and the last checkpoint."""
    out = tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "ganzoo",
        "train",
        str(tiny_config(iterations=4, checkpoint_every=2)),
        "--out",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = (out / "tiny").iterdir()
    assert done.stdout.split() == [str(run_dir)]
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["iteration"] for line in lines] == [1, 2, 3, 4]
    assert load_checkpoint(list_checkpoints(run_dir)[-1])["trainer"]["iteration"] == 4


def test_more_processes_than_gpus_is_refused(tiny_config, capsys, monkeypatch):
    """On CUDA, --nproc-per-node above the visible GPU count is refused before spawning, with
    the count to use instead."""
    import ganzoo.training as training

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(training, "cuda_device_count", lambda: 1)
    assert main(["train", str(tiny_config()), "--nproc-per-node", "2"]) == 2
    err = capsys.readouterr().err
    assert "1 GPU(s) are visible" in err and "--nproc-per-node 1" in err
