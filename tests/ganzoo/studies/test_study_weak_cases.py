"""Issue 25's weak cases of `ganzoo study`: archive targets that cannot be made, an archive
with nothing finished, interrupted runs not logged as failed, and --dry-run's exit status when
the real run would refuse. Runs are recorded by hand (config + progress.json), except the
interrupted one, a tiny real training stopped by a real SIGINT."""

from __future__ import annotations

import pytest
import yaml

from ganzoo.cli import main
from ganzoo.config import load_config, to_dict
from ganzoo.runs import CONFIG_FILE, write_progress
from ganzoo.studies import load_study, read_index, run_study


def _record_run(study, name: str, **changes) -> None:
    """A finished run record of ``name`` as the study would train it (with ``changes`` to its
    config, e.g. a width the study no longer gives)."""
    run = next(r for r in study.runs() if r.name == name)
    config = to_dict(load_config(study.base, run.overrides))
    for dotted, value in changes.items():
        section, key = dotted.split(".")
        config[section][key] = value
    run_dir = study.directory / "runs" / name / "20260101-000000"
    run_dir.mkdir(parents=True)
    (run_dir / CONFIG_FILE).write_text(yaml.safe_dump(config))
    write_progress(run_dir, 3, 3, 8)


@pytest.fixture
def finished_study(write_study):
    path = write_study(vary={"generator.activation": ["leaky_relu"]})
    _record_run(load_study(path), "leaky_relu_seed0")
    return path


@pytest.mark.parametrize("target", ["/proc/x", "a_file"])
def test_archive_to_a_place_that_cannot_be_made_is_one_line(
    tmp_path, finished_study, capsys, target
):
    """--archive below /proc or below a file: exit 2, one line naming the place; no traceback."""
    if target == "a_file":
        target = tmp_path / "a_file"
        target.write_text("x")
    assert main(["study", str(finished_study), "--archive", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"cannot archive into {target}" in err and "--archive" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_archive_with_nothing_finished_claims_no_directory(tmp_path, write_study, capsys):
    """No finished run: the command says nothing was written, and indeed creates nothing."""
    path = write_study(vary={"generator.activation": ["leaky_relu"]})
    assert main(["study", str(path), "--archive", str(tmp_path / "archive")]) == 0
    out = capsys.readouterr().out
    assert "no finished run to archive; nothing was written" in out
    assert "archived in" not in out and not (tmp_path / "archive").exists()


def test_interrupted_runs_are_not_failed(write_study, monkeypatch, capsys):
    """A real SIGINT during iteration 2 of the first run: the training checkpoints and stops,
    the run is recorded interrupted (not failed, and no record in the store), the study stops
    with exit 130 saying how to resume; the same command then resumes it from its checkpoint
    (same run directory, iterations continued) and trains the run not started yet."""
    import json
    import os
    import signal

    from ganzoo.engine import step as step_module
    from ganzoo.runs import list_checkpoints

    path = write_study(seeds=[0, 1], vary={"generator.activation": ["leaky_relu"]})
    original = step_module.GANStep.__call__

    def interrupted(self, engine, batch):
        if engine.state.iteration == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, engine, batch)

    monkeypatch.setattr(step_module.GANStep, "__call__", interrupted)
    assert main(["study", str(path)]) == 130
    out = capsys.readouterr().out
    assert "failed" not in out and "1 of 2 runs were interrupted" in out
    study = load_study(path)
    runs = read_index(study.directory)["runs"]
    assert runs["leaky_relu_seed0"]["status"] == "interrupted"
    assert runs["leaky_relu_seed0"]["iteration"] == 2
    assert runs["leaky_relu_seed1"]["status"] == "pending"
    assert not list((study.directory / "cells").glob("*/*.json"))
    run_dir = study.directory / runs["leaky_relu_seed0"]["run_dir"]
    assert [c.name for c in list_checkpoints(run_dir)] == ["checkpoint_2.pt"]

    monkeypatch.setattr(step_module.GANStep, "__call__", original)
    plans = run_study(study)
    assert [(p.action, p.status) for p in plans] == [("resume", "done"), ("new", "done")]
    assert plans[0].run_dir == run_dir and len(list(run_dir.parent.iterdir())) == 1
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x]
    assert [x["iteration"] for x in lines if "loss_d" in x] == [1, 2, 3]


def test_dry_run_exits_non_zero_when_the_real_run_would_refuse(write_study, capsys):
    """A run trained with another width than the study now gives: --dry-run lists the conflict
    and exits 2, as the real run refuses."""
    path = write_study(vary={"generator.activation": ["leaky_relu"]})
    _record_run(load_study(path), "leaky_relu_seed0", **{"generator.width": 16})
    assert main(["study", str(path), "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert "leaky_relu_seed0: conflict" in captured.out
    assert "generator.width=16 (study: 8)" in captured.out
    assert "the real run would refuse" in captured.err
    assert main(["study", str(path)]) == 2
