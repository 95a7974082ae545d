"""``ganzoo report``: report.md with its figures from run directories or a study directory."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
import yaml

from ganzoo.cli import main
from ganzoo.report import load_run, load_runs, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_SIGNATURE


def test_report_from_a_study_directory_has_figures_table_and_collapse(make_run, tmp_path):
    """A study directory (study.json) is read through its index and grouped by its levels; every
    figure is a non-empty PNG linked from report.md; the table shows the known means; the
    flagged collapse point is listed with the epoch it fell in."""
    study = tmp_path / "study"
    entries = {}
    for activation in ("psf", "leaky_relu"):
        for seed in (0, 1):
            fids = [50.0, 40.0, 30.0 + seed] if activation == "psf" else [50.0, 45.0, 44.0]
            run_dir = make_run(
                activation,
                seed,
                fids=fids,
                coverage=[0.5, 0.6, 0.7],
                collapse_at=20 if activation == "leaky_relu" else None,
                root=study / "runs",
            )
            entries[f"{activation}_seed{seed}"] = {
                "levels": {"activation": activation},
                "run_dir": str(run_dir.relative_to(study)),
            }
    (study / "study.json").write_text(json.dumps({"study": {}, "runs": entries}))

    report = write_report([study], tmp_path / "out", title="Toy study")
    out = tmp_path / "out"
    for name in ("losses", "eval_metrics", "final_samples", "activation_params", "activations"):
        assert _is_png(out / f"{name}.png"), name
        assert f"({name}.png)" in report.read_text()
    text = report.read_text()
    assert text.startswith("# Toy study")
    assert (
        "| fid (last periodic eval) (↓) | 30.5 ± 0.7071 (n=2) | 44 ± 0 (n=2) "
        "| ▼ 13.5 [7.147, 19.85] | 2 |" in text
    )
    assert "| leaky_relu | 0 | 20 | 2 | coverage | 0.8 → 0.2 |" in text
    summary = json.loads((out / "summary.json").read_text())
    fid = next(row for row in summary if row["metric"] == "fid (last periodic eval)")
    assert fid["groups"]["psf"]["mean"] == 30.5 and fid["tests"]["leaky_relu"]["n"] == 2


def test_cli_report_on_run_directories_without_evaluation(make_run, tmp_path, capsys):
    """Run directories with training lines only: the loss figure and the table are there, the
    evaluation figure says there is no data, and the CLI prints the report's path."""
    dirs = [str(make_run(a, s, final_loss_d=1.0 + s)) for a in ("psf", "leaky_relu") for s in (0,)]
    assert main(["report", *dirs, "-o", str(tmp_path / "rep"), "--baseline", "leaky_relu"]) == 0
    path = capsys.readouterr().out.strip().splitlines()[-1]
    text = Path(path).read_text()
    assert _is_png(tmp_path / "rep" / "losses.png")
    assert not (tmp_path / "rep" / "eval_metrics.png").exists()
    assert "No periodic evaluation in these runs" in text
    assert "psf − leaky_relu" in text
    assert "n too small for a test" in text


def test_loading_keeps_the_last_line_per_iteration_and_eval_json(make_run):
    """A resumed run repeats iterations after its checkpoint: the later line wins; eval JSON
    files (ganzoo eval) become summary rows; a folder holding run directories is searched."""
    run_dir = make_run("psf", 0, final_loss_d=2.0)
    with (run_dir / "metrics.jsonl").open("a") as handle:
        handle.write(json.dumps({"iteration": 30, "epoch": 1, "loss_d": 7.0, "avg_loss_d": 3.0}))
        handle.write("\n")
    (run_dir / "eval").mkdir()
    (run_dir / "eval" / "smoke.json").write_text(json.dumps({"fid": 12.5, "coverage": 0.4}))
    run = load_run(run_dir)
    assert [r["iteration"] for r in run.train] == [10, 20, 30]
    assert run.series("loss_d") == ([10, 20, 30], [1.0, 2.0, 7.0])
    from ganzoo.report import run_summary

    summary = run_summary(run)
    assert summary["final loss_d (running avg)"] == 3.0
    assert summary["fid (eval smoke)"] == 12.5
    assert [r.path for r in load_runs([run_dir.parent.parent])] == [run_dir]


def test_group_by_a_key_no_run_has_is_refused_with_the_varying_keys(make_run, tmp_path, capsys):
    """--group-by train.nosuch used to put every run in one group "unset" and exit 0: it is
    refused (exit 2), naming the keys that do differ between the runs."""
    dirs = [str(make_run(a, 0)) for a in ("psf", "leaky_relu")]
    code = main(["report", *dirs, "-o", str(tmp_path / "rep"), "--group-by", "train.nosuch"])
    assert code == 2
    err = capsys.readouterr().err
    assert "train.nosuch" in err and "generator.activation" in err
    assert not (tmp_path / "rep" / "report.md").exists()


def test_report_onto_an_existing_file_is_one_line(make_run, tmp_path, capsys):
    """-o naming an existing file: one line saying a report is a directory; the file is kept."""
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert main(["report", str(make_run("psf", 0)), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert "is a file" in err and "Traceback" not in err and err.count("\n") == 1
    assert target.read_text() == "mine"


def test_a_full_disk_while_drawing_leaves_no_partial_figure(
    make_run, tmp_path, monkeypatch, capsys
):
    """ENOSPC while a figure is written (simulated: savefig creates its file, then fails) is
    one line, and no 0-byte PNG is left in the report directory."""
    import errno

    from matplotlib.figure import Figure

    def full_disk(self, path, **kwargs):
        Path(path).write_bytes(b"")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    assert main(["report", str(make_run("psf", 0)), "-o", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and err.count("\n") == 1
    assert [p.name for p in (tmp_path / "rep").iterdir()] == []


def test_runs_stopped_before_their_planned_end_are_named_as_unfinished(make_run, tmp_path):
    """A run logged to iteration 30 of a planned 60, and an epoch-based run whose checkpoint gives
    10 iterations per epoch (5 epochs: 50 planned), are flagged with where they stopped; a run
    that reached its end (30 of 30) is not."""

    runs = tmp_path / "runs"
    done = make_run("psf", 0, root=runs)
    short = make_run("leaky_relu", 0, root=runs, **{"train.iterations": 60})
    by_epochs = make_run("leaky_relu", 1, root=runs, **{"train.iterations": None})
    config = yaml.safe_load((by_epochs / "config.yaml").read_text())
    config["train"]["epochs"] = 5
    (by_epochs / "config.yaml").write_text(yaml.safe_dump(config))
    checkpoint = {"generator": {}, "config": config, "trainer": {"epoch_length": 10}}
    torch.save(checkpoint, by_epochs / "checkpoints" / "checkpoint_30.pt")

    text = write_report([done, short, by_epochs], tmp_path / "out").read_text()
    assert "**Unfinished: 2 of 3 runs stopped before their planned end**" in text
    assert "leaky_relu_seed0 at 30 of 60, leaky_relu_seed1 at 30 of 50)" in text
    assert f"| 30 | `{done}` |" in text and f"| 30 of 60 | `{short}` |" in text


def test_seeds_evaluated_to_different_points_draw_without_numpy_warnings(make_run, tmp_path):
    """A group whose seeds stop at different iterations (one still training) leaves one-seed
    columns in the curves; the report draws them without numpy's degrees-of-freedom warning
    reaching the user."""
    runs = tmp_path / "runs"
    make_run("psf", 0, fids=[90.0, 70.0, 60.0], root=runs)
    short = make_run("psf", 1, fids=[95.0, 75.0, 65.0], root=runs)
    metrics = short / "metrics.jsonl"
    kept = [line for line in metrics.read_text().splitlines() if '"iteration": 30' not in line]
    metrics.write_text("\n".join(kept) + "\n")

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        report = write_report([runs], tmp_path / "out")
    assert (report.parent / "eval_metrics.png").is_file()
