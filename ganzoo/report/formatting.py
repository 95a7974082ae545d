"""How the Markdown reports (report.md, leaderboard.md) write numbers, p-values, intervals,
marks and tables, and save them. A missing value (no seed, the std of one seed) is "—"."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ganzoo.errors import WriteError
from ganzoo.report.aggregate import Comparison
from ganzoo.runs import atomic_write_text

MISSING = "—"


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def number(value: float | None) -> str:
    """4 significant digits; scientific below 1e-3 and from 1e4 (the study report)."""
    if _missing(value):
        return MISSING
    value = float(value)
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4g}"


def compact(value: float | None) -> str:
    """3 significant digits, one decimal from 100 up (the leaderboard's wide tables)."""
    if _missing(value):
        return MISSING
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3g}"


def p_value(value: float | None, digits: int = 3) -> str:
    return MISSING if _missing(value) else f"{value:.{digits}g}"


def with_interval(
    value: float | None, low: float | None, high: float | None, fmt: Callable = number
) -> str:
    """``value [low, high]``, or the value alone when there is no interval."""
    if _missing(low):
        return fmt(value)
    return f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def mean_std(mean: float | None, std: float | None, fmt: Callable = number) -> str:
    """``mean ± std``; the mean alone when there is no spread (one seed)."""
    return fmt(mean) if _missing(std) else f"{fmt(mean)} ± {fmt(std)}"


def mark(beyond_noise: bool, better: bool | None) -> str:
    """ "▲ " better or "▼ " worse than the baseline beyond noise; empty otherwise."""
    return ("▲ " if better else "▼ ") if beyond_noise and better is not None else ""


def difference(comparison: Comparison, marked: bool = True) -> str:
    """The mark (unless not ``marked``), the mean paired difference and its 95% interval."""
    test = comparison.paired
    text = with_interval(test.mean_difference, test.low, test.high)
    return (mark(comparison.beyond_noise, comparison.better) if marked else "") + text


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table's lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def write_texts(directory: Path, texts: Mapping[str, str], what: str) -> list[Path]:
    """Write each ``name: text`` into ``directory`` whole (a temporary file and a rename); a
    directory that cannot be made or written is one :class:`WriteError` naming ``what``."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            atomic_write_text(directory / name, text)
    except OSError as exc:
        raise WriteError(f"cannot write the {what} in {directory}: {exc.strerror or exc}") from None
    return [directory / name for name in texts]
