"""The published study reports in docs/results are what their committed run records give: a
change to loading, grouping or statistics that would alter a published number fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganzoo.report import group_runs, load_runs, summary_table
from ganzoo.report.markdown import summary_json

RESULTS = Path(__file__).resolve().parents[3] / "docs" / "results"

# Reports whose runs are committed as records (`ganzoo study STUDY --archive DIR/records`).
PUBLISHED = ["paper_cars_fashion", "paper_cars_fashion_5seeds"]


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_summary_is_regenerated_from_its_records(name):
    """The summary table recomputed from docs/results/NAME/records equals the committed
    summary.json, number for number (same baseline: the group the committed tests leave out)."""
    published = json.loads((RESULTS / name / "summary.json").read_text())
    studies = sorted((RESULTS / name / "records").glob("*/study.json"))
    assert len(studies) == 1, f"expected one archived study under {RESULTS / name / 'records'}"
    groups = group_runs(load_runs([studies[0].parent]))
    tested = set(published[0]["tests"])
    (baseline,) = [g.label for g in groups if g.label not in tested]
    assert summary_json(summary_table(groups, baseline)) == published
