"""The CPU's fused kernels: ``csrc/psf_cpu.cpp``, compiled once per machine and cached on disk.

The C++ source registers two operators, ``torch.ops.ganzoo_psf.forward(x, alpha)`` and
``torch.ops.ganzoo_psf.backward(x, alpha, grad)``: one pass over memory each, vectorised by the
compiler and split over PyTorch's intra-op threads (``at::parallel_for``). They take the input
in any shape (one alpha, or one per channel of dim 1), so one build serves every shape and
dtype (float32, float64, float16, bfloat16).

:func:`load` builds the shared library with the system's C++ compiler (``$CXX``, else ``c++``)
against the installed PyTorch's headers, the first time a process needs it, into
``$GANZOO_PSF_CACHE_DIR`` (default ``$XDG_CACHE_HOME/ganzoo_psf``, i.e. ``~/.cache/ganzoo_psf``).
The file name hashes everything the binary depends on (the source, the torch version, the
compiler's version line, the flags and the CPU's model and feature flags, since it is compiled
with ``-march=native``), so a machine builds once and every later process just loads it (a few
milliseconds); another torch, compiler or CPU gets its own file. Builds write to a temporary
name and rename, so concurrent processes cannot see a half-written library. Any failure (no
compiler, a compile error, an unwritable cache) raises; the caller (:mod:`ganzoo_psf._fused`)
then warns once and uses the portable path.

The cache keeps the :data:`KEEP` most recently used libraries (each load marks its file as
used): a new build removes older ones left by earlier torch versions, compilers or sources,
and any partial file a killed build left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import torch

SOURCE = Path(__file__).with_name("csrc") / "psf_cpu.cpp"
CACHE_ENV = "GANZOO_PSF_CACHE_DIR"
KEEP = 8  # libraries kept in the cache (several torch versions or venvs may share it)
STALE_PARTIAL_SECONDS = 3600  # a partial build this old belongs to a build that was killed

_lock = threading.Lock()
# What this process did: the library path, whether it was built here, and how long that took.
info: dict[str, Any] = {"path": None, "built": False, "build_seconds": 0.0}
_ops: Any = None


def cache_dir() -> Path:
    """Where built libraries live: ``$GANZOO_PSF_CACHE_DIR``, else the user's cache folder."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ganzoo_psf"


def compiler() -> str:
    """The C++ compiler's path (``$CXX``, else ``c++``); raises if there is none."""
    name = os.environ.get("CXX") or "c++"
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"no C++ compiler found (looked for {name!r}; set CXX to use another)")
    return path


def _flags() -> list[str]:
    torch_dir = Path(torch.__file__).parent
    include = torch_dir / "include"
    lib = torch_dir / "lib"
    flags = ["-O3", "-march=native", "-std=c++20", "-shared", "-fPIC", "-w"]
    if "OpenMP" in torch.__config__.parallel_info():
        flags.append("-fopenmp")  # at::parallel_for is inline OpenMP code; torch ships libgomp
    abi = int(torch.compiled_with_cxx11_abi())
    flags += [f"-D_GLIBCXX_USE_CXX11_ABI={abi}", f"-I{include}"]
    flags += [f"-I{include / 'torch' / 'csrc' / 'api' / 'include'}"]
    flags += [f"-L{lib}", f"-Wl,-rpath,{lib}"]
    return flags


def _cpu_identity() -> str:
    """The CPU's model and feature flags (what ``-march=native`` compiles for)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    wanted = ("model name", "flags", "Features", "CPU part")
    return "\n".join(sorted({line for line in lines if line.startswith(wanted)}))


def library_path(cxx: str) -> Path:
    """The cached library's path for this source, torch, compiler, flags and CPU."""
    version = subprocess.run(
        [cxx, "--version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()[:1]
    key = hashlib.sha256()
    for part in (
        SOURCE.read_bytes(),
        torch.__version__.encode(),
        str(torch.version.git_version).encode(),
        "\n".join(version).encode(),
        " ".join(_flags()).encode(),
        platform.machine().encode(),
        _cpu_identity().encode(),
    ):
        key.update(part)
        key.update(b"\0")
    return cache_dir() / f"psf_cpu-{key.hexdigest()[:20]}.so"


def build(cxx: str, target: Path) -> float:
    """Compile the library to ``target`` (atomically); returns the seconds it took."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
    command = [cxx, str(SOURCE), "-o", str(partial), *_flags(), "-lc10", "-ltorch_cpu"]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if "error" in line]
            detail = (lines or done.stderr.strip().splitlines() or ["no output"])[0]
            raise RuntimeError(f"compiling {SOURCE.name} failed: {detail}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return time.perf_counter() - start


def prune(current: Path, keep: int = KEEP) -> list[Path]:
    """Remove all but the ``keep`` most recently used libraries (``current`` always stays) and
    partial builds older than an hour; returns what was removed. Never raises: a file another
    process removed first, or one that cannot be removed, is skipped."""

    def used(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    libraries = sorted(current.parent.glob("psf_cpu-*.so"), key=used, reverse=True)
    old = [p for p in libraries if p != current][max(keep - 1, 0) :]
    now = time.time()
    old += [
        p for p in current.parent.glob("psf_cpu-*.tmp") if now - used(p) > STALE_PARTIAL_SECONDS
    ]
    removed = []
    for path in old:
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def load() -> Any:
    """``torch.ops.ganzoo_psf``, building the library first if this machine has none yet."""
    global _ops
    if _ops is not None:
        return _ops
    with _lock:
        if _ops is None:
            cxx = compiler()
            path = library_path(cxx)
            if path.exists():
                with contextlib.suppress(OSError):  # a read-only cache still loads
                    os.utime(path)  # mark it used, so pruning keeps it
            else:
                info["build_seconds"] = build(cxx, path)
                info["built"] = True
                prune(path)
            torch.ops.load_library(str(path))
            info["path"] = str(path)
            _ops = torch.ops.ganzoo_psf
    return _ops
