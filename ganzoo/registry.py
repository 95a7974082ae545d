"""ganzoo's registries (activations, losses, architectures, datasets): name -> class, with
lazy entry-point plugins.

The machinery is :class:`evaluation.registry.Registry`, shared with the evaluation's metric
registry (``evaluation`` knows nothing of ganzoo, so the shared part lives there); this
subclass raises ganzoo's :class:`~ganzoo.errors.RegistryError`, which the CLI prints as one line.
"""

from __future__ import annotations

from evaluation.registry import BUILTIN, Entry
from evaluation.registry import Registry as EntryPointRegistry
from ganzoo.errors import RegistryError

__all__ = ["BUILTIN", "Entry", "Registry"]


class Registry(EntryPointRegistry):
    """An entry-point registry whose errors are :class:`ganzoo.errors.RegistryError`."""

    error = RegistryError
