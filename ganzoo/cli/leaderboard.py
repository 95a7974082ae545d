"""``ganzoo leaderboard``: its options, and the ``--activations`` and ``--tasks`` lists read
into what :func:`ganzoo.leaderboard.runner.run_leaderboard` runs (``ganzoo bench`` reads its
activations here too)."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import yaml

from ganzoo.activations import ACTIVATIONS, create_activation
from ganzoo.cli.executor_args import add_executor_arguments, check_at_least, executor_from_args
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.experiments import RecordStore
from ganzoo.leaderboard.runner import run_leaderboard
from ganzoo.leaderboard.tasks import TASKS, activation_label, get_task

DEFAULT_BASELINE = "leaky_relu"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "leaderboard",
        help="rank activations on a fixed suite of GAN tasks over seeds",
        description="Train every registered activation (or --activations) on each task of a "
        "fixed, versioned suite (--tasks) with several seeds, score each run at several points "
        "of its budget, and rank the activations per task and overall, with bootstrap "
        "intervals and paired tests against a baseline. Finished cells are stored and reused.",
    )
    add_grid_arguments(parser, None, 3, Path("runs/leaderboard"))
    parser.add_argument(
        "--tasks",
        default=",".join(TASKS),
        help=f"comma-separated tasks (default: all of {', '.join(TASKS)})",
    )
    parser.add_argument("--store", type=Path, help="results store (default OUT/store)")
    parser.add_argument(
        "--baseline",
        default=DEFAULT_BASELINE,
        help=f"activation the others are tested against, paired by seed (default "
        f"{DEFAULT_BASELINE}); it is added to the activations when missing",
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="run failed cells again instead of reusing"
    )
    add_executor_arguments(parser)
    parser.add_argument("--list-tasks", action="store_true", help="print the task suite and exit")
    parser.set_defaults(func=leaderboard_command)


def add_grid_arguments(
    parser: argparse.ArgumentParser, activations: str | None, seeds: int, out: Path | str
) -> None:
    """--activations, --seeds, --jobs and --out, as the leaderboard and the bench take them
    (``out``: the default directory, or a string saying what it is when it depends)."""
    parser.add_argument(
        "--activations",
        default=activations,
        help="comma-separated activations, optionally with kwargs: 'psf,elu(alpha=0.5)' "
        f"(default: {activations or 'every registered activation'})",
    )
    parser.add_argument("--seeds", type=int, default=seeds, help=f"seeds 0..N-1 (default {seeds})")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once, one thread each")
    default = out if isinstance(out, Path) else None
    parser.add_argument("--out", type=Path, default=default, help=f"output directory ({out})")


def split_top_level(text: str) -> list[str]:
    """Split at commas outside parentheses: 'a,b(x=1,y=2)' -> ['a', 'b(x=1,y=2)']."""
    parts, depth = [""], 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise ConfigError(f"unbalanced ')' in {text!r}")
        if char == "," and depth == 0:
            parts.append("")
        else:
            parts[-1] += char
    if depth != 0:
        raise ConfigError(f"unbalanced '(' in {text!r}")
    return [p.strip() for p in parts if p.strip()]


def parse_activation(spec: str) -> tuple[str, dict[str, Any]]:
    """'elu' -> ('elu', {}); 'elu(alpha=0.5)' -> ('elu', {'alpha': 0.5}) (values as YAML)."""
    if "(" not in spec:
        return spec, {}
    if not spec.endswith(")"):
        raise ConfigError(f"cannot read activation {spec!r}; write name(key=value, ...)")
    name, inner = spec[: spec.index("(")].strip(), spec[spec.index("(") + 1 : -1]
    kwargs: dict[str, Any] = {}
    for item in split_top_level(inner):
        if "=" not in item:
            raise ConfigError(f"activation {spec!r}: {item!r} is not key=value")
        key, value = item.split("=", 1)
        if not value.strip():
            raise ConfigError(
                f"activation {spec!r}: {key.strip()!r} has no value; write e.g. "
                f"{name}({key.strip()}=0.5), or leave the key out for its default"
            )
        try:
            kwargs[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ConfigError(f"activation {spec!r}: cannot read the value of {key!r}") from exc
    return name, kwargs


def resolve_activations(text: str | None, baseline: str | None) -> list[tuple[str, dict]]:
    """The (name, kwargs) to run, each built once to prove it works, with the ``baseline``
    added when missing. Named activations that are unknown or do not build are refused in one
    line; with no list, every registered one runs, a plugin that does not build left out with
    a warning."""
    normal = ACTIVATIONS._normalise
    if text is None:
        wanted = [(name, {}) for name in ACTIVATIONS.names()]
    else:
        wanted = [parse_activation(spec) for spec in split_top_level(text)]
        if not wanted:
            raise ConfigError("--activations needs at least one name, e.g. 'psf,leaky_relu'")
    base, warnings = parse_activation(baseline) if baseline else None, []
    if base and all((normal(n), k) != (normal(base[0]), base[1]) for n, k in wanted):
        wanted.append(base)
        if text is not None:
            warnings.append(f"added the baseline {baseline} to the activations")
    chosen: dict[tuple[str, str], tuple[str, dict]] = {}
    for name, kwargs in wanted:
        try:
            check_kwargs_work(name, kwargs, create_activation(name, **kwargs))
        except GanzooError as exc:
            if text is not None or (base and (normal(name), kwargs) == (normal(base[0]), base[1])):
                raise
            warnings.append(f"left out {name}: {exc}")
            continue
        chosen.setdefault((normal(name), repr(sorted(kwargs.items()))), (normal(name), kwargs))
    for warning in warnings:  # once every activation is known to work
        print(f"ganzoo leaderboard: {warning}", file=sys.stderr)
    return list(chosen.values())


def check_kwargs_work(name: str, kwargs: dict[str, Any], module: Any) -> None:
    """Refuse kwargs that build but break the activation (``elu(alpha=abc)``): the module fails
    on a small input where the same activation with its defaults works. An activation that
    fails with its defaults too is left to fail its cells (a plugin's own bug)."""
    if not kwargs:
        return
    probe = torch.linspace(-2.0, 2.0, 16).reshape(2, 8)
    try:
        module(probe)
    except Exception as exc:
        try:
            create_activation(name)(probe)
        except Exception:
            return
        shown = ", ".join(f"{key}={value!r}" for key, value in kwargs.items())
        raise ConfigError(
            f"activation {name}({shown}) builds but fails on a test input "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "check the values of its kwargs"
        ) from None


def leaderboard_command(args: argparse.Namespace) -> int:
    from ganzoo.leaderboard.report import write_leaderboard  # (matplotlib: lazily)

    if args.list_tasks:
        for task in TASKS.values():
            points = ", ".join(map(str, task.eval_points))
            print(f"{task.name} (version {task.version}): {task.description}")
            print(
                f"    budget {task.budget} generator updates, scored at {points}; ranked by "
                f"{task.primary.name}; {task.cost}"
            )
        return 0
    check_at_least(args, seeds=1)  # --jobs is checked by executor_from_args
    tasks = resolve_tasks(args.tasks)
    store = RecordStore(args.store if args.store is not None else args.out / "store")
    executor = executor_from_args(args, store.root)
    activations = resolve_activations(args.activations, args.baseline)
    base_name, base_kwargs = parse_activation(args.baseline)
    baseline = activation_label(ACTIVATIONS._normalise(base_name), base_kwargs)
    say = functools.partial(print, flush=True)
    board, summary = run_leaderboard(
        tasks, activations, range(args.seeds), store, executor, baseline, args.retry_failed, say
    )
    paths = write_leaderboard(board, args.out, _command(args, activations, tasks))
    print(
        f"trained {summary.trained} cell(s) ({summary.failed} failed), reused {summary.reused}; "
        f"{len(board['failed'])} failed cell(s) in the leaderboard"
    )
    print("overall mean rank (final) [95% bootstrap interval]:")
    for position, entry in enumerate(board["overall"]["final"], 1):
        print(
            f"  {position:>2}. {entry['activation']:<24} {entry['rank']:.2f} "
            f"[{entry['low']:.1f}, {entry['high']:.1f}]"
        )
    print(*paths, sep="\n")
    return 0


def resolve_tasks(text: str) -> list:
    """The tasks named in ``--tasks``, each once (a repeated name would count twice in the
    mean rank): an unknown name or a repeat is refused in one line."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ConfigError(f"--tasks needs at least one task: {', '.join(TASKS)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(
            f"--tasks names {', '.join(repeated)} more than once; name each task once "
            "(a repeat would count twice in the mean rank)"
        )
    return [get_task(name) for name in names]


def _command(args: argparse.Namespace, activations, tasks) -> str:
    jobs = f" --jobs {args.jobs}" if args.jobs > 1 else ""
    return (
        f"ganzoo leaderboard --activations {quoted_activations(activations)} --tasks "
        f"{','.join(t.name for t in tasks)} --seeds {args.seeds} --baseline {args.baseline} "
        f"--out {args.out}{jobs}"
    )


def quoted_activations(activations: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """The activations as ``--activations`` takes them, quoted for a shell."""
    return "'" + ",".join(activation_label(n, k).replace(" ", "") for n, k in activations) + "'"
