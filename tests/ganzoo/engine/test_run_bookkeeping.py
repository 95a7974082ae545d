"""A run's bookkeeping: the learning-rate schedule, checkpoints kept across resumes, the last
iteration always logged, progress off a terminal, truthful NaN advice, a full disk, and a
WGAN-GP run that logs its critic scores and penalty and resumes exactly."""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.runs import list_checkpoints


def run(config: Path | None, *overrides: str, out: Path | None = None, resume=None) -> Path:
    """Train through the library; the run must finish. Returns its directory."""
    result = ganzoo.train(config, overrides, out=out, resume=resume)
    assert result.status == "finished", result
    return result.run_dir


def killed_after(run_dir: Path, iteration: int) -> Path:
    """``run_dir`` as if killed after ``iteration``: later checkpoints gone (its log lines stay,
    as a kill leaves them; the resume must replace them)."""
    for path in list_checkpoints(run_dir):
        if int(path.stem.split("_")[1]) > iteration:
            path.unlink()
    return run_dir


def records(run_dir: Path) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if "loss_d" in r]


def test_linear_decay_reaches_zero_and_resumes_at_the_right_value(tmp_path, tiny_config, capsys):
    """With lr_decay linear over 8 iterations the rate used at iteration i is lr (1 - (i-1)/8),
    it is 0 after the last; a run killed after 4 and resumed logs the same rates at 5..8."""
    config = tiny_config(iterations=8, lr_decay="linear", checkpoint_every=4)
    full = run(config, out=tmp_path / "a")
    rates = [r["lr_g"] for r in records(full)]
    assert rates == pytest.approx([2e-4 * (1 - i / 8) for i in range(8)])
    last = torch.load(list_checkpoints(full)[-1], weights_only=True)
    assert last["optimizer_g"]["param_groups"][0]["lr"] == 0.0
    assert last["optimizer_d"]["param_groups"][0]["lr"] == 0.0

    second = run(config, out=tmp_path / "b")
    resumed = run(None, resume=killed_after(second, 4))
    assert [r["lr_d"] for r in records(resumed)] == pytest.approx(
        [r["lr_d"] for r in records(full)]
    )


def test_keep_checkpoints_holds_across_resumes(tmp_path, tiny_config, capsys):
    """keep_checkpoints 3: after a run and two resumes, only the 3 newest checkpoints remain."""
    config = tiny_config(iterations=4, checkpoint_every=1, keep_checkpoints=3)
    run_dir = run(config, out=tmp_path / "runs")
    for end in (7, 10):
        run(None, f"train.iterations={end}", resume=run_dir)
    names = [p.name for p in list_checkpoints(run_dir)]
    assert names == ["checkpoint_8.pt", "checkpoint_9.pt", "checkpoint_10.pt"]


def test_the_last_iteration_is_always_logged(tmp_path, tiny_config, capsys):
    """A run shorter than log_every still logs its last iteration (and only once)."""
    config = tiny_config(iterations=3, log_every=50)
    run_dir = run(config, out=tmp_path / "runs")
    assert [r["iteration"] for r in records(run_dir)] == [3]


def test_progress_off_a_terminal_is_compact_log_lines(tmp_path, tiny_config, capsys, caplog):
    """Without a terminal the progress is log lines naming iterations, no carriage returns."""
    config = tiny_config(iterations=20, progress=True)
    with caplog.at_level(logging.INFO):
        run(config, out=tmp_path / "runs")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("iteration ")]
    assert lines[-1].startswith("iteration 20/20 (100%)") and len(lines) == 20
    assert "\r" not in capsys.readouterr().err


def test_nan_advice_without_a_checkpoint_is_true(tmp_path, tiny_config, capsys, monkeypatch):
    """A NaN before the first checkpoint: the message says no checkpoint was written and that a
    new run (not a resume) is how to change the learning rates."""
    from ganzoo.engine import step as step_module

    original = step_module.GANStep.__call__

    def poisoned(self, engine, batch):
        output = original(self, engine, batch)
        output["loss_g"] = float("nan")
        return output

    monkeypatch.setattr(step_module.GANStep, "__call__", poisoned)
    config = tiny_config(iterations=5, checkpoint_every=4)
    result = ganzoo.train(config, out=tmp_path / "runs")
    assert (result.status, result.exit_code) == ("failed", 2)
    err = result.detail
    assert "iteration 1" in err and "No checkpoint was written" in err and "new run" in err
    assert "resume with" not in err


def test_a_full_disk_inside_torch_save_is_one_message(tmp_path, tiny_config, capsys, monkeypatch):
    """torch.save reports ENOSPC as RuntimeError("[enforce fail at inline_container.cc...]"):
    the run stops with one line naming the checkpoint folder, no traceback, no checkpoint."""
    from ignite.handlers import DiskSaver

    def no_space(self, checkpoint, path, func):
        raise RuntimeError(
            "[enforce fail at inline_container.cc:672] . unexpected pos 123 vs 456"
        ) from OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(DiskSaver, "_save_func", no_space)
    out = tmp_path / "runs"
    result = ganzoo.train(tiny_config(iterations=4), out=out)
    assert (result.status, result.exit_code) == ("failed", 2)
    err = result.detail
    assert "No space left on device" in err and "checkpoints" in err and "--resume" in err
    assert "Traceback" not in err and "enforce fail" not in err


def test_wgan_gp_run_logs_critic_scores_and_penalty_and_resumes_exactly(
    tmp_path, tiny_config, capsys
):
    """WGAN-GP with n_critic 2 and a critic without batch norm: metrics.jsonl and TensorBoard
    hold raw critic scores and the penalty (no probabilities), and a resumed run reproduces the
    uninterrupted one's losses."""
    options = [
        "train.loss=wgan_gp",
        "train.n_critic=2",
        "train.lr_decay=linear",
        "train.betas_d=[0.0,0.9]",
        "discriminator.batch_norm=false",
    ]
    config = tiny_config(iterations=6, checkpoint_every=3)
    full = run(config, *options, out=tmp_path / "a")
    logged = records(full)
    assert {"score_real", "score_fake", "wasserstein", "gp"} <= set(logged[-1])
    assert "d_real" not in logged[-1]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = EventAccumulator(str(full / "tb")).Reload().Tags()["scalars"]
    assert {"train/gp", "train/score_real", "train/lr_d"} <= set(tags)

    second = run(config, *options, out=tmp_path / "b")
    resumed = run(None, resume=killed_after(second, 3))
    assert [r["iteration"] for r in records(resumed)] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(records(full), records(resumed), strict=True):
        assert (a["iteration"], a["loss_d"], a["gp"]) == pytest.approx(
            (b["iteration"], b["loss_d"], b["gp"]), rel=1e-5, abs=1e-6
        )


def test_sngan_run_with_spectral_norm_and_linear_decay_resumes_exactly(
    tmp_path, tiny_config, capsys
):
    """A narrow resnet SNGAN (hinge, spectral norm in D, n_critic 2, linear decay) killed after
    iteration 2 and resumed gives the uninterrupted run's losses: the power-iteration vectors
    are checkpointed with the weights."""
    options = [
        "architecture=resnet",
        "generator={width: 8, latent_dim: 16}",
        "discriminator={width: 8, spectral_norm: true}",
        "train.loss=hinge",
        "train.n_critic=2",
        "train.lr_decay=linear",
        "train.betas_g=[0.0,0.9]",
        "train.betas_d=[0.0,0.9]",
    ]
    config = tiny_config(iterations=4, checkpoint_every=2, batch_size=16)
    full = run(config, *options, out=tmp_path / "a")
    state = torch.load(list_checkpoints(full)[-1], weights_only=True)["discriminator"]
    assert any(k.endswith("parametrizations.weight.original") for k in state)
    assert any(k.endswith("_u") for k in state)  # spectral norm's power-iteration vector
    second = run(config, *options, out=tmp_path / "b")
    resumed = run(None, resume=killed_after(second, 2))
    for a, b in zip(records(full), records(resumed), strict=True):
        assert (a["iteration"], a["loss_d"], a["loss_g"]) == pytest.approx(
            (b["iteration"], b["loss_d"], b["loss_g"]), rel=1e-5, abs=1e-6
        )
