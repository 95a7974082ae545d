"""`ganzoo train` end to end on tiny models: run directory contents, exact resume, NaN guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

import ganzoo
from ganzoo.cli import main
from ganzoo.runs import list_checkpoints, load_checkpoint

TINY = {
    "data": {"name": "mnist5k", "image_size": 28, "limit": 256},
    "train": {
        "batch_size": 32,  # 8 iterations per epoch
        "iterations": 12,
        "log_every": 1,
        "sample_every": 6,
        "checkpoint_every": 3,
        "keep_checkpoints": 10,
        "progress": False,
    },
    "generator": {"width": 8, "latent_dim": 16, "activation": "prelu"},
    "discriminator": {"width": 8, "activation": "prelu"},
}


def write_config(tmp_path: Path, name: str = "tiny", **train: object) -> Path:
    config = {**TINY, "train": {**TINY["train"], **train}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def train(config: Path | None, *overrides: str, out: Path | None = None, resume=None) -> Path:
    """Train through the library; the run must finish. Returns its directory."""
    result = ganzoo.train(config, overrides, out=out, resume=resume)
    assert result.status == "finished", result
    return result.run_dir


def losses(run_dir: Path) -> dict[int, tuple[float, float]]:
    """iteration -> (loss_d, loss_g); on resume the later line for an iteration wins."""
    found = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        found[record["iteration"]] = (record["loss_d"], record["loss_g"])
    return found


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uninterrupted 12-iteration run, shared by the tests below. One thread, as the
    function-scoped tests get (conftest's one_thread): a module-scoped fixture is set up before
    that fixture applies, and another thread count sums convolutions in another order."""
    tmp = tmp_path_factory.mktemp("full")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(write_config(tmp), out=tmp / "runs")
    finally:
        torch.set_num_threads(before)
    (run_dir,) = (tmp / "runs" / "tiny").iterdir()
    return run_dir


def test_run_directory_has_everything(full_run: Path):
    """A run writes config.yaml, checkpoints (every 3 iterations), sample grids, TensorBoard
    events and one metrics line per logged iteration, with the activation parameters."""
    assert yaml.safe_load((full_run / "config.yaml").read_text())["train"]["iterations"] == 12
    assert [p.name for p in list_checkpoints(full_run)] == [
        f"checkpoint_{i}.pt" for i in (3, 6, 9, 12)
    ]
    assert sorted(p.name for p in (full_run / "samples").iterdir()) == [
        "iter_0000006.png",
        "iter_0000012.png",
    ]
    assert any((full_run / "tb").iterdir())
    records = [json.loads(line) for line in (full_run / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in records] == list(range(1, 13))
    first = records[0]
    for key in ("loss_d", "loss_g", "d_real", "d_fake", "lr_g", "lr_d", "grad_norm_d"):
        assert key in first
    assert 0.0 < first["d_real"] < 1.0
    assert any(k.startswith("generator/") and k.endswith("/weight") for k in first)  # PReLU


def test_checkpoint_holds_config_and_loads_weights_only(full_run: Path):
    """Every checkpoint carries the resolved config and loads with weights_only=True."""
    checkpoint = load_checkpoint(list_checkpoints(full_run)[-1])
    assert checkpoint["config"]["train"]["batch_size"] == 32
    assert checkpoint["trainer"]["iteration"] == 12
    assert set(checkpoint) >= {"generator", "discriminator", "optimizer_g", "optimizer_d"}


def test_resume_reproduces_the_uninterrupted_losses(tmp_path, capsys, full_run):
    """A run stopped after 5 iterations and resumed from its mid-epoch checkpoint at 3 gives the
    same losses for iterations 4..12 (across an epoch boundary) as the uninterrupted run."""
    config = write_config(tmp_path, iterations=5)
    run_dir = train(config, out=tmp_path / "runs")
    (run_dir / "checkpoints" / "checkpoint_5.pt").unlink()  # as if killed after iteration 5
    resumed = train(None, "train.iterations=12", resume=run_dir)
    assert resumed == run_dir
    expected, got = losses(full_run), losses(run_dir)
    for iteration in range(4, 13):
        assert got[iteration] == pytest.approx(expected[iteration], rel=1e-5, abs=1e-6), iteration
    assert load_checkpoint(list_checkpoints(run_dir)[-1])["trainer"]["iteration"] == 12


def test_two_runs_never_share_a_directory(tmp_path, capsys):
    """Starting the same config twice in the same second gives two run directories."""
    config = write_config(tmp_path, iterations=1, checkpoint_every=1)
    first = train(config, out=tmp_path / "runs")
    second = train(config, out=tmp_path / "runs")
    assert first != second and first.parent == second.parent


def test_dry_run_prints_config_and_writes_nothing(tmp_path, capsys):
    """--dry-run validates, prints the resolved YAML with overrides applied and touches no disk."""
    config = write_config(tmp_path)
    out = tmp_path / "runs"
    assert main(["train", str(config), "--out", str(out), "--dry-run", "seed=3"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["seed"] == 3 and printed["name"] == "tiny"
    assert not out.exists()


def test_nan_loss_stops_with_message_and_keeps_good_checkpoints(tmp_path, capsys, monkeypatch):
    """When the loss turns NaN at iteration 5 the run stops, says which iteration, and the
    checkpoint from iteration 3 stays the last one; nothing is written for the NaN state."""
    from ganzoo.engine import step as step_module

    original = step_module.GANStep.__call__

    def poisoned(self, engine, batch):
        output = original(self, engine, batch)
        if engine.state.iteration == 5:
            output["loss_d"] = float("nan")
        return output

    monkeypatch.setattr(step_module.GANStep, "__call__", poisoned)
    config = write_config(tmp_path)
    result = ganzoo.train(config, out=tmp_path / "runs")
    assert (result.status, result.exit_code) == ("failed", 2)
    err = result.detail
    assert "iteration 5" in err and "NaN" in err
    (run_dir,) = (tmp_path / "runs" / "tiny").iterdir()
    assert [p.name for p in list_checkpoints(run_dir)] == ["checkpoint_3.pt"]
    assert torch.isfinite(
        next(
            iter(load_checkpoint(run_dir / "checkpoints" / "checkpoint_3.pt")["generator"].values())
        )
    ).all()
