"""Activation cost on the CPU: PSF (fused and portable), PAU, PReLU and ELU against
LeakyReLU(0.2).

Forward+backward of a float32 (64, 128, 16, 16) tensor with 2 threads. Every round runs each
activation (in a rotating order) for a few steps, and each time is divided by LeakyReLU's time
in the same round; the table shows the median of those ratios, so machine-wide slowdowns (the
cores are shared) cancel out. Also: bytes saved for backward (summed through
``saved_tensors_hooks``, one count per storage) relative to LeakyReLU, and the one-time cost of
the fused PSF on the CPU: building its native C++ kernels in a fresh, private cache (what a new
machine pays once), and loading the cached library (what every later process pays). The PAU
rows (the ``ganzoo-pau`` plugin's safe Padé unit of degrees (5, 4), one coefficient set per
layer and one per channel, and the same maths left to autograd for reference) appear when that
plugin is installed.

    python benchmarks/bench_activations.py [--rounds 25] [--steps 3] [--device cuda] [--strict]

``--device cuda`` runs the same table on a GPU (the fused PSF and PAU are then their Triton
kernels; the first call compiles them).

``--strict`` exits 1 when a target fails; without it the script only reports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

# A private, empty cache for PSF's native kernels: the build cost measured is what a fresh
# machine pays. (Set before ganzoo_psf builds anything; the library is built on first use.)
os.environ["GANZOO_PSF_CACHE_DIR"] = tempfile.mkdtemp(prefix="ganzoo-bench-psf-")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from ganzoo.activations import ACTIVATIONS, create_activation  # noqa: E402

SHAPE = (64, 128, 16, 16)
FUSED_TARGET = 1.3  # fused PSF time / LeakyReLU time


class TextbookPSF(nn.Module):
    """The obvious ``torch.where`` PSF with autograd's derivatives: the reference point."""

    def __init__(self) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.exp(self.alpha)
        return torch.where(x >= 0, x, s * x / (s + x.abs()))


class TextbookPAU(nn.Module):
    """The safe PAU (5, 4) written as plain tensor maths, derivatives by autograd: the
    reference point for the plugin's hand-written backward."""

    def __init__(self) -> None:
        super().__init__()
        pau = create_activation("pau")
        self.numerator = nn.Parameter(pau.numerator.detach().reshape(-1).clone())
        self.denominator = nn.Parameter(pau.denominator.detach().reshape(-1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = sum(a * x**j for j, a in enumerate(self.numerator))
        t = x.abs()
        q = 1 + sum(b.abs() * t ** (k + 1) for k, b in enumerate(self.denominator))
        return p / q


def step(module: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> None:
    """One forward+backward; gradients are dropped, not accumulated."""
    x.grad = None
    for p in module.parameters():
        p.grad = None
    module(x).backward(grad)


def saved_bytes(module: nn.Module, x: torch.Tensor) -> int:
    """Bytes the forward keeps for backward, counting each storage once."""
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x)
    return sum(storages.values())


def _sync(x: torch.Tensor) -> None:
    if x.is_cuda:
        torch.cuda.synchronize(x.device)


def timed(module: nn.Module, x: torch.Tensor, grad: torch.Tensor, steps: int) -> float:
    _sync(x)
    start = time.perf_counter()
    for _ in range(steps):
        step(module, x, grad)
    _sync(x)
    return (time.perf_counter() - start) / steps


def cached_load_seconds() -> float | None:
    """Seconds a new process takes to load the (now cached) native library, or None."""
    code = (
        "import time; from ganzoo_psf import _native; s = time.perf_counter(); _native.load(); "
        "print(time.perf_counter() - s)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25, help="interleaved rounds (median)")
    parser.add_argument("--steps", type=int, default=3, help="steps per activation per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    x = torch.randn(SHAPE, device=device, requires_grad=True)
    grad = torch.randn(SHAPE, device=device)

    candidates: dict[str, nn.Module] = {
        "LeakyReLU(0.2)": create_activation("leaky_relu"),
        "PSF fused": create_activation("psf", fused=True),
        "PSF portable": create_activation("psf", fused=False),
        "PSF fused, per-channel": create_activation("psf", num_parameters=SHAPE[1], fused=True),
        "PReLU": create_activation("prelu"),
        "ELU": create_activation("elu"),
        "PSF textbook (torch.where)": TextbookPSF(),
    }
    if "pau" in ACTIVATIONS:
        candidates["PAU (5, 4)"] = create_activation("pau")
        candidates["PAU (5, 4), per-channel"] = create_activation("pau", num_parameters=SHAPE[1])
        candidates["PAU textbook (autograd)"] = TextbookPAU()
    candidates = {name: module.to(device) for name, module in candidates.items()}
    baseline = "LeakyReLU(0.2)"

    # One LeakyReLU step for scale, then the fused path's first call (it compiles).
    for _ in range(3):
        step(candidates[baseline], x, grad)
    lrelu_step = timed(candidates[baseline], x, grad, 5)
    start = time.perf_counter()
    step(candidates["PSF fused"], x, grad)
    first_call = time.perf_counter() - start
    for module in candidates.values():  # warm up everything (per-channel reuses the kernels)
        step(module, x, grad)
    compile_cost = first_call - timed(candidates["PSF fused"], x, grad, 3)

    names = list(candidates)
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]  # rotate: no fixed position
        times = {name: timed(candidates[name], x, grad, args.steps) for name in order}
        for name in names:
            ratios[name].append(times[name] / times[baseline])

    saved = {name: saved_bytes(module, x) for name, module in candidates.items()}
    alpha_bytes = {
        name: sum(p.numel() * p.element_size() for p in m.parameters())
        for name, m in candidates.items()
    }
    median = {name: statistics.median(values) for name, values in ratios.items()}

    print(
        f"Activation forward+backward, float32 {SHAPE}, {device}, {args.threads} threads, "
        f"{args.rounds} interleaved rounds x {args.steps} steps; torch {torch.__version__}"
    )
    print(f"{'activation':<28} {'time / LeakyReLU':>17} {'(p25 - p75)':>16} {'saved / LReLU':>14}")
    for name in names:
        q = statistics.quantiles(ratios[name], n=4) if len(ratios[name]) > 1 else [median[name]] * 3
        print(
            f"{name:<28} {median[name]:>16.2f}x {f'({q[0]:.2f} - {q[2]:.2f})':>16} "
            f"{saved[name] / saved[baseline]:>13.4f}x"
        )
    from ganzoo_psf import _fused, _native

    if device.type == "cuda":
        print(
            f"\nOne-time cost of the fused PSF on {device}: its first call (Triton compiles "
            f"its kernels) took {compile_cost:.1f} s more than a later one; failed "
            f"fused paths: {sorted(map(str, _fused._state['failed'])) or 'none'}."
        )
    elif _native.info["built"]:
        load = cached_load_seconds()
        later = "?" if load is None else f"{load * 1e3:.0f} ms"
        print(
            f"\nOne-time cost of the fused PSF: building its native CPU kernels in a fresh cache "
            f"took {_native.info['build_seconds']:.1f} s (first call in all: {compile_cost:.1f} s "
            f"= {compile_cost / lrelu_step:,.0f} LeakyReLU steps), once per machine; a later "
            f"process loads the cached library in {later}."
        )
    else:
        print(
            f"\nThe fused PSF's native CPU kernels were not built ({_fused._state['error']!r}); "
            f"'PSF fused' ran the portable path. First call: {compile_cost:.1f} s."
        )

    checks = [
        (
            f"fused PSF time <= {FUSED_TARGET}x LeakyReLU",
            median["PSF fused"] <= FUSED_TARGET,
            f"{median['PSF fused']:.2f}x",
        ),
        (
            "portable PSF time <= ELU time",
            median["PSF portable"] <= median["ELU"],
            f"{median['PSF portable']:.2f}x vs {median['ELU']:.2f}x",
        ),
    ]
    for name in ("PSF fused", "PSF portable", "PAU (5, 4)"):
        if name not in candidates:
            continue
        limit = saved[baseline] + alpha_bytes[name]
        checks.append(
            (
                f"{name} saves <= LeakyReLU + its parameters",
                saved[name] <= limit,
                f"{saved[name]:,} B vs {limit:,} B",
            )
        )
    print("\nTargets:")
    for label, ok, detail in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}  ({detail})")
    failed = not all(ok for _, ok, _ in checks)
    return 1 if (failed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
