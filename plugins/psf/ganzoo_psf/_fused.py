"""The fused path: the PSF maths compiled by ``torch.compile`` (inductor), once per process.

The forward and the backward are each compiled into one element-wise kernel (the backward's
alpha-gradient reduction included). Every dimension of the input's view is marked *unbacked*
(fully symbolic, not even specialised on 0 or 1), so one pair of kernels serves every batch
size, image size and channel count; only a new dtype or device, or the first per-channel
layer, compiles again. If compiling fails (no C++ compiler, no Triton, an
unsupported platform, dynamo's recompile limit), that dtype and device use the portable path
for the rest of the process, after one logged warning per process.

``GANZOO_PSF_FUSED`` sets what ``fused=None`` (auto) means: ``0``/``false``/``off`` for the
portable path everywhere (tests that should not pay for a compile), ``1`` or unset for fused.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

import torch
from torch._dynamo.decorators import mark_unbacked

from ganzoo_psf import _math

logger = logging.getLogger("ganzoo_psf")

ENV_VAR = "GANZOO_PSF_FUSED"
_FALSE = {"0", "false", "no", "off"}
_TRUE = {"", "1", "true", "yes", "on", "auto"}

_state: dict[str, Any] = {"failed": set(), "warned": False, "error": None}


def fused_by_default() -> bool:
    """What ``fused=None`` resolves to, from ``GANZOO_PSF_FUSED`` (unset: fused)."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value in _FALSE:
        return False
    if value not in _TRUE:
        logger.warning("ignoring %s=%r: use 0 (portable) or 1 (fused)", ENV_VAR, value)
    return True


def fused_available(x: torch.Tensor) -> bool:
    """False once compiling has failed for ``x``'s device and dtype in this process."""
    return (x.device.type, x.dtype) not in _state["failed"]


# Separate functions (so separate dynamo caches and recompile budgets) for the two layouts:
# one alpha, with x flattened to 1-D so the kernels parallelise over all elements, and one
# alpha per channel, with x as (A, C, B).
def _forward_flat(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return _math.psf_forward(x, t)


def _forward_channels(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return _math.psf_forward(x, t)


def _backward_flat(
    x: torch.Tensor, t: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    return _math.psf_backward(x, t, grad, accumulate_double=True)


def _backward_channels(
    x: torch.Tensor, t: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    return _math.psf_backward(x, t, grad, accumulate_double=True)


@functools.cache
def _compiled(name: str) -> Callable[..., Any]:
    """A compiled kernel by name; compiling itself happens lazily, on its first call."""
    return torch.compile(globals()[name], dynamic=True, fullgraph=True)


def _prepare(x: torch.Tensor, t: torch.Tensor, *more: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Contiguous, base-less copies-by-reference with symbolic (unbacked) sizes.

    Detaching drops the view's ``_base``, on whose shape dynamo would otherwise guard. The
    tensors shaped like ``x`` get every dimension unbacked; ``t`` only its C dimension.
    """
    out = [t.contiguous().detach()]
    if t.dim() == 3:
        mark_unbacked(out[0], 1)
    for tensor in (x, *more):
        tensor = tensor.contiguous().detach()
        for dim in range(tensor.dim()):
            mark_unbacked(tensor, dim)
        out.append(tensor)
    return out[1], out[0], *out[2:]


def _disable(x: torch.Tensor, exc: BaseException) -> None:
    _state["failed"].add((x.device.type, x.dtype))
    _state["error"] = exc
    if _state["warned"]:
        logger.debug("PSF fused path unavailable for %s %s: %s", x.device.type, x.dtype, exc)
        return
    _state["warned"] = True
    logger.warning(
        "PSF: the fused (torch.compile) path could not be built for %s %s (%s: %s); using the "
        "portable path there (and, silently, wherever else this happens in this process). "
        "Set %s=0 to skip the attempt.",
        x.device.type,
        x.dtype,
        type(exc).__name__,
        str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        ENV_VAR,
    )


def forward(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Fused ``f(x)``, or the portable one if the fused path cannot be built."""
    if fused_available(x):
        try:
            kernel = _compiled("_forward_channels" if x.dim() == 3 else "_forward_flat")
            return kernel(*_prepare(x, t))
        except Exception as exc:  # any compile failure: fall back, warn once
            _disable(x, exc)
    return _math.psf_forward(x, t)


def backward(
    x: torch.Tensor, t: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fused gradients, or the portable ones if the fused path cannot be built."""
    if fused_available(x):
        try:
            kernel = _compiled("_backward_channels" if x.dim() == 3 else "_backward_flat")
            return kernel(*_prepare(x, t, grad))
        except Exception as exc:  # any compile failure: fall back, warn once
            _disable(x, exc)
    return _math.psf_backward(x, t, grad)
