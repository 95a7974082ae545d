"""The collapse signal on synthetic evaluation histories."""

from __future__ import annotations

from evaluation.collapse import CollapseRule, collapse_score, detect_collapse, relative_drops


def _history(coverage, modes=None):
    rows = []
    for i, value in enumerate(coverage):
        row = {"iteration": 1000 * (i + 1), "coverage": value}
        if modes is not None:
            row["modes_covered"] = modes[i]
        rows.append(row)
    return rows


def test_relative_drop_from_running_peak():
    """Values 0.5, 0.8, 0.4: drops 0, 0, 0.5 (from the peak 0.8 at index 1)."""
    assert relative_drops([0.5, 0.8, 0.4]) == [(0.0, 0), (0.0, 1), (0.5, 1)]


def test_sustained_drop_is_flagged_at_its_first_evaluation():
    """Coverage climbs to 0.8 at 4000, then falls to 0.3 from 6000 on: collapse at 6000."""
    report = detect_collapse(_history([0.2, 0.5, 0.7, 0.8, 0.75, 0.3, 0.25, 0.2]))
    assert report.collapsed and report.iteration == 6000
    event = report.events[0]
    assert (event.metric, event.peak_iteration, event.peak_value) == ("coverage", 4000, 0.8)
    assert event.relative_drop == 0.625


def test_healthy_training_and_a_single_dip_are_not_flagged():
    """A noisy rise, and one bad evaluation that recovers at once, are not collapse."""
    assert not detect_collapse(_history([0.2, 0.4, 0.38, 0.5, 0.55, 0.53, 0.6])).collapsed
    dip = detect_collapse(_history([0.5, 0.6, 0.2, 0.58, 0.6]))
    assert not dip.collapsed and dip.iteration is None


def test_earliest_metric_wins_and_rows_carry_drops():
    """Modes fall from 10 to 2 at 3000, before coverage falls at 5000: collapse at 3000; each
    row records the drops, and collapse_score is the largest of them."""
    history = _history([0.6, 0.7, 0.7, 0.65, 0.2, 0.1], modes=[10, 10, 2, 2, 1, 1])
    report = detect_collapse(history)
    assert report.iteration == 3000
    assert [e.metric for e in report.events] == ["modes_covered", "coverage"]
    row = report.drops[2]
    assert row["modes_covered_drop"] == 0.8 and collapse_score(row) == 0.8
    assert report.to_dict()["rule"]["threshold"] == 0.3


def test_rule_parameters_change_the_answer():
    """A 25% drop is collapse with threshold 0.2 but not with the default 0.3."""
    history = _history([0.8, 0.8, 0.6, 0.6, 0.6])
    assert not detect_collapse(history).collapsed
    assert detect_collapse(history, CollapseRule(threshold=0.2)).iteration == 3000
