"""The fused path: PSF in one pass over memory forward and one backward.

- **CPU**: the native C++ kernels of :mod:`ganzoo_psf._native` (``csrc/psf_cpu.cpp``), built
  with the system's C++ compiler once per machine (cached on disk) and loaded once per process;
  each call is one ``torch.ops`` call forward and one backward, on the input in any shape.
- **other devices (CUDA)**: the PSF maths compiled by ``torch.compile`` (inductor; Triton on
  CUDA), as follows. The forward is one element-wise kernel. The backward is one loop over
  memory: the saved input and the incoming gradient are viewed as ``(A, C, B)`` rows (one alpha
  per channel C; for one alpha per layer, rows of a layer-wide view with the same alpha in
  every row), and each row's alpha gradient is summed in the same loop that writes the x
  gradient (see :func:`ganzoo_psf._math.psf_backward_rows`). Every dimension is *unbacked*
  (symbolic, not specialised on 0 or 1), with the same symbols shared by the tensors and ``t``
  and fixed size hints (so inductor can see the loops match, and its cache key does not depend
  on the first input's size); one kernel of each kind serves every batch size, image size and
  channel count, and only a new dtype or device compiles again. Setting :data:`CPU_KERNELS` to
  ``"inductor"`` runs this path on the CPU too (the tests do, to check it without a GPU).

If building fails (no C++ compiler, no Triton, an unsupported platform, dynamo's recompile
limit), that device (and, for inductor, dtype) uses the portable path for the rest of the
process, after one logged warning per process.

``GANZOO_PSF_FUSED`` sets what ``fused=None`` (auto) means: ``0``/``false``/``off`` for the
portable path everywhere (tests that should not pay for a build), ``1`` or unset for fused.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

import torch
from torch._dynamo.decorators import mark_unbacked

from ganzoo_psf import _math, _native

logger = logging.getLogger("ganzoo_psf")

ENV_VAR = "GANZOO_PSF_FUSED"
_FALSE = {"0", "false", "no", "off"}
_TRUE = {"", "1", "true", "yes", "on", "auto"}

_state: dict[str, Any] = {"failed": set(), "warned": False, "error": None}

# "native": the C++ kernels on the CPU; "inductor": torch.compile there too (as on CUDA).
CPU_KERNELS = "native"
_NATIVE = ("cpu", None)  # the key in _state["failed"] once the native build has failed


def fused_by_default() -> bool:
    """What ``fused=None`` resolves to, from ``GANZOO_PSF_FUSED`` (unset: fused)."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value in _FALSE:
        return False
    if value not in _TRUE:
        logger.warning("ignoring %s=%r: use 0 (portable) or 1 (fused)", ENV_VAR, value)
    return True


def _uses_native(x: torch.Tensor) -> bool:
    return x.device.type == "cpu" and CPU_KERNELS == "native"


def fused_available(x: torch.Tensor) -> bool:
    """False once building has failed for ``x``'s device (and dtype) in this process."""
    key = _NATIVE if _uses_native(x) else (x.device.type, x.dtype)
    return key not in _state["failed"]


def native_ops() -> Any:
    """``torch.ops.ganzoo_psf`` (building it on first use), or None once that has failed."""
    if _NATIVE in _state["failed"]:
        return None
    try:
        return _native.load()
    except Exception as exc:  # no compiler, compile error, unwritable cache: fall back, warn once
        _disable(_NATIVE, "native C++ kernel", exc)
        return None


# Separate functions (so separate dynamo caches and recompile budgets) for the layouts: the
# forward with one alpha (x flattened to 1-D, so the kernel parallelises over all elements) and
# with one alpha per channel (x as (A, C, B)); one backward for both, on (A, C, B) rows. They
# take t = exp(-alpha) computed outside: inside, inductor would recompute it in the inner loop.
def _forward_flat(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return _math.psf_forward(x, t)


def _forward_channels(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return _math.psf_forward(x, t.view(1, -1, 1))


def _backward_rows(
    x: torch.Tensor, t: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    return _math.psf_backward_rows(x, t.view(1, -1, 1), grad)


@functools.cache
def _compiled(name: str) -> Callable[..., Any]:
    """A compiled kernel by name; compiling itself happens lazily, on its first call."""
    return torch.compile(globals()[name], dynamic=True, fullgraph=True)


# Size hints for the unbacked dimensions: a typical GAN layer. They steer inductor's choices
# (fusion scores, how many loops to parallelise), not correctness; being constant, they keep
# the compiled code, and inductor's on-disk cache key, independent of the first input's size.
_HINTS = {1: (64 * 128 * 16 * 16,), 3: (64, 128, 16 * 16)}

# (kernel, device type, dtype) already traced with unbacked sizes: dynamo does not guard on
# unbacked sizes, so later calls need no marks (marking costs more than the guards).
_traced: set[tuple[str, str, torch.dtype]] = set()


def _mark(tensor: torch.Tensor, dims: range | tuple[int, ...], rank: int) -> None:
    """Mark ``dims`` unbacked, sharing one symbol per position of a rank-``rank`` layout."""
    hints = _HINTS[rank]
    for dim in dims:
        position = 1 if tensor.dim() == 1 and rank == 3 else dim  # t is the C dimension
        mark_unbacked(tensor, dim, hint_override=hints[position], shape_id=f"psf{rank}.{position}")


def _call(name: str, x: torch.Tensor, t: torch.Tensor, *more: torch.Tensor) -> Any:
    """Run kernel ``name``; on its first trace per device and dtype, mark every size unbacked.

    The inputs are contiguous, base-less aliases (detaching drops a view's ``_base``, on whose
    shape dynamo would otherwise guard). The same ``shape_id`` per position makes ``x``, the
    gradient and t's C dimension share size symbols, so inductor sees the loops match.
    """
    args = [a.contiguous().detach() for a in (x, t, *more)]
    key = (name, x.device.type, x.dtype)
    if key not in _traced:
        rank = x.dim()
        for tensor in (args[0], *args[2:]):
            _mark(tensor, range(rank), rank)
        if rank == 3:
            _mark(args[1], (0,), rank)
    out = _compiled(name)(*args)
    _traced.add(key)
    return out


def row_layout(x: torch.Tensor, channels: int) -> torch.Tensor:
    """``x`` as ``(A, C, B)`` rows for the fused backward: C = ``channels`` (dim 1) when per
    channel; for one alpha, ``(R, 1, K)`` with K the trailing dims' size (at least 256 where the
    shape allows), so each row's sum is long enough to vectorise and R parallelises."""
    if channels != 1:
        return _math.layout(x, channels)
    inner = 1
    for size in reversed(x.shape[1:] if x.dim() > 1 else x.shape):
        if inner >= 256:
            break
        inner *= size
    inner = max(inner, 1)
    return x.reshape(-1, 1, inner) if x.numel() else x.reshape(0, 1, 1)


def _disable(key: tuple[str, torch.dtype | None], what: str, exc: BaseException) -> None:
    _state["failed"].add(key)
    _state["error"] = exc
    where = key[0] if key[1] is None else f"{key[0]} {key[1]}"
    if _state["warned"]:
        logger.debug("PSF fused path (%s) unavailable for %s: %s", what, where, exc)
        return
    _state["warned"] = True
    logger.warning(
        "PSF: the fused path (%s) could not be built for %s (%s: %s); using the portable path "
        "there (and, silently, wherever else this happens in this process). Set %s=0 to skip "
        "the attempt.",
        what,
        where,
        type(exc).__name__,
        str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        ENV_VAR,
    )


def forward(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Fused ``f(x)`` for ``x`` of any shape and alpha of shape (1,) or (C,) (C = dim 1).

    The portable one if the fused path cannot be built.
    """
    if _uses_native(x):
        ops = native_ops()
        return _math.forward(x, alpha) if ops is None else ops.forward(x, alpha)
    key = (x.device.type, x.dtype)
    if key not in _state["failed"]:
        x3 = _math.layout(x, alpha.numel())
        t = _math.exp_neg(alpha, _math.compute_dtype(x.dtype))
        try:
            name = "_forward_channels" if x3.dim() == 3 else "_forward_flat"
            return _call(name, x3, t).view(x.shape)
        except Exception as exc:  # any compile failure: fall back, warn once
            _disable(key, "torch.compile", exc)
    return _math.forward(x, alpha)


def backward(
    x: torch.Tensor, alpha: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fused gradients ``(dL/dx, dL/dalpha)`` for the saved input ``x`` (any shape).

    ``dL/dx`` has ``x``'s shape; ``dL/dalpha`` (C,) is in alpha's dtype on the native path, in
    the compute dtype otherwise. The portable gradients if the fused path cannot be built.
    """
    if _uses_native(x):
        ops = native_ops()
        return _math.backward(x, alpha, grad) if ops is None else ops.backward(x, alpha, grad)
    key = (x.device.type, x.dtype)
    if key not in _state["failed"]:
        rows = row_layout(x, alpha.numel())
        t = _math.exp_neg(alpha, _math.compute_dtype(x.dtype))
        try:
            grad_x, grad_alpha = _call("_backward_rows", rows, t, grad.reshape(rows.shape))
            return grad_x.view(x.shape), grad_alpha
        except Exception as exc:  # any compile failure: fall back, warn once
            _disable(key, "torch.compile", exc)
    return _math.backward(x, alpha, grad)
