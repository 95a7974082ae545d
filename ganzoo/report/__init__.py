"""Reports comparing runs: loading run directories (runs), grouping and the study's summary table
(stats), the aggregator the study report and the leaderboard share (aggregate), and the
writers' shared Markdown (formatting) and figures (figures); markdown writes report.md."""

from ganzoo.report.markdown import REPORT_FILE, write_report
from ganzoo.report.runs import RunData, load_run, load_runs
from ganzoo.report.stats import group_runs, run_summary, summary_table, varied_keys

__all__ = [
    "REPORT_FILE",
    "RunData",
    "group_runs",
    "load_run",
    "load_runs",
    "run_summary",
    "summary_table",
    "varied_keys",
    "write_report",
]
