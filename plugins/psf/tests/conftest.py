"""Shared fixtures: tests run on the portable path unless they ask for ``fused=True``."""

from __future__ import annotations

import pytest
from ganzoo_psf import _fused


@pytest.fixture(autouse=True)
def portable_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """``fused=None`` means portable here, so only the fused tests pay for a build."""
    monkeypatch.setenv(_fused.ENV_VAR, "0")


@pytest.fixture
def fresh_fused_state(monkeypatch: pytest.MonkeyPatch) -> dict:
    """A private copy of the fused path's process state (failures, warned-once flag)."""
    state = {"failed": set(), "warned": False, "error": None}
    monkeypatch.setattr(_fused, "_state", state)
    return state
