"""Runs that survive faults: Ctrl-C and SIGTERM checkpoint and stop, SIGKILL loses only the steps
since the last checkpoint, a corrupt newest checkpoint is skipped, a full disk is one message.
The signal tests run `ganzoo train` as a process (its exit status is the point); the others
train through the library."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import ganzoo
from ganzoo.runs import list_checkpoints, load_checkpoint


def iterations_logged(run_dir: Path, name: str = "metrics.jsonl") -> list[int]:
    path = run_dir / name
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [json.loads(line)["iteration"] for line in lines if line.endswith("}")]


def start_training(config: Path, out: Path) -> subprocess.Popen:
    """A real `python -m ganzoo train` process, as a user would start it."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "ganzoo", "train", str(config), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for(condition, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"training exited early: {process.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("training made no progress in time")
        time.sleep(0.05)


def the_run_dir(out: Path) -> Path | None:
    found = list(out.glob("*/*/checkpoints"))
    return found[0].parent if found else None


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory, tiny_config_data: dict):
    """Two real training processes started together (their slow start-up overlaps): "kill"
    checkpoints every 2 iterations, "term" only when stopped. Each runs until its test stops it."""
    started = {}
    for name, every in (("kill", 2), ("term", 100_000)):
        tmp = tmp_path_factory.mktemp(name)
        config = {**tiny_config_data, "train": {**tiny_config_data["train"], "iterations": 100_000}}
        config["train"]["checkpoint_every"] = every
        (tmp / "tiny.yaml").write_text(yaml.safe_dump(config))
        started[name] = (start_training(tmp / "tiny.yaml", tmp / "runs"), tmp / "runs")
    yield started
    for process, _ in started.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_sigkill_loses_only_steps_since_last_checkpoint(processes, capsys, caplog):
    """A training process killed with SIGKILL, whose newest checkpoint is then truncated, resumes
    from the newest good checkpoint: the truncated one is named on stderr, the run restarts at the
    iteration after the good checkpoint and ends at the requested iteration, and metrics.jsonl
    holds each iteration once (the lost steps' lines move to metrics.replaced.jsonl)."""
    process, out = processes["kill"]
    wait_for(lambda: (r := the_run_dir(out)) is not None and len(list_checkpoints(r)) >= 2, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    run_dir = the_run_dir(out)
    *_, good, newest = list_checkpoints(run_dir)
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # torn write
    good_iteration = load_checkpoint(good)["trainer"]["iteration"]
    before = iterations_logged(run_dir)
    assert before[-1] >= good_iteration  # the killed run got at least this far

    end = good_iteration + 3
    result = ganzoo.train(None, [f"train.iterations={end}"], resume=run_dir)
    assert (result.status, result.iteration) == ("finished", end)
    assert "Traceback" not in capsys.readouterr().err
    assert f"does not load, trying an older one: checkpoint {newest}" in caplog.text  # on stderr
    logged = iterations_logged(run_dir)
    kept = [i for i in before if i <= good_iteration]
    assert logged == kept + list(range(good_iteration + 1, end + 1))
    lost = [i for i in before if i > good_iteration]
    assert iterations_logged(run_dir, "metrics.replaced.jsonl") == lost
    assert load_checkpoint(list_checkpoints(run_dir)[-1])["trainer"]["iteration"] == end


def test_sigterm_checkpoints_the_current_iteration_and_says_how_to_resume(processes):
    """SIGTERM to a training process: it exits with 143 after writing a checkpoint of the
    iteration it had reached (not a multiple of checkpoint_every), and stderr says
    `ganzoo train --resume RUN_DIR` without a traceback."""
    process, out = processes["term"]
    wait_for(lambda: len(iterations_logged(the_run_dir(out) or out)) >= 3, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err[-2000:]
    run_dir = the_run_dir(out)
    assert f"ganzoo train --resume {run_dir}" in err and "Traceback" not in err
    (checkpoint,) = list_checkpoints(run_dir)
    assert load_checkpoint(checkpoint)["trainer"]["iteration"] == iterations_logged(run_dir)[-1]


def test_ctrl_c_in_process_checkpoints_and_exits_130(tmp_path, tiny_config, capsys, monkeypatch):
    """A SIGINT arriving during iteration 3 stops the run after that iteration: exit code 130,
    a checkpoint for iteration 3 next to the periodic one at 2, and the resume hint."""
    from ganzoo.engine import step as step_module

    original = step_module.GANStep.__call__

    def interrupted(self, engine, batch):
        if engine.state.iteration == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, engine, batch)

    monkeypatch.setattr(step_module.GANStep, "__call__", interrupted)
    out = tmp_path / "runs"
    result = ganzoo.train(tiny_config(iterations=50), out=out)
    assert (result.status, result.exit_code, result.iteration) == ("interrupted", 130, 3)
    run_dir = the_run_dir(out)
    assert result.run_dir == run_dir
    assert "SIGINT" in result.detail and f"--resume {run_dir}" in result.detail
    assert [p.name for p in list_checkpoints(run_dir)] == ["checkpoint_2.pt", "checkpoint_3.pt"]
    assert iterations_logged(run_dir) == [1, 2, 3]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_full_disk_is_one_clear_error(tmp_path, tiny_config, capsys, monkeypatch):
    """When writing a checkpoint fails with ENOSPC the run stops with exit code 2 and a message
    naming the checkpoint folder and the cause, not a traceback."""
    from ignite.handlers import DiskSaver

    def no_space(self, checkpoint, path, func):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(DiskSaver, "_save_func", no_space)
    out = tmp_path / "runs"
    result = ganzoo.train(tiny_config(iterations=4), out=out)
    assert (result.status, result.exit_code) == ("failed", 2)
    err = result.detail + capsys.readouterr().err
    assert "No space left on device" in result.detail and "checkpoints" in result.detail
    assert "Traceback" not in err
    assert list_checkpoints(the_run_dir(out)) == []


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="POSIX signals")
def test_signal_handlers_restored_after_a_normal_run(tmp_path, tiny_config):
    """After a run that ends normally, SIGTERM's handler is what it was before the run."""
    before = signal.getsignal(signal.SIGTERM)
    assert ganzoo.train(tiny_config(iterations=1), out=tmp_path / "r").status == "finished"
    assert signal.getsignal(signal.SIGTERM) is before
