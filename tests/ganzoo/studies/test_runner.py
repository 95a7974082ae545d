"""The study runner on the grid runner: real tiny trainings into deterministic run directories,
one store record per finished run, skipping finished runs, resuming unfinished ones, refusing
changed ones, isolating failures, and two commands on one study training each run once."""

from __future__ import annotations

import json
import multiprocessing
import sys
from pathlib import Path

import pytest

from ganzoo.cli import main
from ganzoo.experiments import RecordStore
from ganzoo.runs import list_checkpoints
from ganzoo.studies import load_study, plan_study, read_index, run_study
from ganzoo.studies.runner import StudyConflictError, run_record, study_cell

HERE = Path(__file__).parent


def must_not_run(payload, work_dir) -> dict:
    raise AssertionError(f"nothing should be trained, got {payload.run.name}")


def trained_iterations(run_dir: Path) -> list[int]:
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x]
    return [x["iteration"] for x in lines if "loss_d" in x]


def stored(study, plan) -> dict | None:
    cell = study_cell(study.directory, study.base, plan)
    return RecordStore(study.directory).get(cell.group, cell.key)


def test_study_trains_skips_then_resumes(tmp_path, write_study):
    """Two tiny real trainings land in <study>/runs/<level>_seed0/<stamp>/ with the final
    checkpoint, indexed in study.json and recorded in the study's store; a second run trains
    nothing; raising the iteration count resumes both runs to the new end (continuing, not
    restarting, the iteration count) under a new record."""
    path = write_study(vary={"generator.activation": ["leaky_relu", "psf"]})
    study = load_study(path)
    plans = run_study(study)
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
        record = stored(study, plan)
        assert (record["status"], record["iteration"], record["end"]) == ("ok", 3, 3)
        assert study.directory / record["run_dir"] == plan.run_dir
    assert "generator.activation=psf" in " ".join(index["runs"]["psf_seed0"]["overrides"])
    assert "# new" in (study.directory / "logs" / "psf_seed0.log").read_text()

    again = run_study(study, run=must_not_run)
    assert [p.status for p in again] == ["skipped", "skipped"]

    longer = load_study(
        write_study(
            vary={"generator.activation": ["leaky_relu", "psf"]}, overrides={"train.iterations": 5}
        )
    )
    planned = plan_study(longer)
    assert [p.action for p in planned] == ["resume", "resume"]
    assert planned[0].overrides == ["train.iterations=5"]
    resumed = run_study(longer)
    assert [p.status for p in resumed] == ["done", "done"]
    for plan, before in zip(resumed, plans):
        assert plan.run_dir == before.run_dir
        assert list_checkpoints(plan.run_dir)[-1].name == "checkpoint_5.pt"
        assert trained_iterations(plan.run_dir) == [1, 2, 3, 4, 5]
        assert stored(longer, plan)["iteration"] == 5

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
        run_study(changed, run=must_not_run)
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


def test_one_failure_does_not_stop_the_others(tmp_path, write_study, monkeypatch, capsys):
    """The loss of seed 0's training turns NaN: that run is recorded failed with the reason
    (study.json and the store), seed 1 still trains, `ganzoo study` exits 1; the next command
    trains the failed run again and reuses seed 1."""
    import ganzoo
    from ganzoo.engine import step as step_module

    path = write_study(seeds=[0, 1], vary={"train.loss": ["bce"]})
    original_step, original_train = step_module.GANStep.__call__, ganzoo.train
    current: list[str] = []

    def train(config, overrides=(), **kwargs):
        current[:] = list(overrides)
        return original_train(config, overrides, **kwargs)

    def poisoned(self, engine, batch):
        output = original_step(self, engine, batch)
        if "seed=0" in current and engine.state.iteration == 2:
            output["loss_d"] = float("nan")
        return output

    monkeypatch.setattr(ganzoo, "train", train)
    monkeypatch.setattr(step_module.GANStep, "__call__", poisoned)
    assert main(["study", str(path)]) == 1
    out = capsys.readouterr().out
    assert "1 of 2 runs failed" in out and "NaN" in out
    study = load_study(path)
    runs = read_index(study.directory)["runs"]
    assert (runs["bce_seed0"]["status"], runs["bce_seed1"]["status"]) == ("failed", "done")
    assert "NaN" in runs["bce_seed0"]["problem"]
    first, second = plan_study(study)
    assert stored(study, first)["status"] == "failed" and stored(study, second)["status"] == "ok"

    monkeypatch.setattr(step_module.GANStep, "__call__", original_step)
    trained = []

    def counting(payload, work_dir):
        from ganzoo.studies.runner import train_study_run

        trained.append(payload.run.name)
        return train_study_run(payload, work_dir)

    plans = run_study(study, run=counting)
    assert trained == ["bce_seed0"]
    assert [(p.action, p.status) for p in plans] == [("new", "done"), ("skip", "skipped")]


def test_an_error_raised_by_the_training_is_a_failed_run_and_in_its_log(
    tmp_path, write_study, monkeypatch
):
    """ganzoo.train raising (bad input found only when it starts) fails that run alone: the
    store and study.json carry the error, the run's log ends with it, nothing is trained."""
    import ganzoo
    from ganzoo.errors import GanzooError

    def refused(config, overrides=(), **kwargs):
        raise GanzooError("the data folder vanished")

    monkeypatch.setattr(ganzoo, "train", refused)
    study = load_study(write_study(vary={"generator.activation": ["leaky_relu"]}))
    (plan,) = run_study(study)
    assert (plan.status, plan.problem) == ("failed", "GanzooError: the data folder vanished")
    assert stored(study, plan)["error"] == "GanzooError: the data folder vanished"
    assert read_index(study.directory)["runs"]["leaky_relu_seed0"]["status"] == "failed"
    log = (study.directory / "logs" / "leaky_relu_seed0.log").read_text()
    assert log.splitlines()[-1] == "# error: GanzooError: the data folder vanished"
    assert not (study.directory / "runs").exists()


def test_the_record_holds_the_curve_and_the_final_protocol(tmp_path):
    """A run's record: its eval points (the last line per iteration: a resume repeats one), the
    final protocol's scores and protocol from eval/final.json (not a declared earlier point's
    final-2.json), or without a final protocol, the curve's last point."""
    run_dir = tmp_path / "study" / "runs" / "a_seed0" / "1"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "eval").mkdir()
    (run_dir / "config.yaml").write_text("{}\n")
    (run_dir / "checkpoints" / "checkpoint_4.pt").write_bytes(b"")
    lines = [
        {"iteration": 1, "loss_d": 1.0},
        {"iteration": 2, "eval": {"fid": 9.0}},
        {"iteration": 4, "eval": {"fid": 7.0}},
        {"iteration": 4, "eval": {"fid": 6.0}},
    ]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    record = run_record(tmp_path / "study", run_dir, 4)
    assert record["curve"] == [{"iteration": 2, "fid": 9.0}, {"iteration": 4, "fid": 6.0}]
    assert record["final"] == {"iteration": 4, "fid": 6.0} and "protocol" not in record
    assert (record["run_dir"], record["iteration"], record["end"]) == ("runs/a_seed0/1", 4, 4)
    protocol = {"suite": "final", "num_generated": 5000}
    (run_dir / "eval" / "final-2.json").write_text(json.dumps({"fid": 8.0, "protocol": {}}))
    final = {"fid": 5.0, "kid_mean": 0.01, "iteration": 4, "protocol": protocol}
    (run_dir / "eval" / "final.json").write_text(json.dumps(final))
    record = run_record(tmp_path / "study", run_dir, 4)
    assert record["final"] == {"fid": 5.0, "kid_mean": 0.01} and record["protocol"] == protocol


@pytest.mark.slow  # two processes that each import torch: about 15 s on 2 busy cores
def test_two_studies_at_once_train_each_run_once(tmp_path, write_study):
    """Two `ganzoo study` processes on one study start planning at the same moment (both see
    every run as new): the cell locks make each run train once, in one run directory, and
    both end with every run done."""
    path = write_study(seeds=[0, 1], vary={"generator.activation": ["leaky_relu"]})
    context = multiprocessing.get_context("spawn")
    sys.path.insert(0, str(HERE))  # the spawned processes import studies_fakes
    try:
        import studies_fakes

        barrier = context.Manager().Barrier(2)
        with context.Pool(2) as pool:
            pending = [
                pool.apply_async(studies_fakes.run_together, (str(path), barrier)) for _ in range(2)
            ]
            results = [item.get(timeout=300) for item in pending]
    finally:
        sys.path.remove(str(HERE))
    for result in results:
        assert result == [("leaky_relu_seed0", "done"), ("leaky_relu_seed1", "done")]
    study = load_study(path)
    for name in ("leaky_relu_seed0", "leaky_relu_seed1"):
        assert len(list((study.directory / "runs" / name).iterdir())) == 1
        log = (study.directory / "logs" / f"{name}.log").read_text()
        assert log.count("# new") == 1
    assert len(list((study.directory / "cells" / study.name).glob("*.json"))) == 2


@pytest.mark.slow  # two worker processes that each import torch: about 12 s on 2 busy cores
def test_jobs_train_runs_in_local_worker_processes(tmp_path, write_study, capfd):
    """--jobs 2 (the local executor's worker processes): both runs train, each in its own run
    directory with its output in its log, and both are recorded; the console gets the
    grid's progress, not the trainings' log lines."""
    path = write_study(seeds=[0, 1], vary={"generator.activation": ["leaky_relu"]})
    assert main(["study", str(path), "--jobs", "2"]) == 0
    captured = capfd.readouterr()  # the workers' file descriptors too
    assert "all 2 runs finished" in captured.out and "Engine run" not in captured.err
    study = load_study(path)
    for plan in plan_study(study):
        assert plan.action == "skip" and stored(study, plan)["iteration"] == 3
        log = (study.directory / "logs" / f"{plan.run.name}.log").read_text()
        assert "Engine run finished" in log and f"finished at iteration 3: {plan.run_dir}" in log


@pytest.mark.slow  # a submitit job process that imports torch: about 12 s on 2 busy cores
def test_a_study_runs_on_submitit_local_jobs(tmp_path, write_study):
    """--executor submitit-local (Slurm's code path, as local processes): the run trains in a
    submitit job of its own (job files in the study directory), its record is stored, and the
    same command again submits nothing."""
    pytest.importorskip("submitit")
    path = write_study(vary={"generator.activation": ["leaky_relu"]})
    assert main(["study", str(path), "--executor", "submitit-local"]) == 0
    study = load_study(path)
    (plan,) = plan_study(study)
    assert plan.action == "skip" and stored(study, plan)["iteration"] == 3
    assert list((study.directory / "submitit").glob("*_result.pkl"))
    assert main(["study", str(path), "--executor", "submitit-local"]) == 0
    assert len(list((study.directory / "submitit").glob("*_result.pkl"))) == 1


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


def test_a_run_trained_before_a_config_key_existed_is_not_a_conflict(tmp_path, write_study):
    """A run whose saved config.yaml predates a key ganzoo added later (here train.n_critic and
    train.augment, removed from it) trained with that key's default: the study resumes it
    instead of refusing it as trained with other values."""
    import yaml

    path = write_study(vary={"generator.activation": ["leaky_relu"]})
    (plan,) = run_study(load_study(path))
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
