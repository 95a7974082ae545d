"""The leaderboard on the grid runner: keys, reuse, adding one activation, failed cells,
version changes, interruption, a dying worker, old stores read as they are."""

from __future__ import annotations

import json
from dataclasses import replace

import leaderboard_fakes
import pytest
from leaderboard_fakes import fake_task

from ganzoo.experiments import RecordStore, run_grid
from ganzoo.experiments.executors import LocalExecutor
from ganzoo.leaderboard.runner import cell_key, grid_cells, run_cell, stale_count, stored_records
from ganzoo.leaderboard.tasks import Cell


def _cells(task, activations, seeds=(0, 1)):
    return [(task, Cell(a, {}, task.name, s)) for a in activations for s in seeds]


def _run(cells, store, **kwargs):
    return run_grid(grid_cells(cells, "1.0"), store, run_cell, **kwargs)


def _get(store, task, cell):
    return store.get(task.name, cell_key(cell, task, "1.0"))


@pytest.fixture(autouse=True)
def clear_calls():
    leaderboard_fakes.CALLS.clear()


def test_rerun_trains_nothing_and_a_new_activation_trains_only_its_rows(tmp_path):
    """First run: 4 cells trained. Same cells again: none. With elu added: only elu's 2."""
    store, task = RecordStore(tmp_path), fake_task()
    first = _run(_cells(task, ["relu", "tanh"]), store)
    assert (first.trained, first.reused) == (4, 0)
    again = _run(_cells(task, ["relu", "tanh"]), store)
    assert (again.trained, again.reused) == (0, 4)
    more = _run(_cells(task, ["relu", "tanh", "elu"]), store)
    assert (more.trained, more.reused) == (2, 4)
    assert [c[1] for c in leaderboard_fakes.CALLS[-2:]] == ["elu", "elu"]


def test_a_key_changes_with_kwargs_seed_origin_and_versions():
    """A cell's key (and so its record) differs with anything its numbers depend on."""
    task, cell = fake_task(), Cell("elu", {"alpha": 0.5}, "fake", 0)
    key = cell_key(cell, task, "1.0")
    assert key == cell_key(Cell("elu", {"alpha": 0.5}, "fake", 0), task, "1.0")
    others = [
        cell_key(replace(cell, seed=1), task, "1.0"),
        cell_key(replace(cell, kwargs={"alpha": 1.0}), task, "1.0"),
        cell_key(replace(cell, origin="ganzoo-x 2.0"), task, "1.0"),
        cell_key(cell, fake_task(version=2), "1.0"),
        cell_key(cell, fake_task(budget=200), "1.0"),
        cell_key(cell, task, "1.1"),
    ]
    assert all(other != key for other in others)


def test_a_bumped_task_version_runs_every_row_again_and_counts_the_old_as_stale(tmp_path):
    """Results of version 1 are not mixed into version 2: all of its cells run, and the old
    records are counted as stale (kept on disk, not used)."""
    store = RecordStore(tmp_path)
    _run(_cells(fake_task(version=1), ["relu"]), store)
    summary = _run(_cells(fake_task(version=2), ["relu"]), store)
    assert (summary.trained, summary.reused) == (2, 0)
    assert stale_count(store, {"fake": fake_task(version=2)}, "1.0") == 2
    assert stale_count(store, {"fake": fake_task(version=2)}, "1.1") == 4


def test_failures_become_failed_cells_with_their_error(tmp_path, install_plugin):
    """A plugin whose forward raises and a NaN score are stored as failed cells with their
    error; the other cells of the same run succeed; failed cells are reused unless retried."""
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
    store, task = RecordStore(tmp_path), fake_task()
    summary = _run(_cells(task, ["explodes", "relu"], seeds=(0,)), store)
    assert (summary.trained, summary.failed) == (2, 1)
    failed = _get(store, task, Cell("explodes", {}, "fake", 0))
    assert failed["status"] == "failed" and "kaboom inside the plugin" in failed["error"]
    assert _get(store, task, Cell("relu", {}, "fake", 0))["status"] == "ok"
    assert _run(_cells(task, ["explodes"], seeds=(0,)), store).trained == 0
    assert _run(_cells(task, ["explodes"], seeds=(0,)), store, retry_failed=True).trained == 1


def test_a_nan_score_fails_the_cell(tmp_path, monkeypatch):
    """A run whose ranking metric is NaN is a failed cell naming the metric and iteration."""
    monkeypatch.setattr(leaderboard_fakes, "score", lambda *args: float("nan"))
    record = run_cell((fake_task(), Cell("relu", {}, "fake", 0)), tmp_path)
    assert record["status"] == "failed"
    assert record["error"] == "score is nan at iteration 25"


def test_an_interrupted_leaderboard_resumes_with_what_is_missing(tmp_path):
    """Ctrl-C during the third cell stops the run: the two finished cells are stored, the
    interrupted one is not (it is not a failure); the next run trains only the rest."""
    store = RecordStore(tmp_path)
    interrupted = replace(fake_task(), run=leaderboard_fakes.run_interrupted_at_tanh)
    with pytest.raises(KeyboardInterrupt):
        _run(_cells(interrupted, ["relu", "tanh", "elu"], seeds=(0,)), store)
    assert _get(store, interrupted, Cell("tanh", {}, "fake", 0)) is None
    summary = _run(_cells(fake_task(), ["relu", "tanh", "elu"], seeds=(0,)), store)
    assert (summary.trained, summary.reused) == (2, 1)


def test_a_store_written_by_ganzoo_0_1_is_read_as_it_is(tmp_path):
    """A cell file in the layout and key of the leaderboard store before the experiment
    system (cells/<task>/<sha>.json, mode 0600) is reused, not trained again."""
    task, cell = fake_task(), Cell("relu", {}, "fake", 0)
    key = cell_key(cell, task, "1.0")
    old = RecordStore(tmp_path).path("fake", key)
    old.parent.mkdir(parents=True)
    curve = [{"iteration": i, "score": 0.0, "extra": 0.0} for i in (25, 50, 100)]
    record = {"key": key, "status": "ok", "curve": curve, "final": curve[-1], "seconds": 1.0}
    old.write_text(json.dumps(record, indent=1, sort_keys=True))
    old.chmod(0o600)
    summary = _run([(task, cell)], RecordStore(tmp_path))
    assert (summary.trained, summary.reused) == (0, 1)


@pytest.mark.slow
def test_a_dying_worker_fails_only_its_cell(tmp_path):
    """A worker process that dies (os._exit, as if killed) breaks the pool: its cell is tried
    once more, alone, and then recorded as failed; the other cells still finish, including the
    one the first death broke beside it (it failed 1 run in 6 when retries shared a pool)."""
    store = RecordStore(tmp_path)
    task = replace(fake_task(), run=leaderboard_fakes.run_dying_at_tanh)
    cells = _cells(task, ["relu", "tanh", "elu"], seeds=(0,))
    summary = _run(cells, store, executor=LocalExecutor(2))
    assert (summary.trained, summary.failed) == (3, 1)
    tanh = _get(store, task, Cell("tanh", {}, "fake", 0))
    assert tanh["error"] == "the worker process died twice"
    assert _get(store, task, Cell("elu", {}, "fake", 0))["status"] == "ok"


def test_stored_records_are_found_by_task_label_and_seed_and_missing_ones_left_out(tmp_path):
    """After seed 0 of relu ran, asking for seeds 0 and 1 finds seed 0's record only, under
    (task, label, seed), the key build_board reads."""
    store, task = RecordStore(tmp_path), fake_task()
    _run(_cells(task, ["relu"], seeds=(0,)), store)
    found = stored_records(store, grid_cells(_cells(task, ["relu"]), "1.0"))
    assert list(found) == [(task.name, "relu", 0)]
    assert found[(task.name, "relu", 0)]["status"] == "ok"
