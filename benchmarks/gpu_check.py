"""The prepared GPU check (``make gpu-check``): what only a CUDA machine can test, in minutes.

Each check runs in its own subprocess (a crash or hang in one cannot take the others down),
with a time limit, and prints one summary line, ``PASS``/``FAIL``, its name, its time and the
detail that matters; the full output of every check is kept in ``--log-dir``. The checks:

1. ``gpu tests``: pytest on the tests marked ``gpu`` (ganzoo's and the PSF plugin's);
2. ``psf triton vs portable``: PSF's operators on CUDA (its Triton kernels) against its
   portable path, forward and both gradients, per layer and per channel, float32 and float16;
3. ``amp training``: ``ganzoo train`` for 50 iterations with ``train.amp=true`` (float16
   autocast with a GradScaler, whose state is checkpointed) and finite losses;
4. ``ema``: the same run's ``train.ema`` generator average is in its checkpoint, finite and
   different from the raw generator;
5. ``nccl 1-gpu``: a short training in a one-process nccl group (ganzoo's distributed path);
6. ``bench_activations`` and ``bench_training`` with ``--device cuda`` (their tables are in the
   logs; the check is that they run);
7. ``activations fp32/bf16``: every registered activation (built-ins and plugins) forward and
   backward on the device in float32 and bfloat16, finite outputs and gradients;
8. ``compile bf16 training``: ``ganzoo train`` for 50 iterations with ``train.compile=true
   train.precision=bf16``, finite losses;
9. ``no sync per D update``: GAN steps under ``torch.cuda.set_sync_debug_mode``, counting the
   host synchronisations of iterations that log nothing (0 expected).

The exit status is 1 if any check failed. On a machine without CUDA it says so and exits 0.
``--rehearse-on-cpu`` runs the same plumbing on the CPU (gloo for nccl, no AMP, PSF's C++
kernels, the benchmarks without their SNGAN and WGAN-GP rows, the no-sync check's steps without
the CUDA sync counter), to check this script itself where there is no GPU.

Usage: python benchmarks/gpu_check.py [--log-dir DIR] [--timeout 240] [--rehearse-on-cpu]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Small and fast: mnist5k (offline), 28x28, narrow networks.
TINY = [
    "data.name=mnist5k",
    "data.image_size=28",
    "data.limit=512",
    "train.batch_size=32",
    "train.log_every=10",
    "train.sample_every=1000",
    "train.progress=false",
    "generator.width=16",
    "discriminator.width=16",
]

PSF_CHECK = """
import torch
from ganzoo.activations import create_activation
from ganzoo_psf import _fused

device = torch.device("{device}")
worst = 0.0
for dtype in ({dtypes}):
    for channels in (1, 64):
        torch.manual_seed(0)
        x = torch.randn(32, 64, 16, 16, device=device, dtype=dtype)
        grad = torch.randn_like(x)
        results = []
        for fused in (True, False):
            psf = create_activation("psf", num_parameters=channels, fused=fused).to(device)
            with torch.no_grad():
                psf.alpha.copy_(torch.linspace(-1.0, 1.0, channels))
            xi = x.clone().requires_grad_(True)
            out = psf(xi)
            out.backward(grad)
            results.append((out.float(), xi.grad.float(), psf.alpha.grad.float()))
        tol = 1e-4 if dtype == torch.float32 else 1e-2
        for name, a, b in zip(("output", "x grad", "alpha grad"), *results):
            scale = max(1.0, float(b.abs().max()))
            error = float((a - b).abs().max()) / scale
            worst = max(worst, error)
            where = f"{{dtype}} channels={{channels}} {{name}}"
            assert error <= tol, f"{{where}}: {{error:.2e}} > {{tol}}"
assert not _fused._state["failed"], f"the fused path fell back: {{_fused._state['error']!r}}"
print(f"fused == portable within {{worst:.1e}} (relative), no fallback")
"""

NCCL_CHECK = """
import os
from pathlib import Path

import ignite.distributed as idist

os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                  MASTER_PORT="{port}")
import ganzoo
from ganzoo.engine import worker

seen = []
run_job = worker.run_job


def watched(local_rank, job):  # the process group the run trains in
    seen.append((idist.backend(), idist.get_world_size()))
    return run_job(local_rank, job)


worker.run_job = watched
result = ganzoo.train("{config}", {overrides!r}, out=Path("{out}"), backend="{backend}")
assert result.status == "finished", result
assert seen == [("{backend}", 1)], seen
assert idist.backend() is None, "the process group outlived the run"
print("backend {backend}, world size 1: trained")
"""

EMA_CHECK = """
import math
import torch
from ganzoo.runs import list_checkpoints, load_checkpoint

checkpoint = load_checkpoint(list_checkpoints("{run_dir}")[-1])
assert {amp} is False or "scaler" in checkpoint, "no GradScaler state in the checkpoint"
ema, raw = checkpoint["generator_ema"], checkpoint["generator"]
difference = max(float((ema[k].float() - raw[k].float()).abs().max()) for k in raw
                 if raw[k].is_floating_point())
assert all(torch.isfinite(v).all() for v in ema.values() if v.is_floating_point())
assert difference > 0, "the EMA generator equals the raw one"
print(f"generator_ema finite, max |ema - raw| = {{difference:.3g}}")
"""


ACTIVATIONS_CHECK = """
import torch
from ganzoo.activations import ACTIVATIONS, create_activation

device = torch.device("{device}")
checked = []
for name in ACTIVATIONS.names():
    for dtype in ({dtypes}):
        torch.manual_seed(0)
        act = create_activation(name).to(device)
        x = torch.randn(16, 32, 8, 8, device=device, dtype=dtype, requires_grad=True)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
            y = act(x)
        y.float().square().sum().backward()
        grads = [x.grad] + [p.grad for p in act.parameters() if p.grad is not None]
        assert torch.isfinite(y.float()).all(), (name, dtype, "output")
        assert all(torch.isfinite(g.float()).all() for g in grads), (name, dtype, "gradient")
        checked.append(f"{{name}}/{{str(dtype)[6:]}}")
print(f"{{len(checked)}} activation/dtype pairs finite forward and backward:", *checked)
"""

SYNC_CHECK = """
import warnings
import torch
from ganzoo.config import load_config
from ganzoo.data import build_dataset
from ganzoo.engine.trainer import create_training

config = load_config("{config}", {overrides!r})
d = config.data
dataset = build_dataset(d.name, d.root, image_size=d.image_size, limit=d.limit)
training = create_training(config, __import__("pathlib").Path("{out}"), dataset, progress=False)
step, batches = training.step, iter(training.loader)
for iteration in (1, 2, 3):  # warm-up (allocations, cuDNN choices)
    step.run(next(batches), iteration)
cuda = torch.cuda.is_available()  # False only in a CPU rehearsal: the steps run, uncounted
if cuda:
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("warn")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for iteration in (7, 11, 13):  # not multiples of log_every: nothing is read
        step.run(next(batches), iteration)
    if cuda:
        torch.cuda.set_sync_debug_mode(0)
if not cuda:
    print("3 iterations ran (CPU rehearsal: counting syncs needs CUDA)")
    raise SystemExit(0)
syncs = [str(w.message).splitlines()[0] for w in caught if "synchroniz" in str(w.message)]
assert not syncs, f"{{len(syncs)}} host synchronisations in 3 iterations: {{syncs[:3]}}"
print("3 iterations (DCGAN, n_critic 2, bf16, block loader): no host synchronisation")
"""


@dataclass
class Result:
    name: str
    ok: bool
    seconds: float
    detail: str


def run_check(name: str, argv: list[str], log_dir: Path, timeout: float, env: dict) -> Result:
    """Run ``argv``, keep its output in ``log_dir/<name>.log`` (the name made a file name:
    "activations fp32/bf16" -> ``activations_fp32_bf16.log``); PASS when it exits 0."""
    log = log_dir / (re.sub(r"[^\w.-]+", "_", name) + ".log")
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        stdout, stderr, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        stderr = f"timed out after {timeout:.0f} s"
        code = 124
    seconds = time.perf_counter() - started
    log.write_text(f"$ {' '.join(argv)}\n{stdout}\n--- stderr ---\n{stderr}")
    # The summary: stdout's last line (the result), or on failure stderr's (the error).
    last = {
        name: next((ln.strip() for ln in reversed(text.splitlines()) if ln.strip()), "")
        for name, text in (("out", stdout), ("err", stderr))
    }
    detail = (last["out"] or last["err"]) if code == 0 else (last["err"] or last["out"])
    detail = detail or "no output"
    if code != 0:
        detail = f"exit {code}: {detail}"
    return Result(name, code == 0, seconds, detail[:160])


def checks(device: str, work: Path) -> list[tuple[str, list[str], dict]]:
    """(name, argv, extra environment) of every check, in order."""
    python = sys.executable
    cuda = device == "cuda"
    amp = ["train.amp=true"] if cuda else []
    train_dir = work / "amp"
    config = str(ROOT / "configs" / "quickstart.yaml")
    port = str(29500 + os.getpid() % 1000)
    nccl = NCCL_CHECK.format(
        port=port,
        config=config,
        overrides=[*TINY, "train.iterations=10", f"train.device={device}"],
        out=work / "nccl",
        backend="nccl" if cuda else "gloo",
    )
    dtypes = "torch.float32, torch.float16" if cuda else "torch.float32,"
    psf_env = {} if cuda else {"GANZOO_PSF_FUSED": "1"}
    psf = PSF_CHECK.format(device=device, dtypes=dtypes)  # on the CPU: its C++ kernels
    gpu_tests = ["-m", "gpu"] if cuda else ["-m", "gpu or not gpu", "-k", "ema and not amp"]
    bench_small = ["--device", device, "--rounds", "3"]
    cpu_rows = [] if cuda else ["--no-sngan", "--no-wgan-gp"]  # minutes each on 2 CPU cores
    activations = ACTIVATIONS_CHECK.format(
        device=device, dtypes="torch.float32, torch.bfloat16" if cuda else "torch.float32,"
    )
    sync = SYNC_CHECK.format(
        config=config,
        overrides=[
            *TINY,
            "train.n_critic=2",
            "train.precision=bf16",
            f"train.device={device}",
            "train.log_every=1000",
        ],
        out=work / "sync",
    )
    compiled = [
        python,
        "-m",
        "ganzoo",
        "train",
        config,
        *TINY,
        "train.iterations=50",
        "train.compile=true",
        "train.precision=bf16",
        f"train.device={device}",
        "--out",
        str(work / "compiled"),
    ]
    return [
        (
            "gpu tests",
            [
                python,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                *gpu_tests,
                "tests",
                "plugins/psf/tests",
            ],
            {},
        ),  # fmt: skip
        ("psf triton vs portable", [python, "-c", textwrap.dedent(psf)], psf_env),
        (
            "amp training",
            [
                python,
                "-m",
                "ganzoo",
                "train",
                config,
                *TINY,
                "train.iterations=50",
                "train.checkpoint_every=50",
                "train.ema=0.99",
                f"train.device={device}",
                *amp,
                "--out",
                str(train_dir),
            ],
            {},
        ),  # fmt: skip
        (
            "ema",
            [
                python,
                "-c",
                f"import glob; run_dir = sorted(glob.glob('{train_dir}/*/*'))[-1]\n"
                + EMA_CHECK.replace('"{run_dir}"', "run_dir").format(amp=bool(cuda)),
            ],
            {},
        ),  # fmt: skip
        ("nccl 1-gpu", [python, "-c", nccl], {}),
        (
            "bench_activations",
            [python, "benchmarks/bench_activations.py", *bench_small, "--steps", "3"],
            {},
        ),
        (
            "bench_training",
            [python, "benchmarks/bench_training.py", *bench_small, "--iters", "10", *cpu_rows],
            {},
        ),
        ("activations fp32/bf16", [python, "-c", textwrap.dedent(activations)], {}),
        ("compile bf16 training", compiled, {}),
        ("no sync per D update", [python, "-c", textwrap.dedent(sync)], {}),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-dir", type=Path, help="where each check's output goes")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per check")
    parser.add_argument(
        "--rehearse-on-cpu", action="store_true", help="run the plumbing on the CPU (no GPU)"
    )
    args = parser.parse_args(argv)

    import torch

    if args.rehearse_on_cpu:
        device = "cpu"
    elif torch.cuda.is_available():
        device = "cuda"
    else:
        print(
            f"gpu-check: no CUDA GPU on this machine (torch {torch.__version__}, "
            f"CUDA build {torch.version.cuda or 'none'}); nothing to check here. Run "
            f"`make gpu-check` on a machine with a GPU."
        )
        return 0
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="ganzoo-gpu-check-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU rehearsal"
    print(f"gpu-check on {name}, torch {torch.__version__}; logs in {log_dir}", flush=True)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    results = []
    with tempfile.TemporaryDirectory(prefix="ganzoo-gpu-check-runs-") as work:
        for check, command, extra in checks(device, Path(work)):
            result = run_check(check, command, log_dir, args.timeout, {**env, **extra})
            results.append(result)
            print(
                f"{'PASS' if result.ok else 'FAIL'}  {result.name:<24} {result.seconds:6.1f} s  "
                f"{result.detail}",
                flush=True,
            )
    failed = [r.name for r in results if not r.ok]
    print(f"gpu-check: {len(results) - len(failed)} of {len(results)} checks passed", end="")
    print(f"; failed: {', '.join(failed)}" if failed else "")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
