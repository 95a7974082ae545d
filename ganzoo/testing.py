"""Helpers shared by the tests of ganzoo and its plugins (the plugins depend on ganzoo, never on
each other, so what both plugins' tests need lives here). No pytest import: pytest is not a
runtime dependency of ganzoo.

:func:`run_interpreted_checks` runs a file of Triton-kernel checks under Triton's interpreter.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class InterpretedRun:
    """How a checks file went: pytest's exit code, its summary line and its output's tail."""

    returncode: int
    summary: str
    output_tail: str

    @property
    def all_passed(self) -> bool:
        """Every check passed, and there were checks: none failed, none skipped (a skip would
        mean the file did not run under the interpreter)."""
        words = self.summary
        return (
            self.returncode == 0
            and " passed" in words
            and "skipped" not in words
            and "failed" not in words
        )


def triton_installed() -> bool:
    """Whether Triton can be imported here (its kernels need it even when interpreted)."""
    return importlib.util.find_spec("triton") is not None


def run_interpreted_checks(checks: Path, timeout: float = 900) -> InterpretedRun:
    """``pytest checks`` in a fresh process with ``TRITON_INTERPRET=1``: Triton reads the
    variable when it is imported, so kernels cannot be interpreted in a process that has
    imported Triton already. The checks then run the kernels on CPU tensors."""
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    command = [sys.executable, "-m", "pytest", str(checks), "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    stdout = done.stdout.strip()
    summary = stdout.splitlines()[-1] if stdout else done.stderr.strip()
    return InterpretedRun(done.returncode, summary, done.stdout[-4000:] + done.stderr[-2000:])
