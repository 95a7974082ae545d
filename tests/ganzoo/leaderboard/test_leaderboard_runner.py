"""Running cells: reuse, adding one activation, failed cells, parallel workers."""

from __future__ import annotations

from dataclasses import replace

import leaderboard_fakes
import pytest
from leaderboard_fakes import fake_task

from ganzoo.leaderboard.runner import execute_cell, run_cells
from ganzoo.leaderboard.store import ResultStore
from ganzoo.leaderboard.tasks import Cell


def _cells(task, activations, seeds=(0, 1)):
    return [(task, Cell(a, {}, task.name, s)) for a in activations for s in seeds]


@pytest.fixture(autouse=True)
def clear_calls():
    leaderboard_fakes.CALLS.clear()


def test_rerun_trains_nothing_and_a_new_activation_trains_only_its_rows(tmp_path):
    """First run: 4 cells trained. Same cells again: none. With elu added: only elu's 2."""
    store, task = ResultStore(tmp_path), fake_task()
    first = run_cells(_cells(task, ["relu", "tanh"]), store)
    assert (first.trained, first.reused) == (4, 0)
    again = run_cells(_cells(task, ["relu", "tanh"]), store)
    assert (again.trained, again.reused) == (0, 4)
    more = run_cells(_cells(task, ["relu", "tanh", "elu"]), store)
    assert (more.trained, more.reused) == (2, 4)
    assert [c[1] for c in leaderboard_fakes.CALLS[-2:]] == ["elu", "elu"]


def test_a_bumped_task_version_runs_every_row_again(tmp_path):
    """Results of version 1 are not mixed into version 2: all of its cells run."""
    store = ResultStore(tmp_path)
    run_cells(_cells(fake_task(version=1), ["relu"]), store)
    summary = run_cells(_cells(fake_task(version=2), ["relu"]), store)
    assert (summary.trained, summary.reused) == (2, 0)


def test_failures_become_failed_cells_with_their_error(tmp_path, install_plugin):
    """A plugin whose forward raises and a NaN score are stored as failed cells with their
    error; the other cells of the same run succeed."""
    install_plugin(
        "ganzoo-explodes",
        "ganzoo_explodes_fixture",
        """
        from torch import nn

        class Explodes(nn.Module):
            def forward(self, x):
                raise RuntimeError("kaboom inside the plugin")
        """,
        {"ganzoo.activations": {"explodes": "ganzoo_explodes_fixture:Explodes"}},
    )
    store, task = ResultStore(tmp_path), fake_task()
    summary = run_cells(_cells(task, ["explodes", "relu"], seeds=(0,)), store)
    assert (summary.trained, summary.failed) == (2, 1)
    failed = store.get(Cell("explodes", {}, "fake", 0), task)
    assert failed["status"] == "failed" and "kaboom inside the plugin" in failed["error"]
    assert store.get(Cell("relu", {}, "fake", 0), task)["status"] == "ok"
    # A failed cell is reused (it would fail again) unless asked to retry.
    assert run_cells(_cells(task, ["explodes"], seeds=(0,)), store).trained == 0
    assert run_cells(_cells(task, ["explodes"], seeds=(0,)), store, retry_failed=True).trained == 1


def test_a_nan_score_fails_the_cell(tmp_path, monkeypatch):
    """A run whose ranking metric is NaN is a failed cell naming the metric and iteration."""
    monkeypatch.setattr(leaderboard_fakes, "score", lambda *args: float("nan"))
    record = execute_cell(fake_task(), Cell("relu", {}, "fake", 0), tmp_path)
    assert record["status"] == "failed"
    assert record["error"] == "score is nan at iteration 25"


def test_parallel_workers_store_every_cell(tmp_path):
    """--jobs 2: two worker processes run the cells; every result is stored with the curve a
    single process gives."""
    store, task = ResultStore(tmp_path), fake_task()
    cells = _cells(task, ["relu", "sigmoid"], seeds=(0, 1))
    summary = run_cells(cells, store, jobs=2)
    assert (summary.trained, summary.failed) == (4, 0)
    record = store.get(Cell("sigmoid", {}, "fake", 1), task)
    expected = execute_cell(task, Cell("sigmoid", {}, "fake", 1), tmp_path)
    assert record["curve"] == expected["curve"]
    assert record["final"]["score"] == pytest.approx(0.26894142 + 0.001)


def test_an_interrupted_leaderboard_resumes_with_what_is_missing(tmp_path):
    """Ctrl-C during the third cell stops the run: the two finished cells are stored, the
    interrupted one is not (it is not a failure); the next run trains only the rest."""
    store = ResultStore(tmp_path)
    interrupted = replace(fake_task(), run=leaderboard_fakes.run_interrupted_at_tanh)
    cells = _cells(interrupted, ["relu", "tanh", "elu"], seeds=(0,))
    with pytest.raises(KeyboardInterrupt):
        run_cells(cells, store)
    assert store.get(Cell("tanh", {}, "fake", 0), interrupted) is None
    summary = run_cells(_cells(fake_task(), ["relu", "tanh", "elu"], seeds=(0,)), store)
    assert (summary.trained, summary.reused) == (2, 1)


@pytest.mark.slow
def test_a_dying_worker_fails_only_its_cell(tmp_path):
    """A worker process that dies (os._exit, as if killed) breaks the pool: its cell is tried
    once more and then recorded as failed; the other cells still finish."""
    store = ResultStore(tmp_path)
    task = replace(fake_task(), run=leaderboard_fakes.run_dying_at_tanh)
    summary = run_cells(_cells(task, ["relu", "tanh", "elu"], seeds=(0,)), store, jobs=2)
    assert (summary.trained, summary.failed) == (3, 1)
    assert store.get(Cell("tanh", {}, "fake", 0), task)["error"] == "the worker process died twice"
    assert store.get(Cell("elu", {}, "fake", 0), task)["status"] == "ok"
