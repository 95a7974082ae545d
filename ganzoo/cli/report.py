"""``ganzoo report``: compare runs (or a study) in a Markdown report with figures."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="compare runs or a study: report.md with figures and paired tests",
        description="Write DIR/report.md with PNG figures (losses, evaluation metrics, final "
        "samples, activation parameters, activation curves) and a summary table (mean ± std "
        "per group, paired tests by seed) for run directories, study directories, or folders "
        "holding runs. Runs are grouped by the study's factors or by the config keys that differ.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="RUN_DIR", help="runs or studies")
    parser.add_argument("-o", "--out", type=Path, required=True, help="report directory")
    parser.add_argument(
        "--group-by",
        metavar="KEY[,KEY]",
        help="config keys that define the groups (default: the study's factors, else the keys "
        "that differ between runs)",
    )
    parser.add_argument("--baseline", help="group the others are tested against (default: first)")
    parser.add_argument("--title", help="the report's title")
    parser.set_defaults(func=report_command)


def report_command(args: argparse.Namespace) -> int:
    from ganzoo.report import write_report

    group_by = [k.strip() for k in args.group_by.split(",") if k.strip()] if args.group_by else None
    path = write_report(
        args.paths, args.out, group_by=group_by, baseline=args.baseline, title=args.title
    )
    print(path)
    return 0
