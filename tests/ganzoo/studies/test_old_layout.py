"""A study directory written before studies ran on the grid runner (study.json and
runs/<name>/<stamp>/ run directories, no cells/) is read as it is: its finished runs are
recorded without training, its interrupted run resumes from its checkpoint, and only the run
never started trains from scratch."""

from __future__ import annotations

import json
import os
import signal

import ganzoo
from ganzoo.cli import main
from ganzoo.report.runs import load_runs
from ganzoo.runs import list_checkpoints
from ganzoo.studies import load_study, plan_study, read_index, run_study
from ganzoo.studies.runner import train_study_run

# One epoch of 256 images at batch 32: 8 iterations, as the running 5-seed study counts epochs.
EPOCH_BASED = {"train.iterations": None, "train.epochs": 1}


def write_old_study(study, monkeypatch) -> dict:
    """What the previous runner left: each run trained by `ganzoo train BASE OVERRIDES
    train.progress=false --out STUDY/runs`; seed 0 finished, seed 1 stopped by SIGINT at
    iteration 4 (checkpointed), seed 2 never started; study.json in its format."""
    from ganzoo.engine import step as step_module

    original = step_module.GANStep.__call__
    runs = {}
    for run in study.runs():
        entry = {
            "variant": run.variant,
            "seed": run.seed,
            "levels": run.levels,
            "overrides": run.overrides,
            "run_dir": None,
            "status": "pending",
            "iteration": 0,
            "end": None,
            "problem": None,
        }
        if run.seed < 2:

            def stop_at_4(self, engine, batch, seed=run.seed):
                if seed == 1 and engine.state.iteration == 4:
                    os.kill(os.getpid(), signal.SIGINT)
                return original(self, engine, batch)

            monkeypatch.setattr(step_module.GANStep, "__call__", stop_at_4)
            result = ganzoo.train(
                study.base,
                [*run.overrides, "train.progress=false"],
                out=study.directory / "runs",
            )
            entry.update(
                run_dir=str(result.run_dir.relative_to(study.directory)),
                status="done" if result.ok else "interrupted",
                iteration=result.iteration,
                end=8,
            )
        runs[run.name] = entry
    monkeypatch.setattr(step_module.GANStep, "__call__", original)
    index = {"study": study.to_dict(), "runs": runs}
    (study.directory / "study.json").write_text(json.dumps(index, indent=2) + "\n")
    return index


def test_an_old_study_directory_continues_without_training_anything_twice(
    write_study, monkeypatch, capsys
):
    """Old layout: --dry-run plans skip/resume/new; the run trains only seeds 1 (resumed in
    its own run directory from iteration 4, not restarted) and 2; seed 0 gets its store record
    without training; study.json and the report see three finished runs."""
    path = write_study(
        seeds=3, vary={"generator.activation": ["leaky_relu"]}, overrides=EPOCH_BASED
    )
    study = load_study(path)
    old = write_old_study(study, monkeypatch)
    assert old["runs"]["leaky_relu_seed1"]["iteration"] == 4
    assert not (study.directory / "cells").exists()
    finished = study.directory / old["runs"]["leaky_relu_seed0"]["run_dir"]
    stopped = study.directory / old["runs"]["leaky_relu_seed1"]["run_dir"]
    finished_metrics = (finished / "metrics.jsonl").read_text()

    assert main(["study", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "leaky_relu_seed0: skip" in out and "leaky_relu_seed2: new" in out
    assert f"leaky_relu_seed1: resume ({stopped}, iteration 4)" in out

    trained = []

    def counting(payload, work_dir):
        trained.append(payload.run.name)
        return train_study_run(payload, work_dir)

    plans = run_study(study, run=counting)
    assert trained == ["leaky_relu_seed1", "leaky_relu_seed2"]
    assert [(p.action, p.status, p.iteration, p.end) for p in plans] == [
        ("skip", "skipped", 8, 8),
        ("resume", "done", 8, 8),
        ("new", "done", 8, 8),
    ]
    assert (finished / "metrics.jsonl").read_text() == finished_metrics
    assert plans[1].run_dir == stopped and len(list(stopped.parent.iterdir())) == 1
    lines = [json.loads(x) for x in (stopped / "metrics.jsonl").read_text().splitlines() if x]
    assert [x["iteration"] for x in lines if "loss_d" in x] == list(range(1, 9))
    assert list_checkpoints(stopped)[-1].name == "checkpoint_8.pt"
    records = [json.loads(p.read_text()) for p in (study.directory / "cells").glob("*/*.json")]
    assert sorted((r["key"]["run"], r["iteration"]) for r in records) == [
        ("leaky_relu_seed0", 8),
        ("leaky_relu_seed1", 8),
        ("leaky_relu_seed2", 8),
    ]
    index = read_index(study.directory)
    assert (
        index["runs"]["leaky_relu_seed0"]["run_dir"] == old["runs"]["leaky_relu_seed0"]["run_dir"]
    )
    assert [(r.name, r.reached, r.unfinished) for r in load_runs([study.directory])] == [
        ("leaky_relu_seed0", 8, False),
        ("leaky_relu_seed1", 8, False),
        ("leaky_relu_seed2", 8, False),
    ]
    assert [p.action for p in plan_study(study)] == ["skip", "skip", "skip"]
