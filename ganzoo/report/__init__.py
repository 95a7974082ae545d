"""Reports comparing runs: loading them (runs), the study's summary table (stats), the aggregator
shared with the leaderboard (aggregate), shared Markdown (formatting) and figures (figures), and
report.md (markdown)."""

from ganzoo.report.markdown import write_report
from ganzoo.report.runs import load_run, load_runs
from ganzoo.report.stats import group_runs, run_summary, summary_table, varied_keys

__all__ = [
    "group_runs",
    "load_run",
    "load_runs",
    "run_summary",
    "summary_table",
    "varied_keys",
    "write_report",
]
