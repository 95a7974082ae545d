"""The study runner: real tiny trainings into deterministic run directories, skipping finished
runs, resuming unfinished ones, refusing changed ones, and isolating failures."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from ganzoo.cli import main
from ganzoo.runs import list_checkpoints
from ganzoo.studies import library_execute, load_study, plan_study, read_index, run_study
from ganzoo.studies import runner as study_runner
from ganzoo.studies.runner import StudyConflictError


def in_process(argv, log: Path, env) -> int:
    """Run ``ganzoo ARGV`` in this process (fast for tests), output to the log."""
    with log.open("a") as handle, contextlib.redirect_stdout(handle):
        return main(list(argv))


def must_not_run(argv, log, env) -> int:
    raise AssertionError(f"nothing should be trained, got {argv}")


def test_study_trains_skips_then_resumes(tmp_path, write_study):
    """Two tiny real trainings land in <study>/runs/<level>_seed0/<stamp>/ with the final
    checkpoint, indexed in study.json; a second run trains nothing; raising the iteration count
    resumes both runs to the new end (continuing, not restarting, the iteration count)."""
    path = write_study(vary={"generator.activation": ["leaky_relu", "psf"]})
    study = load_study(path)
    plans = run_study(study, execute=in_process)
    assert [(p.run.name, p.action, p.status) for p in plans] == [
        ("leaky_relu_seed0", "new", "done"),
        ("psf_seed0", "new", "done"),
    ]
    index = read_index(study.directory)
    for plan in plans:
        assert plan.run_dir.parent == study.directory / "runs" / plan.run.name
        assert [c.name for c in list_checkpoints(plan.run_dir)] == ["checkpoint_3.pt"]
        entry = index["runs"][plan.run.name]
        assert study.directory / entry["run_dir"] == plan.run_dir
        assert (entry["status"], entry["iteration"], entry["end"]) == ("done", 3, 3)
    assert "generator.activation=psf" in " ".join(index["runs"]["psf_seed0"]["overrides"])

    again = run_study(study, execute=must_not_run)
    assert [p.status for p in again] == ["skipped", "skipped"]

    longer = load_study(
        write_study(
            vary={"generator.activation": ["leaky_relu", "psf"]}, overrides={"train.iterations": 5}
        )
    )
    planned = plan_study(longer)
    assert [p.action for p in planned] == ["resume", "resume"]
    assert planned[0].argv == ["train", "--resume", str(plans[0].run_dir), "train.iterations=5"]
    resumed = run_study(longer, execute=in_process)
    assert [p.status for p in resumed] == ["done", "done"]
    for plan, before in zip(resumed, plans):
        assert plan.run_dir == before.run_dir
        assert list_checkpoints(plan.run_dir)[-1].name == "checkpoint_5.pt"
        lines = [
            json.loads(x) for x in (plan.run_dir / "metrics.jsonl").read_text().split("\n") if x
        ]
        assert [x["iteration"] for x in lines if "loss_d" in x] == [1, 2, 3, 4, 5]

    changed = load_study(
        write_study(
            vary={"generator.activation": ["leaky_relu", "psf"]},
            overrides={"train.iterations": 5, "generator.width": 16},
        )
    )
    # Edited after its runs: refused as a whole before anything is trained or written, with
    # the runs' real iterations and the way to start a new study; study.json keeps the values
    # the runs used.
    recorded = (study.directory / "study.json").read_text()
    planned = plan_study(changed)
    assert [(p.action, p.iteration) for p in planned] == [("conflict", 5), ("conflict", 5)]
    assert "generator.width=8 (study: 16)" in planned[0].problem
    with pytest.raises(StudyConflictError) as info:
        run_study(changed, execute=must_not_run)
    message = str(info.value)
    assert "iteration 5/5" in message and "another name" in message and "--out" in message
    assert (study.directory / "study.json").read_text() == recorded
    # The advice works: the same file under another name is a new study that trains.
    renamed = load_study(
        write_study(
            file="renamed",
            vary={"generator.activation": ["leaky_relu", "psf"]},
            overrides={"train.iterations": 5, "generator.width": 16},
        )
    )
    assert [p.action for p in plan_study(renamed)] == ["new", "new"]


def test_one_failure_does_not_stop_the_others(tmp_path, write_study, capsys):
    """A run whose training fails is reported with its log's last lines; the others still run
    (two at a time), and `ganzoo study` exits non-zero at the end."""
    path = write_study(seeds=[0, 1], vary={"train.loss": ["bce"]})
    calls = []

    def fake(argv, log, env):
        calls.append(argv)
        log.write_text("boom: the loss became NaN\n")
        return 2 if "seed=1" in argv else 0

    plans = run_study(load_study(path), jobs=2, execute=fake)
    assert len(calls) == 2
    assert [p.status for p in plans] == ["done", "failed"]
    assert "exit status 2" in plans[1].problem and "boom" in plans[1].problem
    assert read_index(load_study(path).directory)["runs"]["bce_seed1"]["status"] == "failed"


def test_cli_dry_run_prints_the_plan_and_touches_nothing(tmp_path, write_study, capsys):
    """--dry-run validates every run's config and prints each command, writing no files."""
    path = write_study(seeds=2, vary={"generator.activation": ["leaky_relu", "elu"]})
    assert main(["study", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count(": new") == 4 and "name=elu_seed1" in out
    assert not (tmp_path / "studies").exists()


def test_cli_reports_an_invalid_combination_before_training(tmp_path, write_study, capsys):
    """A level that makes an invalid config (unknown activation) fails validation up front."""
    path = write_study(vary={"generator.activation": ["leaky_relu", "nosuchact"]})
    assert main(["study", str(path)]) == 2
    assert "nosuchact" in capsys.readouterr().err
    assert not (tmp_path / "studies").exists()


def test_cli_dry_run_refuses_zero_jobs(tmp_path, write_study, capsys):
    """--jobs 0 is refused by --dry-run too, not only when the study really runs."""
    path = write_study(vary={"generator.activation": ["leaky_relu"]})
    assert main(["study", str(path), "--jobs", "0", "--dry-run"]) == 2
    assert "--jobs" in capsys.readouterr().err


def test_an_invalid_level_is_blamed_on_its_run_and_override(tmp_path, write_study, capsys):
    """A vary value that makes an invalid config names the run and the override that set it,
    not the base YAML alone."""
    path = write_study(vary={"generator.activation": ["leaky_relu", "nosuchact"]})
    assert main(["study", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "run nosuchact_seed0" in err and "the override 'generator.activation=nosuchact'" in err


def test_library_execute_logs_output_and_returns_the_status(tmp_path):
    """The default launcher runs ganzoo.train in a worker process, appends its output to the
    log and returns the status `ganzoo train` would exit with (2 for a user error)."""
    log = tmp_path / "run.log"
    argv = ["train", str(tmp_path / "missing.yaml"), "seed=1", "--out", str(tmp_path / "runs")]
    assert library_execute(argv, log, {}) == 2
    text = log.read_text()
    assert text.startswith("$ ganzoo train") and "does not exist" in text


def test_the_planned_commands_map_to_ganzoo_train_arguments():
    """A new run's and a resumed run's commands become ganzoo.train's arguments."""
    new = ["train", "base.yaml", "seed=0", "train.progress=false", "--out", "s/runs"]
    assert study_runner.train_arguments(new) == {
        "config": "base.yaml",
        "overrides": ["seed=0", "train.progress=false"],
        "resume": None,
        "out": "s/runs",
    }
    resumed = ["train", "--resume", "s/runs/a/1", "train.iterations=9"]
    assert study_runner.train_arguments(resumed) == {
        "config": None,
        "overrides": ["train.iterations=9"],
        "resume": "s/runs/a/1",
        "out": None,
    }


def test_a_run_trained_before_a_config_key_existed_is_not_a_conflict(tmp_path, write_study):
    """A run whose saved config.yaml predates a key ganzoo added later (here train.n_critic and
    train.augment, removed from it) trained with that key's default: the study resumes it
    instead of refusing it as trained with other values."""
    import yaml

    path = write_study(vary={"generator.activation": ["leaky_relu"]})
    (plan,) = run_study(load_study(path), execute=in_process)
    saved = plan.run_dir / "config.yaml"
    old = yaml.safe_load(saved.read_text())
    del old["train"]["n_critic"], old["train"]["augment"]
    saved.write_text(yaml.safe_dump(old))
    longer = load_study(
        write_study(
            vary={"generator.activation": ["leaky_relu"]}, overrides={"train.iterations": 5}
        )
    )
    assert [p.action for p in plan_study(longer)] == ["resume"]
