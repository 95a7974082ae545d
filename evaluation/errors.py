"""Errors the evaluation module raises; each message says what was wrong and how to fix it.

``evaluation`` does not import ganzoo; ganzoo's CLI turns these into its own error messages.
"""

from __future__ import annotations


class EvaluationError(Exception):
    """A problem with the inputs, the suite or the environment of an evaluation."""


class WeightsNotFoundError(EvaluationError):
    """No source of the Inception weights worked; the message lists the ways to provide them."""


class BadWeightsError(WeightsNotFoundError):
    """A weights file that exists but is not the InceptionV3 state dict: garbage, truncated, of
    another network, or a pickle that would run code (refused unread, never executed)."""


class SuiteError(EvaluationError, ValueError):
    """An unknown suite name, or a suite file with unknown keys or impossible values."""


class ImageInputError(EvaluationError, ValueError):
    """Images that cannot be evaluated: wrong shape, dtype, count, or an unreadable folder."""


class RegistryError(EvaluationError, KeyError):
    """An unknown, duplicate or unloadable name in a registry (e.g. a metric)."""

    def __str__(self) -> str:  # KeyError would quote the message; print it as written
        return str(self.args[0]) if self.args else ""
