"""The metric table is the one declaration: the suite's names, the result keys, directions and
collapse metrics all derive from it, and a metric added to it reaches all of them."""

from __future__ import annotations

from evaluation import RESULT_KEYS
from evaluation.collapse import DIVERSITY_METRICS
from evaluation.metrics import LOWER_IS_BETTER, METRIC_TABLE, METRICS, REPORT_KEYS
from evaluation.suite import Suite
from ganzoo.report.stats import EVAL_METRICS
from ganzoo.report.stats import LOWER_IS_BETTER as REPORT_LOWER


def test_everything_derives_from_the_table():
    """Result keys in table order; lower-is-better for the report; diversity for collapse."""
    assert METRICS == ("fid", "kid", "prdc", "is", "intra_fid", "modes")
    assert tuple(k.name for r in METRIC_TABLE for k in r.keys) == RESULT_KEYS
    assert {"fid", "kid_mean", "intra_fid", "mode_kl"} == LOWER_IS_BETTER
    assert REPORT_LOWER >= LOWER_IS_BETTER and "top_mode_share" not in EVAL_METRICS
    assert DIVERSITY_METRICS == ("coverage", "recall", "modes_covered")
    assert EVAL_METRICS == REPORT_KEYS


def test_suite_accepts_exactly_the_table_names():
    """A suite listing a name not in the table is refused, naming the table's metrics."""
    import pytest

    from evaluation import SuiteError

    Suite("ok", metrics=METRICS)
    with pytest.raises(SuiteError, match="fid"):
        Suite("bad", metrics=("fid", "inception_score_typo"))
