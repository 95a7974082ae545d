"""The bench's preset and its summary: its task is the leaderboard's kind of task at the bench's
settings, and its text table and CSV read the leaderboard's board with the aggregator's
conventions (sample std, undefined for one seed; NaN values left out and counted)."""

import csv
import io
import math
from dataclasses import asdict

from ganzoo.leaderboard.board import build_board
from ganzoo.leaderboard.runner import cell_key
from ganzoo.leaderboard.tasks import TASKS, Cell, run_mixture, run_stacked_mnist
from ganzoo.modecollapse.runner import (
    MixtureSettings,
    StackedSettings,
    bench_task,
    format_csv,
    format_text,
)

TASK = bench_task("ring8", MixtureSettings(iterations=10))


def test_bench_task_is_scored_at_the_end_of_its_budget_with_every_setting_in_its_key():
    """The bench's settings are the task's: its budget is the iterations, its one eval point the
    end, and every other setting is in its key, so it never meets the leaderboard's ring8."""
    assert (TASK.budget, TASK.eval_points, TASK.run) == (10, (10,), run_mixture)
    assert TASK.settings == {
        k: v for k, v in asdict(MixtureSettings()).items() if k != "iterations"
    }
    cell = Cell("elu", {}, "ring8", 0)
    assert cell_key(cell, TASK, "0") != cell_key(cell, TASKS["ring8"], "0")
    stacked = bench_task("stacked_mnist", StackedSettings(architecture="resnet"))
    assert stacked.run == run_stacked_mnist and stacked.settings["architecture"] == "resnet"
    assert [m.name for m in stacked.metrics] == ["modes_covered", "reverse_kl"]


def board(values: dict[str, list[tuple[float, float, float]]]) -> dict:
    """The board of made-up final (modes, high-quality share, KL) per activation and seed."""
    seeds = range(max(len(v) for v in values.values()))
    records = {
        ("ring8", label, seed): {
            "status": "ok",
            "curve": [
                {"iteration": 10, "modes_covered": m, "high_quality_fraction": h, "reverse_kl": k}
            ],
        }
        for label, runs in values.items()
        for seed, (m, h, k) in enumerate(runs)
    }
    return build_board([TASK], list(values), list(seeds), records, "", "0")


def test_text_table_is_best_first_with_mean_and_sample_std(tmp_path):
    """elu covers more modes than psf: it comes first, with mean ± the sample std (ddof 1); a
    NaN KL is left out of the mean and the cell says how many seeds it has (n=1)."""
    text = format_text(
        board({"psf": [(4, 0.1, 0.5), (6, 0.3, math.nan)], "elu": [(8, 0.5, 0.1), (6, 0.7, 0.3)]})
    )
    header, first, second = text.splitlines()
    assert header.split()[:3] == ["rank", "activation", "seeds"]
    assert first.split()[:6] == ["1.0", "elu", "2", "7", "±", "1.4"]
    assert second.split()[:3] == ["2.0", "psf", "2"] and second.endswith("0.5 (n=1)")


def test_one_seed_has_no_std_nan_in_the_csv_as_in_the_leaderboard():
    """With one seed the spread is undefined: no ± in the text, nan in the CSV (not 0.0, the
    old bench's table); the counts are integers."""
    one = board({"elu": [(5, 0.25, 0.2)]})
    assert "±" not in format_text(one)
    (row,) = csv.DictReader(io.StringIO(format_csv(one)))
    assert row["modes_covered_mean"] == "5.0" and row["modes_covered_n"] == "1"
    assert math.isnan(float(row["modes_covered_std"])) and row["seeds_ok"] == "1"
