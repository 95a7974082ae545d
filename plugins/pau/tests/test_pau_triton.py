"""The safe PAU's Triton kernels (CUDA's implementation) checked on the CPU under Triton's
interpreter.

Triton reads ``TRITON_INTERPRET`` when it is imported, so the checks
(``triton_interpreted_checks.py``) run in a fresh process with ``TRITON_INTERPRET=1``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECKS = Path(__file__).with_name("triton_interpreted_checks.py")


def run_interpreted(checks: Path) -> subprocess.CompletedProcess:
    """``pytest checks`` in a new process with TRITON_INTERPRET=1."""
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    command = [sys.executable, "-m", "pytest", str(checks), "-q", "-p", "no:cacheprovider"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="Triton is not installed")
def test_triton_kernels_match_eager_maths_under_the_interpreter() -> None:
    """Every interpreted check passes (and there are checks: none skipped, none failed)."""
    done = run_interpreted(CHECKS)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in summary and "skipped" not in summary and "failed" not in summary, summary
