"""The leaderboard's Markdown cells: the comparison with the baseline (interval, Holm, marks)
and the summary of a cell, written with the report's shared formatting."""

from __future__ import annotations

import pytest

from ganzoo.leaderboard.report import _cell, _versus, format_markdown


def test_versus_cell_shows_interval_and_holm_and_marks_only_beyond_noise():
    """The cell shows the difference, its paired 95% interval and the adjusted p-values, and
    the mark only when both tests survive Holm."""
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
    assert _versus({**entry, "beyond_seed_noise": True, "better": False}).startswith("▼ 1.5")
    assert _versus(None) == "baseline"


def test_a_constant_shift_over_seeds_says_there_is_no_t_test():
    """Every seed covers one mode more: no t-test (no spread), and the cell says so."""
    entry = {"pairs": 3, "mean_difference": 1.0, "t_p": None, "beyond_seed_noise": False}
    assert _versus(entry) == "1 (same for every seed, no t-test)"
    assert _versus({**entry, "pairs": 1}) == "n=1, no test"


def test_cells_keep_one_decimal_from_100_and_drop_the_spread_of_one_seed():
    """mean ± std [interval] with 3 significant digits (one decimal from 100 up); one seed
    shows no ± part; no seed is n/a."""
    stats = {"n": 3, "mean": 123.456, "std": 1.2345, "low": 122.0, "high": 125.0}
    assert _cell(stats) == "123.5 ± 1.23 [122.0, 125.0]"
    assert _cell({"n": 1, "mean": 0.5, "std": None, "low": 0.5, "high": 0.5}) == "0.5 [0.5, 0.5]"
    assert _cell({"n": 0}) == "n/a"


def test_markdown_tables_escape_errors_and_list_every_task():
    """The overall table lists activations in rank order with each task's rank; a failed
    cell's error keeps the table intact (pipes escaped, one line)."""
    rank = {"rank": 1.0, "low": 1.0, "high": 2.0}
    row = {
        "activation": "relu",
        "metrics": {"m": {"final": {"n": 0}, "auc": {"n": 0}}},
        "rank_final": rank,
        "rank_auc": rank,
        "seeds_ok": 0,
        "seeds_failed": 1,
    }
    task = {"version": 1, "description": "d", "budget": 10, "eval_points": [10]}
    task |= {"metrics": [{"name": "m", "label": "M", "higher_is_better": True}], "rows": [row]}
    board = {
        "ganzoo_version": "x",
        "seeds": [0],
        "baseline": None,
        "activations": ["relu"],
        "tasks": ["t"],
        "overall": {
            "final": [{"activation": "relu", **rank}],
            "auc": [{"activation": "relu", **rank}],
        },
        "per_task": {"t": task},
        "failed": [{"task": "t", "activation": "relu", "seed": 0, "error": "a|b\nc"}],
    }
    text = format_markdown(board, "cmd", [])
    assert "| 1 | relu | 1.0 [1.0, 2.0] | 1.0 [1.0, 2.0] | 1.0 |" in text
    assert "| t | relu | 0 | a\\|b c |" in text
    assert "| 1.0 [1.0, 2.0] | relu | n/a | n/a | 1.0 [1.0, 2.0] | 0 (1 failed) |" in text


def test_a_leaderboard_onto_a_file_is_one_write_error_and_the_file_is_kept(tmp_path):
    """--out naming an existing file: one WriteError saying the leaderboard cannot be written
    there; the file is untouched."""
    from ganzoo.errors import WriteError
    from ganzoo.leaderboard.report import write_leaderboard

    target = tmp_path / "notes.txt"
    target.write_text("mine")
    board = {"activations": [], "tasks": [], "seeds": [], "baseline": None}
    with pytest.raises(WriteError, match="cannot write the leaderboard in .*notes.txt"):
        write_leaderboard(board, target, "cmd")
    assert target.read_text() == "mine"
