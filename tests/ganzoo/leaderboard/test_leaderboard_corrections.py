"""The leaderboard's marks rest on p-values adjusted within a family (one task and view):
Holm and Benjamini-Hochberg on both the paired and Welch's tests, known answers by hand."""

from __future__ import annotations

import pytest

from ganzoo.leaderboard.ranking import adjust_task_comparisons, compare_to_baseline
from ganzoo.leaderboard.report import _versus


def test_a_raw_win_that_does_not_survive_holm_is_not_marked():
    """Four comparisons with paired p = 0.01, 0.04, 0.03, 0.005 (Holm: 0.03, 0.06, 0.06,
    0.02) and Welch p all 0.001 (Holm 0.004): only 'a' and 'd' keep their mark; 'b' (raw
    0.04 < 0.05) loses it. An untested entry (None) is not counted in the family."""
    paired = {"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.005}
    entries = {k: {"t_p": p, "welch_p": 0.001} for k, p in paired.items()}
    entries["e"] = {"t_p": None, "welch_p": None}
    adjust_task_comparisons(entries, "ring8, final")
    holm = {k: entries[k]["t_p_holm"] for k in paired}
    assert holm == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06, "d": 0.02})
    assert entries["b"]["t_p_bh"] == pytest.approx(0.04)
    assert entries["a"]["welch_p_holm"] == pytest.approx(0.004)
    assert [k for k, e in entries.items() if e["beyond_seed_noise"]] == ["a", "d"]
    assert entries["a"]["family"] == {"name": "ring8, final", "size": 4}
    assert entries["e"]["t_p_holm"] is None and not entries["e"]["beyond_seed_noise"]


def test_comparison_carries_welch_and_the_table_cell_shows_interval_and_holm():
    """compare_to_baseline adds Welch's test; the cell shows the difference, its paired 95%
    interval and the adjusted p-values, and the mark only when both survive Holm."""
    comparison = compare_to_baseline({0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: 3.5, 2: 5.0}, True)
    assert comparison.welch is not None and comparison.welch.n_other == 3
    entry = {
        "pairs": 3,
        "mean_difference": 1.5,
        "t_p": 0.07,
        "ci95_paired": [0.26, 2.74],
        "t_p_holm": 0.21,
        "welch_p_holm": 0.5,
        "beyond_seed_noise": False,
        "better": True,
    }
    assert _versus(entry) == "1.5 [0.26, 2.74] (p=0.07, Holm 0.21; Welch Holm 0.5)"
    assert _versus({**entry, "beyond_seed_noise": True}).startswith("▲ 1.5")
