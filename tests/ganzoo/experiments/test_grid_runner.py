"""The grid runner: grids, reuse, failures, and two runners sharing one store at once."""

from __future__ import annotations

import multiprocessing
from collections import Counter

import experiments_fakes
from experiments_fakes import calls, fake_cells, run_fake

from ganzoo.experiments import RecordStore, grid, run_grid
from ganzoo.experiments.store import check_record


def test_a_grid_is_every_combination_seed_by_seed():
    """Two factors of 2 and 1 levels over seeds 0, 1: 4 cells, all of seed 0 first."""
    cells = grid({"activation": ["psf", "elu"], "task": ["ring8"]}, [0, 1])
    assert cells == [
        {"activation": "psf", "task": "ring8", "seed": 0},
        {"activation": "elu", "task": "ring8", "seed": 0},
        {"activation": "psf", "task": "ring8", "seed": 1},
        {"activation": "elu", "task": "ring8", "seed": 1},
    ]


def test_rerun_trains_nothing_and_failures_are_stored(tmp_path):
    """First run trains 4 cells (one fails with its error stored); again trains none; with
    retry_failed only the failed one runs again."""
    store, log = RecordStore(tmp_path / "store"), tmp_path / "calls.log"
    cells = fake_cells(log, 4, fail=("cell1-seed0",))
    first = run_grid(cells, store, run_fake)
    assert (first.trained, first.reused, first.failed) == (4, 0, 1)
    failed = store.get("fake", cells[2].key)
    assert (
        failed["status"] == "failed"
        and failed["error"] == "ValueError: fake failure in cell1-seed0"
    )
    assert store.get("fake", cells[3].key)["final"]["score"] == 11  # seed 1 + 10 * index 1
    again = run_grid(cells, store, run_fake)
    assert (again.trained, again.reused) == (0, 4)
    retried = run_grid(cells, store, run_fake, retry_failed=True)
    assert (retried.trained, retried.reused) == (1, 3)
    assert calls(log)[-1] == "cell1-seed0"


def test_two_runners_on_one_store_split_the_work_and_a_third_trains_nothing(tmp_path):
    """Issue 23/25: two runners started together on one store (separate processes, as two
    `ganzoo leaderboard` commands) train every cell exactly once between them, every record
    is whole, and a third run trains nothing."""
    store, log = tmp_path / "store", tmp_path / "calls.log"
    context = multiprocessing.get_context("fork")  # the fakes use no torch: fork is safe, fast
    with context.Pool(2) as pool:
        args = (str(store), str(log), 8, 0.3)
        results = [pool.apply_async(experiments_fakes.run_board, args) for _ in range(2)]
        summaries = [r.get(timeout=120) for r in results]
    assert Counter(calls(log)) == Counter({c.label: 1 for c in fake_cells(log, 8)})
    assert sum(trained for trained, _ in summaries) == 8
    assert all(trained + reused == 8 for trained, reused in summaries)
    records = list(RecordStore(store).records())
    assert len(records) == 8
    for record in records:
        check_record(record, store)
    third = run_grid(fake_cells(log, 8), RecordStore(store), run_fake)
    assert (third.trained, third.reused) == (0, 8)
    assert len(calls(log)) == 8


def test_a_cell_another_runner_holds_is_waited_for_not_trained(tmp_path):
    """A cell claimed elsewhere is skipped, then waited for; when that runner releases it
    without a record (it was stopped), this runner trains it."""
    store, log = RecordStore(tmp_path / "store"), tmp_path / "calls.log"
    cells = fake_cells(log, 2)
    held = cells[0]
    with store.claim(held.group, held.key):
        # Run in a thread-free way: the claim is ours, so the runner's claim fails (BUSY) and
        # it waits; we release by leaving the block only after checking nothing trained it.
        import threading

        summary = {}
        runner = threading.Thread(target=lambda: summary.update(s=run_grid(cells, store, run_fake)))
        runner.start()
        runner.join(1.0)
        assert runner.is_alive() and calls(log) == ["cell0-seed1"]
    runner.join(10)
    assert calls(log) == ["cell0-seed1", "cell0-seed0"]
    assert (summary["s"].trained, summary["s"].reused) == (2, 0)
