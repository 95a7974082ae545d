"""``ganzoo study``: train every combination of a study config, resumably."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganzoo.cli.executor_args import add_executor_arguments, executor_from_args
from ganzoo.errors import GanzooError
from ganzoo.studies import archive_study, load_study, plan_study, run_study

INTERRUPTED_EXIT = 130  # as a shell reports Ctrl-C: the interrupted runs resume


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "study",
        help="train every combination of a study (activations x seeds ...)",
        description="Train every combination of a study config (configs/studies/*.yaml) into "
        "its study directory, skipping finished runs and resuming unfinished ones. "
        "Then `ganzoo report STUDY_DIR -o DIR` compares them.",
    )
    parser.add_argument("study", type=Path, help="study YAML file")
    parser.add_argument(
        "--jobs", type=int, default=1, help="trainings at once, in local processes (default 1)"
    )
    parser.add_argument("--out", type=Path, help="root of study directories (replaces out:)")
    parser.add_argument(
        "--dry-run", action="store_true", help="validate every run's config, print the plan, exit"
    )
    parser.add_argument(
        "--archive",
        type=Path,
        metavar="ROOT",
        help="train nothing; copy the finished runs' records (config, metrics, evaluations, last "
        "samples; no checkpoints) to ROOT/<study name>, a study directory that `ganzoo report` "
        "reads and `ganzoo study --out ROOT` skips as finished",
    )
    parser.add_argument(
        "--keep-generators",
        action="store_true",
        help="with --archive: also keep each finished run's final generator (config + weights, "
        "about the generator's size) in ROOT/<study name>/generators/<run>/, which `ganzoo eval "
        "--suite final` can score later without training again",
    )
    add_executor_arguments(parser)
    parser.set_defaults(func=study_command)


def study_command(args: argparse.Namespace) -> int:
    if args.keep_generators and args.archive is None:
        raise GanzooError(
            "--keep-generators keeps generators beside an archive: add --archive ROOT"
        )
    study = load_study(args.study, out=args.out)
    executor = executor_from_args(args, study.directory)  # checks --jobs etc. for every mode
    if args.archive is not None:
        result = archive_study(study, args.archive, keep_generators=args.keep_generators)
        if result.archived:
            print(
                f"study {study.name}: {len(result.archived)} finished runs archived in "
                f"{result.directory}"
            )
        else:
            print(f"study {study.name}: no finished run to archive; nothing was written")
        for plan in result.left_out:
            where = f"iteration {plan.iteration} of {plan.end}" if plan.run_dir else "not trained"
            print(f"  left out {plan.run.name}: {where}")
        return 0
    if args.dry_run:
        plans = plan_study(study)
        print(f"study {study.name}: {len(plans)} runs in {study.directory}")
        for plan in plans:
            where = f" ({plan.run_dir}, iteration {plan.iteration})" if plan.run_dir else ""
            print(f"  {plan.run.name}: {plan.action}{where}")
            if plan.problem:
                print(f"    {plan.problem}")
            elif plan.action in ("new", "resume"):
                what = f"--resume {plan.run_dir}" if plan.run_dir else str(study.base)
                print(f"    ganzoo train {what} {' '.join(plan.overrides)}")
        conflicts = sum(plan.action == "conflict" for plan in plans)
        if conflicts:
            print(
                f"ganzoo study: {conflicts} run(s) conflict with runs already trained; the real "
                "run would refuse the study (see above)",
                file=sys.stderr,
            )
        return 2 if conflicts else 0
    plans = run_study(study, executor)
    print(f"study {study.name}: {study.directory}")
    width = max(len(p.run.name) for p in plans)
    for plan in plans:
        print(
            f"  {plan.run.name:<{width}}  {plan.action:<8} {plan.status:<7} iteration "
            f"{plan.iteration}{f'/{plan.end}' if plan.end else ''}  {plan.run_dir or '-'}"
        )
        if plan.status in ("failed", "interrupted"):
            print(f"    {plan.problem} (log: {plan.log})")
    count = {s: sum(p.status == s for p in plans) for s in ("failed", "interrupted", "pending")}
    if count["failed"]:
        print(f"{count['failed']} of {len(plans)} runs failed; rerun the same command to retry")
        return 1
    if count["interrupted"] or count["pending"]:
        print(
            f"{count['interrupted']} of {len(plans)} runs were interrupted and {count['pending']} "
            "not started; rerun the same command to resume them"
        )
        return INTERRUPTED_EXIT
    print(f"all {len(plans)} runs finished; next: ganzoo report {study.directory} -o REPORT_DIR")
    return 0
