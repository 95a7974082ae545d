"""A name -> object registry that third-party packages extend through entry points.

Built-ins register with a decorator; plugins declare an entry point in their own
``pyproject.toml`` and are imported only when their name is first asked for, so a plugin that
fails to import breaks only its own name. It lives here, importing nothing of ganzoo, so that
the evaluation's metric registry and ganzoo's registries (``ganzoo.registry``) share it.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, TypeVar

from evaluation.errors import RegistryError

logger = logging.getLogger(__name__)

T = TypeVar("T")

BUILTIN = "built-in"


@dataclass(frozen=True)
class Entry:
    """One registered name: the object (None until a plugin is loaded) and where it comes from."""

    name: str
    origin: str  # "built-in", or "<distribution> <version>" for a plugin
    obj: Any = None
    entry_point: metadata.EntryPoint | None = None


def _distribution_label(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return "an unknown distribution"
    return f"{dist.metadata['Name']} {dist.version}"


class Registry:
    """Maps names to classes (never instances), with lazy entry-point plugins.

    ``kind`` names what is registered ("activation") for error messages; ``group`` is the
    entry-point group plugins declare, e.g. ``ganzoo.activations``. ``check(name, obj)``, when
    given, vets every object (a built-in when it registers, a plugin when it loads) and raises
    ``self.error`` saying what the object lacks. ``error`` is the exception type every problem
    is raised as (a subclass sets its own). ``plural`` is ``kind`` + "s" unless given
    ("losses").

    Plugins are discovered on the first lookup, never while built-ins register: a plugin that
    declares a built-in name is refused and the built-in stays, whichever is seen first.
    """

    error: type[Exception] = RegistryError

    def __init__(
        self,
        kind: str,
        group: str,
        check: Callable[[str, Any], None] | None = None,
        plural: str | None = None,
    ) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self.group = group
        self.check = check
        self._builtins: dict[str, Entry] = {}
        self._plugins: dict[str, Entry] | None = None  # discovered on first use
        self._refused: list[str] = []  # why plugin names were refused, for `ganzoo activations`

    # -- registration -----------------------------------------------------------------------

    def register(self, name: str, obj: T | None = None) -> Callable[[T], T] | T:
        """Register ``obj`` under ``name``; without ``obj``, return a decorator.

        A name another built-in holds is refused. A plugin is never consulted here (that would
        discover plugins before every built-in is registered): one that declares the same name
        is refused when plugins are discovered, and the built-in stays.
        """

        def add(target: T) -> T:
            key = self._normalise(name)
            if key in self._builtins:
                raise self.error(
                    f"{self.kind} name {key!r} is already registered by "
                    f"{self._describe(self._builtins[key])}; refusing to register "
                    f"{_qualname(target)} under the same name. Choose another name."
                )
            if self.check is not None:
                self.check(key, target)
            self._builtins[key] = Entry(key, BUILTIN, target)
            if self._plugins is not None and key in self._plugins:
                self.refresh()  # discovered too early: discover again, refusing that plugin
            return target

        return add if obj is None else add(obj)

    def refresh(self) -> None:
        """Forget discovered plugins, so newly installed distributions are found."""
        self._plugins = None
        self._refused = []

    # -- lookup -----------------------------------------------------------------------------

    def get(self, name: str) -> Any:
        """Return the class registered as ``name``, importing its plugin if needed."""
        if not isinstance(name, str):
            raise self.error(f"{self.kind} name must be a string, got {name!r}")
        key = self._normalise(name)
        if key in self._builtins:
            return self._builtins[key].obj
        plugins = self._discovered()
        if key not in plugins:
            raise self.error(self._unknown_message(name))
        entry = plugins[key]
        if entry.obj is None:
            entry = self._load(entry)
            plugins[key] = entry
        return entry.obj

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._normalise(name) in self.names()

    def names(self) -> list[str]:
        """All registered names, built-in and plugin, sorted; plugins are not imported."""
        return sorted({*self._builtins, *self._discovered()})

    def canonical(self, name: str) -> str:
        """``name`` as the registry spells it ("Leaky-ReLU" -> "leaky_relu")."""
        if not isinstance(name, str):
            raise self.error(f"{self.kind} name must be a string, got {name!r}")
        key = self._normalise(name)
        if key in self._builtins or key in self._discovered():
            return key
        raise self.error(self._unknown_message(name))

    def origin(self, name: str) -> str:
        """``"built-in"`` or the plugin's ``"<distribution> <version>"``."""
        key = self._normalise(name)
        if key in self._builtins:
            return BUILTIN
        plugins = self._discovered()
        if key not in plugins:
            raise self.error(self._unknown_message(name))
        return plugins[key].origin

    def refused(self) -> list[str]:
        """Messages for plugin entry points that were refused (shadowing or duplicates)."""
        self._discovered()
        return list(self._refused)

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _normalise(name: str) -> str:
        return name.strip().lower().replace("-", "_")

    def _describe(self, entry: Entry) -> str:
        if entry.origin == BUILTIN:
            return f"the built-in {_qualname(entry.obj)}"
        return f"the plugin {entry.entry_point.value!r} ({entry.origin})"

    def _discovered(self) -> dict[str, Entry]:
        if self._plugins is None:
            self._plugins = self._discover(metadata.entry_points(group=self.group))
        return self._plugins

    def _discover(self, entry_points: Iterable[metadata.EntryPoint]) -> dict[str, Entry]:
        by_name: dict[str, list[Entry]] = {}
        for ep in entry_points:
            entry = Entry(self._normalise(ep.name), _distribution_label(ep), None, ep)
            seen = by_name.setdefault(entry.name, [])
            # The same distribution can appear twice on sys.path (e.g. an editable install).
            if not any(e.entry_point.value == ep.value and e.origin == entry.origin for e in seen):
                seen.append(entry)
        found: dict[str, Entry] = {}
        for key, entries in by_name.items():
            who = " and ".join(f"{e.entry_point.value!r} from {e.origin}" for e in entries)
            if key in self._builtins:
                self._refuse(
                    f"plugin {self.kind} {key!r} ({who}) tries to shadow "
                    f"{self._describe(self._builtins[key])}; refused, the built-in stays. "
                    f"Rename the entry point in that distribution's pyproject.toml."
                )
            elif len(entries) > 1:
                self._refuse(
                    f"plugin {self.kind} {key!r} is declared by more than one distribution "
                    f"({who}); all are refused until one is uninstalled or renamed."
                )
            else:
                found[key] = entries[0]
        return found

    def _refuse(self, message: str) -> None:
        self._refused.append(message)
        logger.warning(message)

    def _load(self, entry: Entry) -> Entry:
        ep = entry.entry_point
        try:
            obj = ep.load()
        except Exception as exc:  # any import-time failure of third-party code
            raise self.error(
                f"the {self.kind} plugin {entry.name!r} ({ep.value!r} from {entry.origin}) "
                f"failed to import: {type(exc).__name__}: {exc}. Other {self.plural} still work; "
                f"reinstall or fix that distribution, or choose another {self.kind}."
            ) from exc
        if self.check is not None:
            try:
                self.check(entry.name, obj)
            except self.error as exc:
                raise self.error(
                    f"the {self.kind} plugin {entry.name!r} ({ep.value!r} from {entry.origin}) "
                    f"does not fit ganzoo: {exc}"
                ) from None
        return Entry(entry.name, entry.origin, obj, ep)

    def _unknown_message(self, name: str) -> str:
        names = self.names()
        close = difflib.get_close_matches(self._normalise(name), names, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        refused = [m for m in self._refused if f"{self._normalise(name)!r}" in m]
        extra = f" ({refused[0]})" if refused else ""
        return (
            f"unknown {self.kind} {name!r}.{hint} Registered {self.plural}: {', '.join(names)}."
            f"{extra} A new one is added by a package that declares an entry point in the "
            f"{self.group!r} group (see the README)."
        )


def _qualname(obj: Any) -> str:
    module = getattr(obj, "__module__", "")
    name = getattr(obj, "__qualname__", repr(obj))
    return f"{module}.{name}" if module else name
