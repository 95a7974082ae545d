"""How long must the leaderboard's 2-D mixture GANs train before most samples are high quality?

Trains the ``mlp`` GAN of :mod:`ganzoo.modecollapse.runner` on ring8 / grid25 with one
activation (default LeakyReLU(0.2)) for ``--iterations`` generator updates, scores it at every
``--every`` updates (modes covered, share of high-quality samples, reverse KL on 2,500 samples)
and records the CPU seconds of the process so far at each point. One JSON line per run is
appended to ``--out`` (so several settings can be measured one after another and compared);
``--table FILE...`` prints those lines as the markdown tables of
``docs/results/mixtures_budget.md`` (no training).

Usage::

    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/mixtures_budget.py --tasks ring8 grid25 \\
        --iterations 20000 --every 1000 --out docs/results/mixtures_budget/curves.jsonl
    python benchmarks/mixtures_budget.py --table docs/results/mixtures_budget/*.jsonl
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("mixtures_budget")


def measure_curve(
    task: str,
    activation: str,
    kwargs: dict[str, Any],
    seed: int,
    iterations: int,
    every: int,
    overrides: dict[str, Any],
) -> dict[str, Any]:
    """One run's curve with the process's CPU seconds at each evaluation point."""
    from ganzoo.leaderboard.mode_collapse import MixtureSettings, run_mixture_benchmark

    settings = MixtureSettings(**{**overrides, "iterations": iterations})
    eval_at = list(range(every, iterations + 1, every))
    start_cpu = time.process_time()
    result = run_mixture_benchmark(
        task,
        activation,
        seed,
        settings=settings,
        threads=1,
        activation_kwargs=kwargs or None,
        eval_at=eval_at,
    )
    result["cpu_seconds"] = round(time.process_time() - start_cpu, 2)
    return result


def first_reaching(curve: list[dict[str, Any]], share: float) -> int | None:
    """The first update count whose high-quality share is at least ``share`` (None if none)."""
    for point in curve:
        if point["high_quality_fraction"] >= share:
            return int(point["iteration"])
    return None


def markdown_tables(runs: list[dict[str, Any]], shown: set[int] | None = None) -> str:
    """One table per task and settings, its seeds side by side (modes covered / high-quality
    share / reverse KL at each update count), headed by the settings, each seed's CPU seconds
    and the first count with at least half of the samples high-quality; ``shown``: the update
    counts to list (all when None)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for run in runs:
        settings = run["settings"]
        key = (
            run["task"],
            run["activation"],
            settings["lr"],
            settings["batch_size"],
            settings["iterations"],
        )
        groups.setdefault(key, []).append(run)
    blocks = []
    for (task, activation, lr, batch, _), group in groups.items():
        group.sort(key=lambda run: run["seed"])
        costs = ", ".join(
            f"seed {run['seed']}: {run['settings']['iterations']:,} updates in "
            f"{run['cpu_seconds']:.0f} CPU s "
            f"({1000 * run['cpu_seconds'] / run['settings']['iterations']:.1f} ms per update), "
            f"first >= 50% high quality at {first_reaching(run['curve'], 0.5) or 'none'}"
            for run in group
        )
        heading = f"**{task}**, {activation}, lr {lr:g}, batch {batch}. {costs}."
        seeds = " | ".join(f"seed {run['seed']}" for run in group)
        rows = [f"| updates | {seeds} |", "|---" * (len(group) + 1) + "|"]
        by_iteration = [{p["iteration"]: p for p in run["curve"]} for run in group]
        for iteration in sorted(by_iteration[0]):
            if shown is not None and iteration not in shown:
                continue
            cells = []
            for points in by_iteration:
                point = points.get(iteration)
                cells.append(
                    "-"
                    if point is None
                    else f"{point['modes_covered']}/{point['num_modes']}, "
                    f"{100 * point['high_quality_fraction']:.1f}%, {point['reverse_kl']:.3f}"
                )
            rows.append(f"| {iteration:,} | " + " | ".join(cells) + " |")
        blocks.append(heading + "\n\n" + "\n".join(rows))
    return "\n\n".join(blocks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["ring8", "grid25"])
    parser.add_argument("--activation", default="leaky_relu")
    parser.add_argument("--kwargs", default='{"negative_slope": 0.2}', help="JSON")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=None, help="default: MixtureSettings'")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--out", type=Path, help="JSON lines, appended")
    parser.add_argument("--table", type=Path, nargs="+", help="print these JSON lines' tables")
    parser.add_argument("--show", type=int, nargs="+", help="with --table: these update counts")
    args = parser.parse_args(argv)
    if args.table:
        runs = [json.loads(line) for path in args.table for line in path.read_text().splitlines()]
        print(markdown_tables(runs, set(args.show) if args.show else None))
        return 0
    if args.out is None:
        parser.error("give --out FILE (or --table FILE...)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    overrides: dict[str, Any] = {}
    if args.lr is not None:
        overrides["lr"] = args.lr
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    kwargs = json.loads(args.kwargs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for task in args.tasks:
        for seed in args.seeds:
            result = measure_curve(
                task, args.activation, kwargs, seed, args.iterations, args.every, overrides
            )
            result["activation_kwargs"] = kwargs
            with args.out.open("a") as handle:
                handle.write(json.dumps(result) + "\n")
            for point in result["curve"]:
                log.info(
                    "%s seed %d it %6d: %2d modes, %5.1f%% HQ, reverse KL %.3f",
                    task,
                    seed,
                    point["iteration"],
                    point["modes_covered"],
                    100 * point["high_quality_fraction"],
                    point["reverse_kl"],
                )
            log.info(
                "%s seed %d: %.0f CPU s; first >= 50%% HQ at %s",
                task,
                seed,
                result["cpu_seconds"],
                first_reaching(result["curve"], 0.5),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
