"""``make gpu-bench``'s pieces at toy sizes on the CPU: the random CIFAR-10 files ganzoo reads,
a recipe's it/s and FLOPs, the ratio table, FID against torch-fidelity's loop, the skip lines,
and the GPU session script's plumbing without CUDA."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_bench.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gpu_bench():
    return _load()


@pytest.fixture(autouse=True)
def keep_logger_levels():
    """main() quietens the ganzoo and ignite loggers for its table; a test calling it in this
    process must not silence the logs of every test after it."""
    import logging

    names = ("ignite", "ganzoo", "ganzoo.data.cifar")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_without_cuda_it_says_so_and_exits_0(gpu_bench, monkeypatch, capsys):
    """No GPU: one line saying there is none, exit status 0, nothing measured."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(
        gpu_bench, "speed_table", lambda *a, **k: (_ for _ in ()).throw(AssertionError)
    )
    assert gpu_bench.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gpu-bench: no CUDA GPU") and out.count("\n") == 1


def test_random_cifar_files_are_read_by_ganzoos_cifar10(gpu_bench, tmp_path):
    """The random files pass ganzoo's CIFAR-10 reader: 5 x 64 training images, uint8, labels
    0..9, the real class names (so a recipe's `classes: [automobile]` works)."""
    from ganzoo.data import build_dataset

    root = gpu_bench.write_random_cifar(tmp_path, per_file=64)
    data = build_dataset("cifar10", root)
    assert data.images.shape == (320, 3, 32, 32) and data.images.dtype == torch.uint8
    assert int(data.labels.min()) >= 0 and int(data.labels.max()) <= 9
    cars = build_dataset("cifar10", root, classes=["automobile"])
    assert 0 < len(cars) < 320 and set(cars.labels.tolist()) == {1}
    assert len(build_dataset("cifar10", root, train=False)) == 64


def test_a_recipe_trains_and_is_timed_with_its_flops(gpu_bench, tmp_path):
    """dcgan_cifar_lrelu at toy width on the CPU: a positive it/s, and one iteration's FLOPs
    near the count of its convolutions (more than the generator's forward alone)."""
    sizes = gpu_bench.TINY
    root = gpu_bench.write_random_cifar(tmp_path, per_file=64)
    config = gpu_bench.recipe_config(
        "dcgan_cifar_lrelu", "cpu", "bf16", False, [f"data.root={root}"]
    )
    for item in sizes.overrides:
        gpu_bench._set(config, *item.split("=", 1))
    flops = {}
    rate = gpu_bench.iterations_per_second(config, tmp_path, sizes, flops)
    assert rate > 0
    assert config.generator["width"] == 8 and config.train.precision == "bf16"
    # G forward at width 8 on 4 images is about 4 x 8 MFLOP; D and backward passes add more.
    assert 1e7 < flops["per_iteration"] < 1e10


def test_ratios_and_table_from_known_rates(gpu_bench):
    """Time ratios are base it/s over the slower recipe's; the table holds every recipe and
    TFLOP/s as FLOPs x best it/s."""
    rates = {
        ("dcgan_cifar_lrelu", "fp32"): 100.0,
        ("dcgan_cifar_psf", "fp32"): 50.0,
        ("sngan_cifar", "fp32"): 10.0,
        ("sngan_cifar_psf", "fp32"): 8.0,
        ("dcgan_cifar_pau", "fp32"): 80.0,
        ("dcgan_cifar_lrelu", "bf16"): 200.0,
    }
    lines = gpu_bench.ratio_lines(rates)
    assert "fp32 2.00" in lines[0] and "fp32 1.25" in lines[1] and "fp32 1.25" in lines[2]
    table = gpu_bench.report(rates, {"dcgan_cifar_lrelu": 1e12}, 1e15, "random data")
    row = next(line for line in table if line.startswith("dcgan_cifar_lrelu"))
    assert "200.00" in row and "200.00 (20.0% of peak)" in row  # 1e12 x 200 it/s = 200 TFLOP/s


def test_mimicry_is_skipped_when_not_installed(gpu_bench, monkeypatch):
    """Without torch-mimicry the timing returns None (the run prints a skip line)."""
    monkeypatch.setitem(sys.modules, "torch_mimicry", None)
    assert gpu_bench.mimicry_sngan_speed(torch.device("cpu"), gpu_bench.TINY) is None


@pytest.mark.slow
def test_fid_end_to_end_agrees_with_torch_fidelity(gpu_bench, tmp_path):
    """A random-init Inception on 16 generated images: our features equal torch-fidelity's
    within 1e-4 (relative to their scale) and both FIDs agree."""
    weights = gpu_bench.random_inception_weights(tmp_path / "inception.pth")
    torch.manual_seed(0)
    from ganzoo.architectures import get_architecture

    generator = get_architecture("dcgan").generator(data_shape=(3, 32, 32), width=8)
    result = gpu_bench.fid_end_to_end(generator, str(weights), torch.device("cpu"), gpu_bench.TINY)
    assert result["feature_diff"] <= 1e-4 * max(1.0, result["feature_scale"])
    assert result["fid"] == pytest.approx(result["their_fid"], rel=1e-3)
    assert result["ours_s"] > 0 and result["theirs_s"] > 0


def test_gpu_session_script_without_cuda_writes_both_outputs(tmp_path):
    """`gpu_session.sh check` and `bench` on a machine without CUDA: both scripts say so, exit
    0, and their output lands under $OUT (gpu-check.txt with its logs archive, gpu-bench.txt)."""
    env = {
        **os.environ,
        "OUT": str(tmp_path),
        "WHEELS": str(tmp_path / "none"),
        "PYTHON": sys.executable,
        "CUDA_VISIBLE_DEVICES": "",
    }
    for part in ("check", "bench"):
        done = subprocess.run(
            ["bash", str(ROOT / "benchmarks" / "gpu_session.sh"), part],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert "no CUDA GPU" in (tmp_path / "gpu-check.txt").read_text()
    assert (tmp_path / "gpu-check-logs.tar.gz").is_file()
    assert "gpu-bench: no CUDA GPU" in (tmp_path / "gpu-bench.txt").read_text()
