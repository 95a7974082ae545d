"""Archived study records: a finished run's config, metrics and progress without checkpoints,
which `ganzoo report` reads as finished and `ganzoo study` skips instead of training again."""

from __future__ import annotations

import json

from ganzoo.cli import main
from ganzoo.report.runs import load_runs
from ganzoo.studies import archive_study, load_study, plan_study, run_study


def must_not_run(payload, work_dir) -> dict:
    raise AssertionError(f"nothing should be trained, got {payload.run.name}")


# One epoch of 256 images at batch 32: 8 iterations, so the end is known only from the epoch
# length the trainer recorded.
EPOCH_BASED = {"train.iterations": None, "train.epochs": 1}


def test_archived_records_are_finished_runs_for_the_report_and_the_runner(
    tmp_path, write_study, capsys
):
    """Two finished epoch-based runs are archived with no checkpoints and a progress.json that
    carries the epoch length; the report reads them as finished at 8 of 8; a study pointed at
    the archive trains nothing; a record whose progress says unfinished trains again."""
    vary = {"generator.activation": ["leaky_relu", "psf"]}
    path = write_study(vary=vary, overrides=EPOCH_BASED)
    study = load_study(path)
    assert [p.status for p in run_study(study)] == ["done", "done"]

    root = tmp_path / "archive"
    assert main(["study", str(path), "--archive", str(root)]) == 0
    assert "2 finished runs archived" in capsys.readouterr().out
    records = sorted((root / study.name / "runs").glob("*/*"))
    assert [r.parent.name for r in records] == ["leaky_relu_seed0", "psf_seed0"]
    for record in records:
        assert not (record / "checkpoints").exists()
        assert {"config.yaml", "metrics.jsonl", "progress.json"} <= {
            p.name for p in record.iterdir()
        }
        progress = json.loads((record / "progress.json").read_text())
        assert progress == {"iteration": 8, "end": 8, "epoch_length": 8}
        assert len(list((record / "samples").glob("iter_*.png"))) == 1

    runs = load_runs([root / study.name])
    assert [(r.name, r.reached, r.end, r.unfinished) for r in runs] == [
        ("leaky_relu_seed0", 8, 8, False),
        ("psf_seed0", 8, 8, False),
    ]

    from_archive = load_study(path, out=root)
    assert [p.action for p in plan_study(from_archive)] == ["skip", "skip"]
    assert [p.status for p in run_study(from_archive, run=must_not_run)] == [
        "skipped",
        "skipped",
    ]

    progress_file = records[1] / "progress.json"
    progress_file.write_text(json.dumps({"iteration": 4, "end": 8, "epoch_length": 8}))
    plans = plan_study(from_archive)
    assert [(p.action, p.run_dir) for p in plans] == [("skip", records[0]), ("new", None)]


def test_unfinished_and_untrained_runs_are_left_out(tmp_path, write_study, capsys):
    """Runs short of the study's end (it was lengthened to 2 epochs) cannot be resumed from a
    record, so none is archived and each is named with where it stands."""
    vary = {"generator.activation": ["leaky_relu"]}
    path = write_study(vary=vary, overrides=EPOCH_BASED)
    run_study(load_study(path))
    longer = write_study(vary=vary, overrides={**EPOCH_BASED, "train.epochs": 2}, seeds=[0, 1])
    result = archive_study(load_study(longer), tmp_path / "archive")
    assert result.archived == []
    assert [(p.run.name, p.iteration, p.end) for p in result.left_out] == [
        ("leaky_relu_seed0", 8, 16),
        ("leaky_relu_seed1", 0, None),
    ]
    assert main(["study", str(longer), "--archive", str(tmp_path / "archive")]) == 0
    out = capsys.readouterr().out
    assert "left out leaky_relu_seed0: iteration 8 of 16" in out
    assert "left out leaky_relu_seed1: not trained" in out


def test_kept_generators_score_like_the_runs_they_come_from(tmp_path, write_study, capsys):
    """--keep-generators keeps each finished run's final generator (no discriminator, no
    optimizer state) as a directory that loads with the run's exact weights, so a protocol
    declared after training can still score it; without --archive the flag is refused."""
    import torch

    from ganzoo.runs import is_run_dir, load_latest_checkpoint
    from ganzoo.sampling import load_generator

    path = write_study(vary={"generator.activation": ["psf"]}, overrides=EPOCH_BASED)
    study = load_study(path)
    assert [p.status for p in run_study(study)] == ["done"]
    assert main(["study", str(path), "--keep-generators"]) == 2
    assert "add --archive ROOT" in capsys.readouterr().err

    root = tmp_path / "archive"
    assert main(["study", str(path), "--archive", str(root), "--keep-generators"]) == 0
    kept = root / study.name / "generators" / "psf_seed0"
    assert is_run_dir(kept)
    _, original = load_latest_checkpoint(next((study.directory / "runs" / "psf_seed0").glob("*")))
    checkpoint, data = load_latest_checkpoint(kept)
    assert checkpoint.name == "checkpoint_8.pt"
    assert set(data) == {"config", "generator", "trainer"}
    loaded = load_generator(kept)
    assert loaded.iteration == 8
    for name, tensor in loaded.generator.state_dict().items():
        assert torch.equal(tensor, original["generator"][name]), name
    # the record itself still holds no checkpoint, and the report still reads the archive
    assert not list((root / study.name / "runs").glob("*/*/checkpoints"))
    assert [r.name for r in load_runs([root / study.name])] == ["psf_seed0"]
    # scored afterwards (`ganzoo eval KEPT --suite final` writes KEPT/eval/final.json), the
    # kept generator's final scores are the archived run's in the report
    (kept / "eval").mkdir()
    (kept / "eval" / "final.json").write_text(json.dumps({"fid": 12.5, "num_generated": 5000}))
    (run,) = load_runs([root / study.name])
    assert run.eval_files["final"] == {"fid": 12.5, "num_generated": 5000}
