"""benchmarks/bench_psf_call.py at toy sizes: it counts the PSF call's operators (exactly the
two PSF operators besides the leaf handling LeakyReLU's call has too, so its target passes)
and prints a ratio for each shape."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_psf_call.py"


def test_counts_and_ratios(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    """PSF's call launches psf_forward and psf_backward where LeakyReLU's launches its two ATen
    kernels; one ratio line per shape, each a positive number."""
    monkeypatch.setenv("GANZOO_PSF_FUSED", "1")
    spec = importlib.util.spec_from_file_location("bench_psf_call", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    assert module.main(["--rounds", "1", "--calls", "20", "--strict"]) == 0
    out = capsys.readouterr().out
    psf_ops = re.search(r"PSF .* ops: (\[.*\])", out).group(1)
    assert "'ganzoo.psf_forward'" in psf_ops and "'ganzoo.psf_backward'" in psf_ops
    assert "exp" not in psf_ops and "copy" not in psf_ops
    ratios = [float(v) for v in re.findall(r"PSF / LeakyReLU median ([0-9.]+)", out)]
    assert len(ratios) == 2 and all(r > 0 for r in ratios)
    assert "PASS  PSF's operators per call" in out
