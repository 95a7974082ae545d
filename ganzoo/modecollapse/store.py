"""Per-run results as JSON lines, so an interrupted benchmark resumes where it stopped.

A run is identified by its task, activation, seed and settings; a record whose settings differ
(another iteration count, say) is not reused.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError

logger = logging.getLogger(__name__)


def run_key(task: str, activation: str, seed: int, settings: Mapping[str, Any]) -> str:
    """A stable string naming one (task, activation, seed, settings) combination."""
    return json.dumps([task, activation, int(seed), dict(sorted(settings.items()))])


def record_key(record: Mapping[str, Any]) -> str:
    return run_key(record["task"], record["activation"], record["seed"], record["settings"])


def load_records(path: Path) -> dict[str, dict[str, Any]]:
    """Records in ``path`` by :func:`run_key`; a missing file is empty. A truncated last line
    (a run killed while writing) is skipped with a warning."""
    records: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return records
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            records[record_key(record)] = record
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            if number == len(lines):
                logger.warning("%s: ignoring an incomplete last line (%s)", path, exc)
                continue
            raise GanzooError(
                f"{path} line {number} is not a benchmark record ({exc}); move the file away "
                "or choose another --out directory."
            ) from exc
    return records


def append_record(path: Path, record: Mapping[str, Any]) -> None:
    """Append one record as a JSON line (flushed, so a later crash keeps it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()
