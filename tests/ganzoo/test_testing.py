"""ganzoo.testing's launcher for Triton-interpreter checks: the checks run in a fresh process
with TRITON_INTERPRET=1, and only a run in which every check passed counts as passed (a file
that skipped or failed a check does not)."""

from __future__ import annotations

from pathlib import Path

from ganzoo.testing import run_interpreted_checks

PASSING = """
import os

def test_interpreter_is_on():
    assert os.environ["TRITON_INTERPRET"] == "1"
"""
SKIPPING = (
    PASSING
    + """
import pytest

def test_skipped():
    pytest.skip("not under the interpreter")
"""
)
FAILING = (
    PASSING
    + """
def test_fails():
    assert 1 == 2
"""
)


def test_only_a_run_where_every_check_passed_counts(tmp_path: Path) -> None:
    """The environment reaches the checks; skipped or failed checks make the run not pass."""
    verdicts = {}
    for name, source in {"passing": PASSING, "skipping": SKIPPING, "failing": FAILING}.items():
        checks = tmp_path / f"{name}_checks.py"
        checks.write_text(source)
        run = run_interpreted_checks(checks, timeout=300)
        verdicts[name] = (run.all_passed, run.summary)
    assert verdicts["passing"][0], verdicts["passing"][1]
    assert not verdicts["skipping"][0] and "skipped" in verdicts["skipping"][1]
    assert not verdicts["failing"][0] and "failed" in verdicts["failing"][1]
