"""`ganzoo leaderboard` end to end on fast fake tasks: outputs, reuse, plugins, bad input; and
one real ring8 run with a tiny budget."""

from __future__ import annotations

import inspect
import json
from dataclasses import replace
from pathlib import Path

import leaderboard_fakes
import pytest
from leaderboard_fakes import fake_task

from ganzoo.cli import main
from ganzoo.leaderboard import tasks as task_module


@pytest.fixture
def fake_tasks(monkeypatch):
    """Two fake tasks in the suite, so `--tasks fake,fake2` runs in milliseconds."""
    monkeypatch.setitem(task_module.TASKS, "fake", fake_task("fake"))
    monkeypatch.setitem(task_module.TASKS, "fake2", fake_task("fake2"))
    leaderboard_fakes.CALLS.clear()


def _run(tmp_path, activations, *extra):
    argv = ["leaderboard", "--activations", activations, "--tasks", "fake,fake2"]
    return main([*argv, "--seeds", "2", "--out", str(tmp_path / "board"), *extra])


def test_writes_a_ranked_leaderboard_with_figures(tmp_path, fake_tasks, capsys):
    """The fake score is f(-1): relu (0) beats leaky_relu (-0.2) beats elu (-0.63) on both
    tasks, so the overall order is relu, leaky_relu, elu; the JSON, the Markdown and both
    figures are written, and the Markdown names the command that regenerates it."""
    assert _run(tmp_path, "elu,relu,leaky_relu") == 0
    out = tmp_path / "board"
    board = json.loads((out / "leaderboard.json").read_text())
    assert [e["activation"] for e in board["overall"]["final"]] == ["relu", "leaky_relu", "elu"]
    assert board["overall"]["final"][0]["rank"] == 1.0
    rows = board["per_task"]["fake"]["rows"]
    elu = next(r for r in rows if r["activation"] == "elu")
    assert elu["metrics"]["score"]["final"]["mean"] == pytest.approx(-0.63212 + 0.0005, abs=1e-4)
    # The curve climbs linearly to v: its mean level over (25, 50, 100) is
    # ((0.25 + 0.5) / 2 * 25 + (0.5 + 1) / 2 * 50) / 75 = 0.625 v.
    assert elu["metrics"]["score"]["auc"]["mean"] == pytest.approx(
        elu["metrics"]["score"]["final"]["mean"] * 0.625
    )
    assert elu["vs_baseline_final"]["better"] is False
    markdown = (out / "leaderboard.md").read_text()
    assert "ganzoo leaderboard --activations 'elu,relu,leaky_relu' --tasks fake,fake2" in markdown
    assert "## fake (version 1)" in markdown
    for name in ("leaderboard_ranks.png", "leaderboard_curves.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert "trained 12 cell(s)" in capsys.readouterr().out


def test_rerun_trains_nothing_and_an_added_activation_only_its_rows(tmp_path, fake_tasks, capsys):
    """The done-when check on fake tasks: again trains nothing; with mish added, only mish's
    2 seeds x 2 tasks run."""
    assert _run(tmp_path, "relu,leaky_relu") == 0
    assert _run(tmp_path, "relu,leaky_relu") == 0
    assert "0 cell(s) to run, 8 reused" in capsys.readouterr().out
    leaderboard_fakes.CALLS.clear()
    assert _run(tmp_path, "relu,leaky_relu,mish") == 0
    assert {call[1] for call in leaderboard_fakes.CALLS} == {"mish"}
    assert len(leaderboard_fakes.CALLS) == 4


def test_the_baseline_is_added_when_missing(tmp_path, fake_tasks, capsys):
    """Without leaky_relu in --activations it is run anyway, so every row has its paired test;
    kwargs in the spec reach the activation (elu alpha = 2 gives 2 (e^-1 - 1) = -1.26)."""
    assert _run(tmp_path, "elu(alpha=2.0)") == 0
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    assert board["activations"] == ["elu(alpha=2.0)", "leaky_relu"]
    row = next(r for r in board["per_task"]["fake"]["rows"] if r["activation"] != "leaky_relu")
    assert row["metrics"]["score"]["final"]["mean"] == pytest.approx(-1.2642 + 0.0005, abs=1e-4)
    assert "added the baseline leaky_relu" in capsys.readouterr().err


def test_a_plugin_ganzoo_has_never_seen_is_ranked(tmp_path, fake_tasks, install_plugin):
    """An activation from a freshly installed distribution joins the leaderboard; a plugin that
    raises becomes failed cells listed with the error, and the leaderboard is still written."""
    install_plugin(
        "ganzoo-shifted",
        "ganzoo_shifted_fixture",
        """
        from torch import nn

        class Shifted(nn.Module):
            def forward(self, x):
                return x + 2.0

        class Broken(nn.Module):
            def forward(self, x):
                raise ValueError("broken plugin forward")
        """,
        {
            "ganzoo.activations": {
                "shifted": "ganzoo_shifted_fixture:Shifted",
                "broken_act": "ganzoo_shifted_fixture:Broken",
            }
        },
    )
    assert _run(tmp_path, "shifted,broken_act,leaky_relu") == 0
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    order = [e["activation"] for e in board["overall"]["final"]]
    assert order == ["shifted", "leaky_relu", "broken_act"]  # f(-1) = 1 > -0.2 > failed
    assert len(board["failed"]) == 4
    assert all("broken plugin forward" in f["error"] for f in board["failed"])
    markdown = (tmp_path / "board" / "leaderboard.md").read_text()
    assert "## Failed cells" in markdown and "broken plugin forward" in markdown


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tasks", "ring9"], "unknown leaderboard task 'ring9'. Did you mean 'ring8'?"),
        (["--activations", "leaky_rel"], "Did you mean 'leaky_relu'?"),
        (["--activations", "elu(alpah=1)"], "unexpected keyword argument 'alpah'"),
        (["--seeds", "0"], "--seeds must be at least 1"),
        (["--activations", "elu(alpha=)"], "'alpha' has no value"),
    ],
)
def test_bad_input_is_refused_before_any_run(tmp_path, capsys, argv, message):
    """An unknown task or activation, a bad kwarg or a bad count: exit 2, one message with the
    closest name, and nothing written."""
    assert main(["leaderboard", *argv, "--out", str(tmp_path / "board")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "board").exists()


def test_an_unwritable_store_is_refused_before_any_cell_trains(tmp_path, fake_tasks, capsys):
    """A --store that cannot be created (here: below a file) is one error naming the store,
    before the first cell trains rather than after it."""
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert _run(tmp_path, "relu,leaky_relu", "--store", str(blocker / "store")) == 2
    err = capsys.readouterr().err
    assert "cannot write to the results store" in err and "--store" in err
    assert "Traceback" not in err
    assert leaderboard_fakes.CALLS == []


def test_real_ring8_with_a_tiny_budget(tmp_path, monkeypatch):
    """The real ring8 task (the mlp GAN on 8 Gaussians) with 40 updates, scored at 10, 20, 40,
    for two activations and one seed: both rows have modes counted at each point."""
    from ganzoo.modecollapse.runner import run_mixture_benchmark

    if "eval_at" not in inspect.signature(run_mixture_benchmark).parameters:
        pytest.skip("run_mixture_benchmark has no eval_at yet (the lead's runner refactor)")
    tiny = replace(task_module.TASKS["ring8"], budget=40, eval_points=(10, 20, 40))
    monkeypatch.setitem(task_module.TASKS, "ring8", tiny)
    argv = ["leaderboard", "--activations", "relu,leaky_relu", "--tasks", "ring8", "--seeds", "1"]
    assert main([*argv, "--out", str(tmp_path / "board")]) == 0
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    for row in board["per_task"]["ring8"]["rows"]:
        curve = row["metrics"]["modes_covered"]["curve"]
        assert [p["iteration"] for p in curve] == [10, 20, 40]
        assert all(0 <= p["mean"] <= 8 for p in curve)
    assert not board["failed"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--activations", "elu(alpha=abc)"], "elu(alpha='abc') builds but fails on a test input"),
        (["--tasks", "ring8,ring8"], "--tasks names ring8 more than once"),
        (["--executor", "slurm", "--cells-per-job", "0"], "--cells-per-job must be at least 1"),
    ],
)
def test_bad_values_are_refused_before_any_run(tmp_path, capsys, argv, message):
    """Issue 25: a kwarg value that builds but breaks the activation was trained, stored as
    failed and reused for ever; a repeated task counted twice in the mean rank. Both are now
    one line (exit 2) before anything trains or is written."""
    assert main(["leaderboard", *argv, "--out", str(tmp_path / "board")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "board").exists()


def test_the_baseline_given_in_another_spelling_is_not_added_again(tmp_path, fake_tasks, capsys):
    """Issue 25: `Leaky-ReLU` is the baseline leaky_relu: no "added the baseline" note, and
    one row for it."""
    assert _run(tmp_path, "relu,Leaky-ReLU") == 0
    assert "added the baseline" not in capsys.readouterr().err
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    assert board["activations"] == ["relu", "leaky_relu"]


@pytest.mark.parametrize("curve_null", [False, True])
def test_a_cell_file_of_the_wrong_shape_is_one_line(tmp_path, fake_tasks, capsys, curve_null):
    """Issue 25: a cell file holding valid JSON of the wrong shape crashed with a traceback;
    now exit 2 with one line naming the file and how to fix it."""
    assert _run(tmp_path, "relu,leaky_relu") == 0
    cell_file = sorted((tmp_path / "board" / "store" / "cells" / "fake").glob("*.json"))[0]
    record = {**json.loads(cell_file.read_text()), "curve": None}  # its own key, a null curve
    cell_file.write_text(json.dumps(record) if curve_null else "[1, 2, 3]")
    capsys.readouterr()
    assert _run(tmp_path, "relu,leaky_relu") == 2
    err = capsys.readouterr().err
    assert str(cell_file) in err and "delete the file" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_two_leaderboards_on_one_store_train_each_cell_once(tmp_path, fake_tasks, monkeypatch):
    """Issue 23/25: two `ganzoo leaderboard` commands started together on one store (forked
    processes) train each of the 8 cells once between them, both write the full leaderboard,
    and a third run trains nothing."""
    import multiprocessing

    log = tmp_path / "calls.log"
    monkeypatch.setattr(leaderboard_fakes, "LOG", log)
    monkeypatch.setattr(leaderboard_fakes, "SECONDS", 0.2)
    argv = ["leaderboard", "--activations", "relu,leaky_relu", "--tasks", "fake,fake2"]
    argv += ["--seeds", "2", "--store", str(tmp_path / "store")]
    context = multiprocessing.get_context("fork")  # the fake tasks live in this process only
    with context.Pool(2) as pool:
        outs = [str(tmp_path / name) for name in ("a", "b")]
        results = [pool.apply_async(main, ([*argv, "--out", out],)) for out in outs]
        assert [r.get(timeout=120) for r in results] == [0, 0]
    cells = [line.rsplit(" ", 1)[0] for line in log.read_text().splitlines()]
    assert len(cells) == 8 and len(set(cells)) == 8
    for out in outs:
        board = json.loads((tmp_path / out / "leaderboard.json").read_text())
        assert [e["activation"] for e in board["overall"]["final"]] == ["relu", "leaky_relu"]
    assert main([*argv, "--out", str(tmp_path / "c")]) == 0
    assert len(log.read_text().splitlines()) == 8


SIGTERM_RUNNER = """
import sys
sys.path.insert(0, {here!r})
from leaderboard_fakes import fake_task
from ganzoo.cli import main
from ganzoo.leaderboard import tasks
tasks.TASKS["fake"] = fake_task("fake")
sys.exit(main(["leaderboard", "--activations", "relu,leaky_relu", "--tasks", "fake", "--seeds", "2",
      "--jobs", "2", "--out", {out!r}]))
"""


def _alive(pid: int) -> bool:
    """Whether ``pid`` is running (a zombie, exited but not yet reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_on_a_jobs_2_leaderboard_leaves_no_worker(tmp_path, monkeypatch):
    """Issue 25: `kill -TERM` on `leaderboard --jobs 2` left its workers orphaned and hung.
    Now the command stops its workers and exits, and no cell cut off is stored."""
    import signal
    import subprocess
    import sys
    import time

    log = tmp_path / "calls.log"
    monkeypatch.setenv("GANZOO_FAKE_LOG", str(log))
    monkeypatch.setenv("GANZOO_FAKE_SECONDS", "60")
    here = str(Path(__file__).parent)
    script = SIGTERM_RUNNER.format(here=here, out=str(tmp_path / "board"))
    board = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 120
    while (not log.exists() or len(log.read_text().splitlines()) < 2) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    workers = [int(line.split()[-1]) for line in log.read_text().splitlines()]
    assert len(workers) == 2
    board.send_signal(signal.SIGTERM)
    assert board.wait(timeout=60) != 0
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
    assert not list((tmp_path / "board" / "store" / "cells").glob("*/*.json"))
