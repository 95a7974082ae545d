"""ganzoo.config_types: values of the wrong kind are found before OmegaConf merges them, and
OmegaConf's own complaints are reworded without its jargon."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ganzoo.config_types import kind_problem, plain_message


@dataclass
class Inner:
    size: int = 1
    betas: list[float] | None = None


@dataclass
class Schema:
    inner: Inner = field(default_factory=Inner)
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str = "x"
    anything: Any = None


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        ({"inner": 5}, "inner", ["a section of keys (size, betas)", "inner.size=", "not 5"]),
        ({"inner": [1, 2]}, "inner", ["a section of keys", "not a list [1, 2]"]),
        ({"inner": None}, "inner", ["a section of keys", "not null"]),
        ({"kwargs": [1, 2]}, "kwargs", ["a mapping", "kwargs.NAME=VALUE", "not a list [1, 2]"]),
        ({"inner": {"betas": 0.5}}, "inner.betas", ["a list", "or null", "not 0.5"]),
        ({"inner": {"betas": [0.5, [1]]}}, "inner.betas[1]", ["a single value", "a list [1]"]),
        ({"inner": {"size": [3]}}, "inner.size", ["a single value (a whole number)"]),
        ({"name": {"a": 1}}, "name", ["a single value (text)", "a mapping {'a': 1}"]),
    ],
)
def test_a_value_of_the_wrong_kind_is_named_with_what_the_key_wants(data, key, words):
    """Each wrong kind gives its dotted key (with the list index where one item is at fault)
    and the kind the schema wants."""
    found, problem = kind_problem(Schema, data)
    assert found == key
    for word in words:
        assert word in problem, (word, problem)


def test_values_of_the_right_kind_and_unknown_keys_pass():
    """Right kinds, nulls where allowed, Any-typed keys and unknown keys (OmegaConf names those
    with the valid ones) give no problem; wrong scalars are OmegaConf's to convert or refuse."""
    data = {
        "inner": {"size": "7", "betas": None, "typo": [1]},
        "kwargs": {"a": [1, {"b": 2}]},
        "name": None,
        "anything": {"x": [1]},
        "unknown": 5,
    }
    assert kind_problem(Schema, data) is None


@pytest.mark.parametrize(
    ("omegaconf", "plain"),
    [
        (
            "Value 'abc' of type 'str' could not be converted to Integer",
            "expected a whole number, got 'abc'",
        ),
        (
            "Value '1.5' of type 'float' could not be converted to Integer",
            "expected a whole number, got 1.5",
        ),
        ("Value 'a' of type 'str' could not be converted to Float", "expected a number, got 'a'"),
        ("Value 'maybe' is not a valid bool (type str)", "expected true or false, got 'maybe'"),
        (
            "Incompatible value 'None' for field of type 'int'",
            "must not be null; expected a whole number",
        ),
        ("field 'data' is not Optional", "must not be null"),
        ("Interpolation key 'foo' not found", "Interpolation key 'foo' not found"),
    ],
)
def test_omegaconf_messages_are_reworded(omegaconf, plain):
    """Known OmegaConf complaints become plain words; unknown ones pass through unchanged."""
    assert plain_message(omegaconf) == plain
