"""Errors that ganzoo reports to people.

Every error a user can cause (a config key, an activation name, a missing dataset or weight
file, a corrupt checkpoint) is raised as a :class:`GanzooError` whose message says what was
wrong and how to fix it. The CLI prints the message alone, without a traceback, and exits 2.
"""

from __future__ import annotations


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
