"""Plain-words checks of a config layer's value kinds against the schema's type hints.

OmegaConf meets a list where a section belongs (``generator=[1,2]``) with a TypeError from deep
inside its merge, and a wrong scalar with its own jargon ("AnyNode is not a ListConfig", "could
not be converted to Integer"). :func:`kind_problem` finds such a value before the merge and says
what the key wants; :func:`plain_message` rewords the OmegaConf errors that still get through.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

_SCALAR_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def kind_problem(schema: type, data: Mapping[str, Any], prefix: str = "") -> tuple[str, str] | None:
    """The first ``(dotted key, problem)`` where ``data`` (plain dicts and lists, as read from
    YAML or overrides) holds a value of the wrong kind for the dataclass ``schema``: a scalar or
    list for a section, a non-mapping for a dict, a non-list or a nested container in a list, a
    container for a scalar. Unknown keys are left to OmegaConf, which lists the valid ones."""
    hints = typing.get_type_hints(schema)
    for key, value in data.items():
        hint = hints.get(key) if isinstance(key, str) else None
        if hint is None:
            continue
        full = f"{prefix}{key}"
        hint, optional = _unwrap_optional(hint)
        if hint is Any:
            continue
        if value is None:
            if optional or _is_scalar(hint):  # a scalar's null: OmegaConf's check, reworded
                continue
            return full, f"must be {_wanted(full, hint)}, not null"
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                return full, f"must be {_wanted(full, hint)}, not {_show(value)}"
            found = kind_problem(hint, value, f"{full}.")
            if found is not None:
                return found
        elif typing.get_origin(hint) is dict:
            if not isinstance(value, Mapping):
                return full, f"must be {_wanted(full, hint)}, not {_show(value)}"
        elif typing.get_origin(hint) is list:
            if not isinstance(value, list | tuple):
                return full, f"must be {_wanted(full, hint)}, not {_show(value)}"
            for i, item in enumerate(value):
                if isinstance(item, Mapping | list | tuple):
                    return f"{full}[{i}]", f"must be a single value, not {_show(item)}"
        elif isinstance(value, Mapping | list | tuple):
            return full, f"must be {_wanted(full, hint)}, not {_show(value)}"
    return None


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(typing.get_args(hint))
    return hint, False


def _is_scalar(hint: Any) -> bool:
    return hint in _SCALAR_WORDS


def _wanted(key: str, hint: Any) -> str:
    leaf = key.rsplit(".", 1)[-1]
    if dataclasses.is_dataclass(hint):
        names = [f.name for f in dataclasses.fields(hint)]
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        return f"a section of keys ({shown}), set one at a time like {key}.{names[0]}=..."
    if typing.get_origin(hint) is dict:
        return (
            f"a mapping of names to values, e.g. {key}.NAME=VALUE on the command line or "
            f"{leaf}: {{NAME: VALUE}} in YAML"
        )
    if typing.get_origin(hint) is list:
        return f"a list, e.g. {key}=[a,b] on the command line or {leaf}: [a, b] in YAML, or null"
    return f"a single value ({_SCALAR_WORDS.get(hint, 'a scalar')})"


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"a mapping {dict(value)!r}"
    if isinstance(value, list | tuple):
        return f"a list {list(value)!r}"
    return repr(value)


# -- OmegaConf's own messages, reworded -------------------------------------------------------

_TARGET_WORDS = {
    "Integer": "a whole number",
    "Float": "a number",
    "Boolean": "true or false",
    "String": "text",
}
_REWORDINGS: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(r"Value '(.*)' of type '(\w+)' could not be converted to (\w+)$"),
        lambda m: f"expected {_TARGET_WORDS.get(m[3], m[3])}, got {_quoted(m[1], m[2])}",
    ),
    (
        re.compile(r"Value '(.*)' is not a valid bool \(type (\w+)\)$"),
        lambda m: f"expected true or false, got {_quoted(m[1], m[2])}",
    ),
    (
        re.compile(r"Incompatible value 'None' for field of type '(\w+)'$"),
        lambda m: f"must not be null; expected {_SCALAR_WORDS.get(_builtin(m[1]), m[1])}",
    ),
    (re.compile(r"field '.*' is not Optional$"), lambda m: "must not be null"),
]


def plain_message(first_line: str) -> str:
    """OmegaConf's one-line complaint in plain words, where it is one we know; else as is."""
    for pattern, reword in _REWORDINGS:
        match = pattern.match(first_line)
        if match:
            return reword(match)
    return first_line


def _quoted(text: str, type_name: str) -> str:
    return repr(text) if type_name == "str" else text


def _builtin(name: str) -> type | None:
    return {"int": int, "float": float, "bool": bool, "str": str}.get(name)
