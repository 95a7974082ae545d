"""Which kernels run behind PSF's operators, and the fallback when they cannot be had.

- **CPU**: the native C++ kernels of :mod:`ganzoo_psf._native` (``csrc/psf_cpu.cpp``), built
  with the system's C++ compiler once per machine (cached on disk) and loaded once per process.
- **CUDA**: the Triton kernels of :mod:`ganzoo_psf._triton`, imported on first use.

If one cannot be had (no C++ compiler, a compile error, no Triton), that kind uses the portable
eager maths (:mod:`ganzoo_psf._math`) for the rest of the process, after one logged warning per
process. ``GANZOO_PSF_FUSED`` sets what ``fused=None`` (auto) means: ``0``/``false``/``off``
for the portable path everywhere (tests that should not pay for a build), ``1`` or unset for
the operators (:mod:`ganzoo_psf._ops`).
"""

from __future__ import annotations

import logging
import os
from types import ModuleType
from typing import Any

import torch

from ganzoo_psf import _math, _native

logger = logging.getLogger("ganzoo_psf")

ENV_VAR = "GANZOO_PSF_FUSED"
_FALSE = {"0", "false", "no", "off"}
_TRUE = {"", "1", "true", "yes", "on", "auto"}
NATIVE = "native C++ kernels"
TRITON = "Triton kernels"

# What failed in this process (NATIVE, TRITON), the last error, and whether we warned.
_state: dict[str, Any] = {"failed": set(), "warned": False, "error": None}
_fakes_registered = False


def fused_by_default() -> bool:
    """What ``fused=None`` resolves to, from ``GANZOO_PSF_FUSED`` (unset: fused)."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value in _FALSE:
        return False
    if value not in _TRUE:
        logger.warning("ignoring %s=%r: use 0 (portable) or 1 (fused)", ENV_VAR, value)
    return True


def fused_available(x: torch.Tensor) -> bool:
    """False once the kernels for ``x``'s device have failed to load in this process."""
    kind = NATIVE if x.device.type == "cpu" else TRITON
    return kind not in _state["failed"]


def native_ops() -> Any:
    """``torch.ops.ganzoo_psf`` (building it on first use), or None once that has failed."""
    global _fakes_registered
    if NATIVE in _state["failed"]:
        return None
    try:
        ops = _native.load()
    except Exception as exc:  # no compiler, compile error, unwritable cache: fall back, warn once
        _disable(NATIVE, exc)
        return None
    if not _fakes_registered:
        _register_native_fakes()
        _fakes_registered = True
    return ops


def _register_native_fakes() -> None:
    """Shapes of the C++ operators' results, so that traced code (torch.compile) can call them:
    contiguous like the kernels' outputs; the alpha gradient in alpha's dtype."""

    def forward(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        return torch.empty_like(x, memory_format=torch.contiguous_format)

    def backward(
        x: torch.Tensor, alpha: torch.Tensor, grad: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return forward(x, alpha), torch.empty_like(alpha)

    torch.library.register_fake("ganzoo_psf::forward", forward)
    torch.library.register_fake("ganzoo_psf::backward", backward)


def triton_kernels() -> ModuleType | None:
    """:mod:`ganzoo_psf._triton` (importing Triton on first use), or None once that failed."""
    if TRITON in _state["failed"]:
        return None
    try:
        from ganzoo_psf import _triton
    except Exception as exc:  # no Triton, or one this code cannot use: fall back, warn once
        _disable(TRITON, exc)
        return None
    return _triton


def cpu_forward(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``f(x)`` on the CPU: the native kernels, else the portable maths."""
    ops = native_ops()
    return _math.forward(x, alpha) if ops is None else ops.forward(x, alpha)


def cpu_backward(
    x: torch.Tensor, alpha: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(dL/dx, dL/dalpha)`` on the CPU, dL/dalpha in alpha's dtype."""
    ops = native_ops()
    if ops is not None:
        return ops.backward(x, alpha, grad)
    grad_x, grad_alpha = _math.backward(x, alpha, grad)
    return grad_x, grad_alpha.to(alpha.dtype)


def _disable(kind: str, exc: BaseException) -> None:
    _state["failed"].add(kind)
    _state["error"] = exc
    if _state["warned"]:
        logger.debug("PSF %s unavailable: %s", kind, exc)
        return
    _state["warned"] = True
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    logger.warning(
        "PSF: the %s could not be loaded (%s: %s); using the portable path there (and, "
        "silently, wherever else this happens in this process). Set %s=0 to skip the attempt.",
        kind,
        type(exc).__name__,
        first_line,
        ENV_VAR,
    )
