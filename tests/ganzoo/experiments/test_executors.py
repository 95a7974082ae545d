"""Executors: local worker processes (same records as in-process), Slurm's code path through
submitit's local executor, and SIGTERM leaving no worker behind."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from experiments_fakes import fake_cells, run_fake

from ganzoo.experiments import RecordStore, make_executor, run_grid
from ganzoo.experiments.executors import InlineExecutor, LocalExecutor, SubmititExecutor

HERE = Path(__file__).parent


def test_the_executor_a_command_line_asks_for():
    """--jobs 1 runs here, --jobs 3 in 3 processes, slurm through submitit with its options."""
    assert isinstance(make_executor("local", jobs=1), InlineExecutor)
    assert make_executor("local", jobs=3).jobs == 3
    slurm = make_executor("slurm", partition="gpu", time_min=30, gpus_per_job=1, chunk=4)
    assert isinstance(slurm, SubmititExecutor)
    assert (slurm.cluster, slurm.partition, slurm.time_min, slurm.gpus_per_job, slurm.chunk) == (
        "slurm",
        "gpu",
        30,
        1,
        4,
    )


def test_local_worker_processes_store_what_one_process_stores(tmp_path):
    """--jobs 2: four cells in two worker processes (two distinct pids: each call waits until
    both workers have started, so a slow start cannot leave one worker all the cells), and
    every record equals the one an in-process run writes for the same cell."""
    log = tmp_path / "calls.log"
    parallel, serial = RecordStore(tmp_path / "a"), RecordStore(tmp_path / "b")
    cells = fake_cells(log, 4, 0.2, peers=2)
    summary = run_grid(cells, parallel, run_fake, executor=LocalExecutor(2))
    assert (summary.trained, summary.failed) == (4, 0)
    pids = {line.split()[1] for line in log.read_text().splitlines()}
    assert len(pids) == 2 and str(os.getpid()) not in pids
    run_grid(fake_cells(log, 4), serial, run_fake)
    for cell in fake_cells(log, 4):
        mine, theirs = parallel.get("fake", cell.key), serial.get("fake", cell.key)
        assert (
            mine["curve"] == theirs["curve"] and mine["final"]["score"] == theirs["final"]["score"]
        )


def test_submitit_local_jobs_run_chunks_of_cells(tmp_path, monkeypatch):
    """The Slurm path through submitit's local executor: 3 cells in chunks of 2 make 2 jobs;
    every cell is stored with its known score, and a rerun submits nothing."""
    pytest.importorskip("submitit")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), *sys.path]))
    log, store = tmp_path / "calls.log", RecordStore(tmp_path / "store")
    executor = SubmititExecutor(tmp_path / "jobs", cluster="local", chunk=2, poll_s=0.2)
    cells = fake_cells(log, 3)
    summary = run_grid(cells, store, run_fake, executor=executor)
    assert (summary.trained, summary.failed) == (3, 0)
    assert [store.get("fake", c.key)["final"]["score"] for c in cells] == [0, 1, 10]
    assert len({line.split()[1] for line in log.read_text().splitlines()}) == 2  # 2 jobs
    again = run_grid(cells, store, run_fake, executor=executor)
    assert (again.trained, again.reused) == (0, 3)


def test_slurm_options_reach_the_slurm_executor(tmp_path, monkeypatch):
    """--time, --partition and --gpus-per-job become Slurm's time, partition and gpus_per_node
    for jobs named ganzoo; without them Slurm gets no partition and no GPU request. A stand-in
    srun on PATH lets submitit build its Slurm executor without a cluster; nothing is submitted."""
    pytest.importorskip("submitit")
    srun = tmp_path / "bin" / "srun"
    srun.parent.mkdir()
    srun.write_text("#!/bin/sh\nexit 0\n")
    srun.chmod(0o755)
    monkeypatch.setenv("PATH", f"{srun.parent}{os.pathsep}{os.environ['PATH']}")
    options = {"partition": "gpu", "time_min": 30, "gpus_per_job": 2}
    slurm = make_executor("slurm", folder=tmp_path / "jobs", **options).executor()
    assert slurm._executor.parameters == {
        "time": 30,
        "cpus_per_task": 1,
        "gpus_per_node": 2,
        "job_name": "ganzoo",
        "partition": "gpu",
    }
    default = make_executor("slurm", folder=tmp_path / "jobs").executor()
    assert default._executor.parameters == {"time": 60, "cpus_per_task": 1, "job_name": "ganzoo"}
