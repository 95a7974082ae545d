"""The published leaderboards in docs/results are what their committed result stores give: a
change to the cell keys, the ranking or the statistics that would alter a published number
fails here (issue 24: every published result regenerates from its records)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganzoo.activations import ACTIVATIONS
from ganzoo.cli.leaderboard import parse_activation
from ganzoo.experiments import RecordStore
from ganzoo.leaderboard.board import build_board
from ganzoo.leaderboard.runner import grid_cells, stored_records
from ganzoo.leaderboard.tasks import Cell, get_task

RESULTS = Path(__file__).resolve().parents[3] / "docs" / "results"

# Leaderboards whose result stores are committed beside them (OUT/store of `ganzoo leaderboard`).
PUBLISHED = ["leaderboard_converged"]


def rebuild_board(published: dict, store: RecordStore) -> dict:
    """The board of ``published``'s tasks, activations, seeds and baseline, built from the
    records ``store`` holds for them (read only: nothing trains, nothing is written)."""
    tasks = [get_task(name) for name in published["tasks"]]
    activations = [parse_activation(label) for label in published["activations"]]
    pairs = [
        (task, Cell(name, kwargs, task.name, seed, ACTIVATIONS.origin(name)))
        for task in tasks
        for name, kwargs in activations
        for seed in published["seeds"]
    ]
    records = stored_records(store, grid_cells(pairs, published["ganzoo_version"]))
    return build_board(
        tasks,
        published["activations"],
        published["seeds"],
        records,
        published["baseline"],
        published["ganzoo_version"],
    )


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_leaderboard_is_regenerated_from_its_store(name):
    """Every cell of docs/results/NAME/leaderboard.json is in its committed store (none failed
    or missing), and the board rebuilt from those records equals the committed one, number for
    number: ranks, bootstrap intervals, tests and their Holm/BH adjustments."""
    published = json.loads((RESULTS / name / "leaderboard.json").read_text())
    published.pop("command")
    store = RecordStore(RESULTS / name / "store")
    rebuilt = json.loads(json.dumps(rebuild_board(published, store)))
    cells = len(published["tasks"]) * len(published["activations"]) * len(published["seeds"])
    assert sum(r["seeds_ok"] for t in rebuilt["per_task"].values() for r in t["rows"]) == cells
    assert rebuilt == published
