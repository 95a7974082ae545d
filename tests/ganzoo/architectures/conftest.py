"""Fixtures for the architecture tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """These tests use tiny tensors: on the 2 shared CPU cores one intra-op thread is several
    times faster than two threads spinning against the other jobs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
