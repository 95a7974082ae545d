"""Errors that ganzoo reports to people.

Every error a user can cause (a config key, an activation name, a missing dataset or weight
file, a corrupt checkpoint) is raised as a :class:`GanzooError` whose message says what was
wrong and how to fix it. The CLI prints the message alone, without a traceback, and exits 2.
"""

from __future__ import annotations

from pathlib import Path


class GanzooError(Exception):
    """A problem with the user's input or environment, explained in its message."""


class RegistryError(GanzooError, KeyError):
    """An unknown, duplicate or unloadable name in a registry."""

    def __str__(self) -> str:  # KeyError would quote the message; print it as written
        return str(self.args[0]) if self.args else ""


class ConfigError(GanzooError, ValueError):
    """A config file or override that does not fit the schema."""


class DataError(GanzooError, FileNotFoundError):
    """A dataset that cannot be found or read."""


class CheckpointError(GanzooError):
    """A checkpoint or run directory that cannot be used."""


class WriteError(GanzooError):
    """An output that could not be written: a full disk, a read-only place, a name that is not
    a file of the kind asked for. Nothing partial is left behind."""


def describe_os_error(path: str | Path, exc: OSError) -> str:
    """Why ``path`` could not be written, for people: "runs/x is a file, not a folder" where a
    parent is a file (the OS says only "File exists" or "Not a directory"), else the OS reason."""
    existing = next((p for p in Path(path).parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"{existing} is a file, not a folder"
    return exc.strerror or str(exc)
