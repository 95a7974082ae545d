"""``make gpu-check`` on a machine without CUDA: it says so and exits 0, running nothing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_without_cuda_it_says_so_and_exits_0(monkeypatch, capsys):
    """No GPU: one line saying there is none, exit status 0, no check started."""
    gpu_check = _load()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(
        gpu_check, "run_check", lambda *a, **k: (_ for _ in ()).throw(AssertionError)
    )
    assert gpu_check.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gpu-check: no CUDA GPU") and out.count("\n") == 1


def test_every_check_the_issue_names_is_planned_for_cuda(tmp_path):
    """On CUDA the plan holds the gpu tests, PSF's Triton path, AMP training, EMA, nccl, both
    benchmarks, every activation in fp32/bf16, compiled bf16 training and the no-sync check."""
    gpu_check = _load()
    plan = gpu_check.checks("cuda", tmp_path)
    names = [name for name, _, _ in plan]
    assert names == [
        "gpu tests",
        "psf triton vs portable",
        "amp training",
        "ema",
        "nccl 1-gpu",
        "bench_activations",
        "bench_training",
        "activations fp32/bf16",
        "compile bf16 training",
        "no sync per D update",
    ]
    argv = {name: " ".join(command) for name, command, _ in plan}
    assert "-m gpu" in argv["gpu tests"] and "train.amp=true" in argv["amp training"]
    assert 'backend="nccl"' in argv["nccl 1-gpu"] and "--device cuda" in argv["bench_training"]
    assert "torch.bfloat16" in argv["activations fp32/bf16"]
    assert "train.compile=true train.precision=bf16" in argv["compile bf16 training"]
    assert "set_sync_debug_mode" in argv["no sync per D update"]


def test_every_planned_check_logs_to_a_file_of_its_own(tmp_path):
    """Each check's log is one file directly in the log folder, whatever its name holds (the
    '/' of "activations fp32/bf16" once crashed gpu-check after its first seven checks)."""
    gpu_check = _load()
    names = [name for name, _, _ in gpu_check.checks("cuda", tmp_path)]
    for name in names:
        result = gpu_check.run_check(name, [sys.executable, "-c", "print('ok')"], tmp_path, 60, {})
        assert result.ok, result
    logs = sorted(path.name for path in tmp_path.glob("*.log"))
    assert len(logs) == len(names) and "activations_fp32_bf16.log" in logs
