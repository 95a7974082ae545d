"""The leaderboard's results store: one JSON file per finished cell, found again by its key.

A cell's key is (activation and its kwargs, task with its version and settings, seed, ganzoo
version); its file is ``STORE/cells/<task>/<sha of the key>.json``, written to a temporary
file and renamed, so parallel workers never clash and a killed run leaves no half-written
result. Re-running reuses every cell whose key is there; a result from another task version or
ganzoo version has another key, so it is kept on disk but never mixed into the new
leaderboard. Cells that need files (the image tasks' training runs) get their own folder,
``STORE/work/<task>/<sha>/``, which survives an interruption so the run can resume.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError
from ganzoo.leaderboard.tasks import Cell, Task

logger = logging.getLogger(__name__)

CELLS_DIR = "cells"
WORK_DIR = "work"


def ganzoo_version() -> str:
    from ganzoo import __version__

    return __version__


def cell_key(cell: Cell, task: Task, version: str | None = None) -> dict[str, Any]:
    """Everything a cell's result depends on, as a JSON-able dict."""
    return {
        "activation": cell.activation,
        "kwargs": dict(sorted(cell.kwargs.items())),
        "origin": cell.origin,  # a new plugin version runs its rows again
        **task.fingerprint(),
        "seed": int(cell.seed),
        "ganzoo_version": version or ganzoo_version(),
    }


def key_digest(key: Mapping[str, Any]) -> str:
    text = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class ResultStore:
    """Finished cells under ``root`` (created on first write)."""

    def __init__(self, root: Path, version: str | None = None) -> None:
        self.root = Path(root)
        self.version = version or ganzoo_version()

    def check_writable(self) -> None:
        """Create ``root`` and prove a file can be written there, or raise one clear error."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle, probe = tempfile.mkstemp(dir=self.root, prefix=".probe", suffix=".tmp")
            os.close(handle)
            os.remove(probe)
        except OSError as exc:
            raise GanzooError(
                f"cannot write to the leaderboard store {self.root}: {exc.strerror or exc}. "
                "Choose a folder you can write to with --store (or --out)."
            ) from exc

    def _path(self, cell: Cell, task: Task) -> Path:
        return self.root / CELLS_DIR / task.name / f"{key_digest(self.key(cell, task))}.json"

    def key(self, cell: Cell, task: Task) -> dict[str, Any]:
        return cell_key(cell, task, self.version)

    def work_dir(self, cell: Cell, task: Task) -> Path:
        """The cell's own folder for files (kept across interruptions)."""
        return self.root / WORK_DIR / task.name / key_digest(self.key(cell, task))

    def get(self, cell: Cell, task: Task) -> dict[str, Any] | None:
        """The stored record for ``cell``, or None. An unreadable file is treated as missing
        (and reported): the cell is then run again and the file replaced."""
        path = self._path(cell, task)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            logger.warning("%s is unreadable (%s); its cell will run again", path, exc)
            return None
        if record.get("key") != json.loads(json.dumps(self.key(cell, task), default=str)):
            logger.warning("%s holds another cell's result; its cell will run again", path)
            return None
        return record

    def put(self, cell: Cell, task: Task, record: Mapping[str, Any]) -> Path:
        """Write ``record`` (with the cell's key added) atomically; returns its path."""
        path = self._path(cell, task)
        payload = {"key": self.key(cell, task), **record}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as f:
                json.dump(payload, f, indent=1, sort_keys=True, default=str)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, path)
        except OSError as exc:
            raise GanzooError(
                f"cannot write the leaderboard result {path}: {exc}. Free space or choose "
                "another --store."
            ) from exc
        return path

    def records(self) -> Iterator[dict[str, Any]]:
        """Every readable record in the store, of any version (for listings)."""
        for path in sorted((self.root / CELLS_DIR).glob("*/*.json")):
            try:
                yield json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue

    def stale_count(self, tasks: Mapping[str, Task]) -> int:
        """How many stored records belong to another version of a task or of ganzoo."""
        current = {name: task.fingerprint() for name, task in tasks.items()}
        stale = 0
        for record in self.records():
            key = record.get("key", {})
            fingerprint = current.get(key.get("task"))
            if fingerprint is None:
                continue
            same_task = all(key.get(k) == json.loads(json.dumps(v)) for k, v in fingerprint.items())
            if not same_task or key.get("ganzoo_version") != self.version:
                stale += 1
        return stale
