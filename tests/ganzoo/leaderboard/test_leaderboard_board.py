"""From stored cell records to the leaderboard dict: the AUC view, families adjusted per task
and view, marks in the rows, and the one-seed convention (the statistics themselves:
tests/ganzoo/report/test_aggregate.py)."""

from __future__ import annotations

import math

import pytest

from ganzoo.leaderboard.board import area_under_curve, build_board
from ganzoo.leaderboard.runner import OK
from ganzoo.leaderboard.tasks import Metric, Task
from ganzoo.report.aggregate import holm

TASK = Task("toy", 1, "toy task", 100, (50, 100), (Metric("modes_covered", "modes"),), run=None)


def test_area_under_curve_is_the_mean_level():
    """Trapezoid over (250, 500, 1000) of (2, 4, 8): (3 * 250 + 6 * 500) / 750 = 5; a flat
    curve's area is its level; a nan point makes the area nan."""
    assert area_under_curve([250, 500, 1000], [2, 4, 8]) == pytest.approx(5.0)
    assert area_under_curve([1, 2, 3], [7, 7, 7]) == pytest.approx(7.0)
    assert area_under_curve([5], [3.0]) == 3.0
    assert math.isnan(area_under_curve([1, 2], [1.0, math.nan]))


def _records(finals: dict[str, list[float]]) -> dict:
    """Each label's seeds ending at the given modes (halfway: half of it)."""
    return {
        ("toy", label, seed): {
            "status": OK,
            "curve": [
                {"iteration": 50, "modes_covered": value / 2},
                {"iteration": 100, "modes_covered": value},
            ],
        }
        for label, values in finals.items()
        for seed, value in enumerate(values)
    }


def test_board_ranks_tests_and_adjusts_within_each_task_and_view():
    """'clear' covers ~2 modes more than the baseline at every seed, 'noisy' about as many:
    'clear' ranks first and is marked better (both tests pass Holm in the family of 2), 'noisy'
    is not; the family is one task and view, its Holm values those of the two raw p-values."""
    finals = {
        "base": [5.0, 5.2, 4.9, 5.1, 5.0],
        "clear": [7.1, 7.0, 7.2, 6.9, 7.0],
        "noisy": [4.0, 6.5, 5.0, 4.5, 6.0],
    }
    board = build_board([TASK], list(finals), list(range(5)), _records(finals), "base", "t")
    assert [e["activation"] for e in board["overall"]["final"]] == ["clear", "noisy", "base"]
    rows = {r["activation"]: r for r in board["per_task"]["toy"]["rows"]}
    clear, noisy = rows["clear"]["vs_baseline_final"], rows["noisy"]["vs_baseline_final"]
    assert clear["family"] == {"name": "toy, final", "size": 2}
    assert [clear["t_p_holm"], noisy["t_p_holm"]] == pytest.approx(
        holm([clear["t_p"], noisy["t_p"]])
    )
    assert clear["beyond_seed_noise"] and clear["better"] and clear["mean_difference"] > 1.9
    assert not noisy["beyond_seed_noise"]
    assert "vs_baseline_final" not in rows["base"]
    # The AUC view is the mean level over (50, 100): three quarters of the final value.
    assert rows["clear"]["metrics"]["modes_covered"]["auc"]["mean"] == pytest.approx(0.75 * 7.04)


def test_one_seed_has_no_std_and_a_failed_cell_is_listed():
    """One seed: std null (the one convention: no spread from one value), interval the value;
    a failed cell counts in seeds_failed and in the board's failed list."""
    records = _records({"base": [5.0], "other": [6.0]})
    records[("toy", "other", 1)] = {"status": "failed", "error": "boom"}
    board = build_board([TASK], ["base", "other"], [0, 1], records, "base", "t")
    row = next(r for r in board["per_task"]["toy"]["rows"] if r["activation"] == "other")
    final = row["metrics"]["modes_covered"]["final"]
    assert final == {"n": 1, "mean": 6.0, "std": None, "low": 6.0, "high": 6.0}
    assert (row["seeds_ok"], row["seeds_failed"]) == (1, 1)
    assert board["failed"] == [{"task": "toy", "activation": "other", "seed": 1, "error": "boom"}]
