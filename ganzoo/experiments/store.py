"""The results store of experiments: one JSON record per finished run, found by its key, at
``ROOT/cells/<group>/<sha of the key>.json``, written atomically; a run holds its cell's ``flock``
while it trains, so many writers never train a cell twice (docs/experiments.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError, WriteError, describe_os_error
from ganzoo.runs import FILE_MODE, atomic_write_text

logger = logging.getLogger(__name__)

CELLS_DIR = "cells"
LOCKS_DIR = "locks"
WORK_DIR = "work"
OK = "ok"
FAILED = "failed"


class StoreError(GanzooError):
    """A store file that cannot be used as a record (wrong shape); the message names it."""


def key_digest(key: Mapping[str, Any]) -> str:
    """The 20-hex-digit name of a key's record (stable across processes and versions)."""
    text = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def plain(key: Mapping[str, Any]) -> Any:
    """``key`` as it reads back from JSON (tuples become lists, objects strings)."""
    return json.loads(json.dumps(key, default=str))


def check_record(record: Any, path: Path) -> dict[str, Any]:
    """``record`` if it has a record's shape, else a one-line :class:`StoreError` naming
    ``path`` and how to fix it."""
    curve = record.get("curve") if isinstance(record, dict) else None
    points = isinstance(curve, list) and all(
        isinstance(point, dict) and isinstance(point.get("iteration"), int) for point in curve
    )
    if not isinstance(record, dict):
        problem = f"it holds a JSON {type(record).__name__}, not an object"
    elif not isinstance(record.get("key"), dict):
        problem = "'key' is missing or not an object"
    elif record.get("status") not in (OK, FAILED):
        problem = f"'status' is {record.get('status')!r}, not 'ok' or 'failed'"
    elif record["status"] == OK and not points:
        problem = "'curve' is not a list of {'iteration': N, ...} points"
    elif record["status"] == OK and not isinstance(record.get("final", {}), dict):
        problem = "'final' is not an object"
    else:
        return record
    raise StoreError(
        f"{path} is not a results record ({problem}); delete the file and run again to retrain "
        "that cell"
    )


class RecordStore:
    """Finished runs under ``root`` (created on first write), grouped (e.g. by task)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def check_writable(self) -> None:
        """Create ``root`` and prove a file can be written there, or raise one clear error."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=self.root).close()  # a probe that vanishes when closed
        except OSError as exc:
            raise WriteError(
                f"cannot write to the results store {self.root}: "
                f"{describe_os_error(self.root, exc)}. Choose a folder you can write to "
                "with --store (or --out)."
            ) from None

    def path(self, group: str, key: Mapping[str, Any]) -> Path:
        return self.root / CELLS_DIR / group / f"{key_digest(key)}.json"

    def work_dir(self, group: str, key: Mapping[str, Any]) -> Path:
        """The cell's own folder for files (kept across interruptions, so a run resumes)."""
        return self.root / WORK_DIR / group / key_digest(key)

    def get(self, group: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The stored record for ``key``, or None (also for a file cut short: its cell runs
        again); valid JSON of the wrong shape is a :class:`StoreError`, never overwritten."""
        path = self.path(group, key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read the record {path}: {exc.strerror or exc}") from None
        try:
            record = check_record(json.loads(text), path)
        except json.JSONDecodeError as exc:
            logger.warning("%s is unreadable (%s); its cell will run again", path, exc)
            return None
        if record["key"] != plain(key):
            logger.warning("%s holds another cell's result; its cell will run again", path)
            return None
        return record

    def put(self, group: str, key: Mapping[str, Any], record: Mapping[str, Any]) -> Path:
        """Write ``record`` with its key atomically; returns its path."""
        path = self.path(group, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps({**record, "key": plain(key)}, indent=1, sort_keys=True, default=str)
            atomic_write_text(path, text)
        except OSError as exc:
            raise WriteError(
                f"cannot write the result {path}: {describe_os_error(path, exc)}. Free space "
                "or choose another --store."
            ) from None
        return path

    @contextlib.contextmanager
    def claim(self, group: str, key: Mapping[str, Any], wait: bool = False) -> Iterator[bool]:
        """Hold the cell's lock for the duration of the block; yields False (at once) when
        another process holds it and ``wait`` is false. Locks vanish with their process."""
        path = self.root / LOCKS_DIR / group / f"{key_digest(key)}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            with contextlib.suppress(OSError):
                os.chmod(path, FILE_MODE)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every readable record in the store, of any version (for listings)."""
        for path in sorted((self.root / CELLS_DIR).glob("*/*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if isinstance(record, dict) and isinstance(record.get("key"), dict):
                yield record
