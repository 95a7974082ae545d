"""The safe PAU's Triton kernels (CUDA's implementation) checked on the CPU under Triton's
interpreter: ``triton_interpreted_checks.py`` compares the kernels' forward, x gradient and
numerator and denominator gradients with ``ganzoo_pau._math`` (one coefficient set and one per
channel, contiguous and channels-last, float32, bfloat16, float16, float64), run in a fresh
process by ganzoo's shared launcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganzoo.testing import run_interpreted_checks, triton_installed

CHECKS = Path(__file__).with_name("triton_interpreted_checks.py")


@pytest.mark.skipif(not triton_installed(), reason="Triton is not installed")
def test_triton_kernels_match_eager_maths_under_the_interpreter() -> None:
    """Every interpreted check passes (and there are checks: none skipped, none failed)."""
    run = run_interpreted_checks(CHECKS)
    assert run.all_passed, f"{run.summary}\n{run.output_tail}"
