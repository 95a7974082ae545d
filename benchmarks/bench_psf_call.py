"""What one eager PSF call costs on the CPU beyond LeakyReLU's, in measures a busy machine
cannot blur much.

For PSF as training builds it (``create_activation("psf")``: fused unless
``GANZOO_PSF_FUSED=0``) and for LeakyReLU(0.2), one forward+backward of a float32 tensor:

- the operators it launches (a ``TorchDispatchMode`` log) and the Python calls it makes
  (``sys.setprofile``): deterministic counts;
- its process CPU time (``time.process_time``, one thread, so time the process spent waiting
  for a core is not counted), at a tiny shape (the per-call overhead) and at a DCGAN layer's
  shape, in interleaved rounds; the median PSF / LeakyReLU ratio and its range over rounds.

Target (deterministic): PSF's call launches no more operators than LeakyReLU's plus one (its
two operators where LeakyReLU has two kernels, and alpha's gradient handed over); ``--strict``
exits 1 when it fails. The times are reported, with no target: see the spread.

    python benchmarks/bench_psf_call.py [--rounds 9] [--calls 300] [--strict]

To compare two versions of the plugin, run it once per version in the same session (e.g. with
``PYTHONPATH=<old checkout>/plugins/psf`` for the old one): the printed plugin path says which.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from ganzoo.activations import create_activation

SHAPES = {"tiny (2, 4): per-call overhead": (2, 4), "layer (32, 128, 8, 8)": (32, 128, 8, 8)}


class _OperatorLog(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.append(str(func).removesuffix(".default"))
        return func(*args, **(kwargs or {}))


def call(module: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> None:
    """One forward+backward of ``module`` on a fresh leaf ``x`` (parameter gradients dropped)."""
    for parameter in module.parameters():
        parameter.grad = None
    module(x.detach().requires_grad_()).backward(grad)


def operators(module: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> list[str]:
    """The operators one call launches, forward then backward (top level)."""
    with _OperatorLog() as log:
        call(module, x, grad)
    return log.names


def python_calls(module: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> int:
    """Python-level function calls (Python and builtin) one call makes."""
    count = 0

    def hook(frame, event, arg) -> None:
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(hook)
    try:
        call(module, x, grad)
    finally:
        sys.setprofile(None)
    return count - 1  # the setprofile(None) call itself


def cpu_seconds(module: nn.Module, x: torch.Tensor, grad: torch.Tensor, calls: int) -> float:
    """Process CPU seconds per call, over ``calls`` calls."""
    start = time.process_time()
    for _ in range(calls):
        call(module, x, grad)
    return (time.process_time() - start) / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (median)")
    parser.add_argument("--calls", type=int, default=300, help="calls per contender per round")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target fails")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    psf, lrelu = create_activation("psf"), create_activation("leaky_relu")
    plugin = sys.modules[type(psf).__module__].__file__
    print(f"PSF from {plugin}, torch {torch.__version__}, 1 thread, process CPU time")
    x, grad = torch.randn(2, 4), torch.randn(2, 4)
    call(psf, x, grad)  # loads the kernels
    launched = {}
    for name, module in (("PSF", psf), ("LeakyReLU", lrelu)):
        ops, count = operators(module, x, grad), python_calls(module, x, grad)
        launched[name] = ops
        print(f"  {name:<10} {count:3d} Python calls, {len(ops)} ops: {ops}")
    for label, shape in SHAPES.items():
        x, grad = torch.randn(shape), torch.randn(shape)
        calls = max(10, args.calls if shape == (2, 4) else args.calls // 10)
        for module in (psf, lrelu):
            cpu_seconds(module, x, grad, calls)  # warm
        times: dict[str, list[float]] = {"PSF": [], "LeakyReLU": []}
        for _ in range(args.rounds):
            times["PSF"].append(cpu_seconds(psf, x, grad, calls))
            times["LeakyReLU"].append(cpu_seconds(lrelu, x, grad, calls))
        ratios = [a / b for a, b in zip(times["PSF"], times["LeakyReLU"], strict=True)]
        print(
            f"  {label}: PSF {statistics.median(times['PSF']) * 1e6:.1f} us, LeakyReLU "
            f"{statistics.median(times['LeakyReLU']) * 1e6:.1f} us per call; PSF / LeakyReLU "
            f"median {statistics.median(ratios):.3f} (range {min(ratios):.3f} - "
            f"{max(ratios):.3f}, {args.rounds} rounds)"
        )
    ok = len(launched["PSF"]) <= len(launched["LeakyReLU"]) + 1
    print(f"{'PASS' if ok else 'FAIL'}  PSF's operators per call <= LeakyReLU's + 1")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
