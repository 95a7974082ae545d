"""Reports comparing runs: loading run directories, grouping, statistics, figures, markdown."""

from ganzoo.report.markdown import REPORT_FILE, write_report
from ganzoo.report.runs import RunData, load_run, load_runs
from ganzoo.report.stats import (
    Describe,
    Group,
    PairedTest,
    SummaryRow,
    describe,
    group_runs,
    paired_test,
    run_summary,
    summary_table,
    varied_keys,
)

__all__ = [
    "REPORT_FILE",
    "Describe",
    "Group",
    "PairedTest",
    "RunData",
    "SummaryRow",
    "describe",
    "group_runs",
    "load_run",
    "load_runs",
    "paired_test",
    "run_summary",
    "summary_table",
    "varied_keys",
    "write_report",
]
