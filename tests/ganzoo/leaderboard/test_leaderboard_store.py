"""The results store: reuse by key, invalidation by task and ganzoo version, damaged files."""

from __future__ import annotations

import json

from leaderboard_fakes import fake_task

from ganzoo.leaderboard.store import ResultStore
from ganzoo.leaderboard.tasks import Cell

RECORD = {"status": "ok", "curve": [{"iteration": 100, "score": 1.0}], "seconds": 1.0}


def test_a_stored_cell_is_found_by_the_same_key_only(tmp_path):
    """A record comes back for the same (activation, kwargs, task, version, seed, ganzoo
    version) and for nothing else: another seed, other kwargs, another plugin version."""
    store, task = ResultStore(tmp_path, version="1.0"), fake_task()
    cell = Cell("elu", {"alpha": 0.5}, "fake", 0)
    store.put(cell, task, RECORD)
    assert store.get(cell, task)["curve"] == RECORD["curve"]
    assert store.get(Cell("elu", {"alpha": 0.5}, "fake", 0), task) is not None  # a new object
    assert store.get(Cell("elu", {"alpha": 0.5}, "fake", 1), task) is None
    assert store.get(Cell("elu", {"alpha": 1.0}, "fake", 0), task) is None
    assert store.get(Cell("elu", {}, "fake", 0), task) is None
    assert store.get(Cell("elu", {"alpha": 0.5}, "fake", 0, "ganzoo-x 2.0"), task) is None


def test_a_new_task_or_ganzoo_version_does_not_reuse_old_results(tmp_path):
    """After a task's version (or budget) or ganzoo's version changes, the old record is not
    returned, and it is counted as stale (kept on disk, not used)."""
    cell = Cell("relu", {}, "fake", 0)
    ResultStore(tmp_path, version="1.0").put(cell, fake_task(version=1), RECORD)
    assert ResultStore(tmp_path, version="1.0").get(cell, fake_task(version=2)) is None
    assert ResultStore(tmp_path, version="1.0").get(cell, fake_task(budget=200)) is None
    assert ResultStore(tmp_path, version="1.1").get(cell, fake_task(version=1)) is None
    assert ResultStore(tmp_path, version="1.0").stale_count({"fake": fake_task(version=1)}) == 0
    assert ResultStore(tmp_path, version="1.0").stale_count({"fake": fake_task(version=2)}) == 1
    assert ResultStore(tmp_path, version="1.1").stale_count({"fake": fake_task(version=1)}) == 1


def test_a_damaged_record_is_treated_as_missing(tmp_path):
    """A truncated file (a kill while writing, before the atomic rename existed) makes its cell
    run again instead of stopping the leaderboard; writes leave no temporary files."""
    store, task, cell = ResultStore(tmp_path), fake_task(), Cell("relu", {}, "fake", 0)
    path = store.put(cell, task, RECORD)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    path.write_text(path.read_text()[:20])
    assert store.get(cell, task) is None
    store.put(cell, task, RECORD)
    assert json.loads(path.read_text())["status"] == "ok"
