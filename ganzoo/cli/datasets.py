"""``ganzoo datasets``: list the registered datasets (built-in and plugin) with their origin,
kind, native size, channels, classes and splits, without reading any data file."""

from __future__ import annotations

import argparse

from ganzoo.data import DATASETS, dataset_info


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "datasets",
        help="list registered datasets",
        description="List every registered dataset (data.name), built-in and plugin "
        "(entry-point group ganzoo.datasets), with what it holds. Nothing is read or downloaded.",
    )
    parser.set_defaults(func=list_command)


def list_command(args: argparse.Namespace) -> int:
    rows = [("name", "from", "kind", "size", "classes", "splits", "what")]
    for name in DATASETS.names():
        origin = DATASETS.origin(name)
        try:
            info = dataset_info(name)
        except Exception as exc:  # a broken plugin must not hide the rest of the list
            rows.append((name, origin, "-", "-", "-", "-", f"UNAVAILABLE: {exc}"))
            continue
        if info.kind == "points":
            size = "2-D"
        else:
            side = f"{info.image_size}px" if info.image_size else "any"
            size = f"{side} x{info.channels}"
        classes = str(len(info.classes)) if info.classes else "-"
        splits = "/".join(info.splits)
        rows.append((name, origin, info.kind, size, classes, splits, info.description))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        print("  ".join(cells) + "  " + row[6])
    for message in DATASETS.refused():
        print(f"refused: {message}")
    return 0
