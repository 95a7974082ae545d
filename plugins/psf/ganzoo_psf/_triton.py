"""PSF's Triton kernels: the CUDA implementation of the ``ganzoo::psf_*`` operators.

The same maths as the CPU's C++ kernels (see :mod:`ganzoo_psf._math`), one pass over memory
each: the forward computes ``t = exp(-alpha)`` in the kernel (no separate launch for it), the
backward writes ``dL/dx`` and each program's partial alpha-gradient sums in the same pass; the
partials are then summed by one small torch reduction. float16/bfloat16 compute in float32,
float64 in float64. Inputs in the channels-last layout keep it (no copy).

Importing this module imports Triton; :mod:`ganzoo_psf._ops` does so only when a tensor needs
it (a CUDA tensor, or a CPU one while :data:`ganzoo_psf._ops.TRITON_ON_CPU` is set, which the
tests use under ``TRITON_INTERPRET=1``).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch.library import wrap_triton

BLOCK = 1024  # elements per program (forward, and backward with one alpha)
TILE = 2048  # elements per program of the per-channel backward (positions x channels)
_FLOAT32_MAX = 3.4028234663852886e38
_FLOAT64_MAX = 1.7976931348623157e308


@triton.jit
def _load(ptr, offsets, mask, F64: tl.constexpr):
    """Load in the compute dtype (float64 for float64 data, float32 otherwise); 0 off mask."""
    value = tl.load(ptr + offsets, mask=mask, other=0.0)
    if F64:
        return value.to(tl.float64)
    return value.to(tl.float32)


@triton.jit
def psf_forward_kernel(
    x_ptr,
    alpha_ptr,
    y_ptr,
    numel,
    channel_stride,
    channels,
    BLOCK: tl.constexpr,
    PER_CHANNEL: tl.constexpr,
    F64: tl.constexpr,
    T_MAX: tl.constexpr,
):
    """y = x / (1 - min(x, 0) t) with t = min(exp(-alpha), T_MAX); channel of element i is
    (i // channel_stride) % channels (x.stride(1): contiguous and channels-last alike)."""
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < numel
    if PER_CHANNEL:
        a = _load(alpha_ptr, (offsets // channel_stride) % channels, mask, F64)
    else:
        a = _load(alpha_ptr, 0, True, F64)
    t = tl.minimum(tl.exp(-a), T_MAX)
    v = _load(x_ptr, offsets, mask, F64)
    xn = tl.minimum(v, 0.0)
    y = v / (1.0 - xn * t)
    tl.store(y_ptr + offsets, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _gradients(v, g, t, T_MAX: tl.constexpr):
    """(dL/dx, -dL/dalpha term) per element: g r^2 and g r^2 xn u (u clamped to the range)."""
    xn = tl.minimum(v, 0.0)
    u = tl.maximum(xn * t, -T_MAX)
    r = 1.0 / (1.0 - u)
    gr = g * r * r
    return gr, gr * xn * u


@triton.jit
def psf_backward_flat_kernel(
    x_ptr,
    g_ptr,
    alpha_ptr,
    gx_ptr,
    partial_ptr,
    numel,
    BLOCK: tl.constexpr,
    F64: tl.constexpr,
    T_MAX: tl.constexpr,
):
    """One alpha: dL/dx per element and each program's -sum of the alpha terms."""
    pid = tl.program_id(0)
    offsets = pid.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < numel
    t = tl.minimum(tl.exp(-_load(alpha_ptr, 0, True, F64)), T_MAX)
    gr, term = _gradients(
        _load(x_ptr, offsets, mask, F64), _load(g_ptr, offsets, mask, F64), t, T_MAX
    )
    tl.store(gx_ptr + offsets, gr.to(gx_ptr.dtype.element_ty), mask=mask)
    tl.store(partial_ptr + pid, -tl.sum(term, axis=0))


@triton.jit
def psf_backward_channels_kernel(
    x_ptr,
    g_ptr,
    alpha_ptr,
    gx_ptr,
    partial_ptr,
    positions,
    inner,
    channels,
    stride_a,
    stride_c,
    stride_b,
    BLOCK_P: tl.constexpr,
    BLOCK_C: tl.constexpr,
    F64: tl.constexpr,
    T_MAX: tl.constexpr,
):
    """One alpha per channel: x viewed as (A, C, B) with the given strides; a program takes
    BLOCK_P positions (a, b) of BLOCK_C channels and writes its per-channel partial sums."""
    pid_p = tl.program_id(0)
    p = pid_p.to(tl.int64) * BLOCK_P + tl.arange(0, BLOCK_P)
    c = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    p_mask = p < positions
    c_mask = c < channels
    offsets = ((p // inner) * stride_a + (p % inner) * stride_b)[:, None] + (c * stride_c)[None, :]
    mask = p_mask[:, None] & c_mask[None, :]
    t = tl.minimum(tl.exp(-_load(alpha_ptr, c, c_mask, F64)), T_MAX)[None, :]
    gr, term = _gradients(
        _load(x_ptr, offsets, mask, F64), _load(g_ptr, offsets, mask, F64), t, T_MAX
    )
    tl.store(gx_ptr + offsets, gr.to(gx_ptr.dtype.element_ty), mask=mask)
    tl.store(partial_ptr + pid_p * channels + c, -tl.sum(term, axis=0), mask=c_mask)


def _t_max(x: torch.Tensor) -> float:
    return _FLOAT64_MAX if x.dtype == torch.float64 else _FLOAT32_MAX


def _partial_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def forward(
    x: torch.Tensor, alpha: torch.Tensor, memory_format: torch.memory_format
) -> torch.Tensor:
    """``f(x)`` in ``memory_format`` (x must already be dense in it; see ``_ops.dense``)."""
    y = torch.empty_like(x, memory_format=memory_format)
    numel = x.numel()
    if numel == 0:
        return y
    channels = alpha.numel()
    channel_stride = x.stride(1) if channels > 1 else 1
    grid = (triton.cdiv(numel, BLOCK),)
    wrap_triton(psf_forward_kernel)[grid](
        x,
        alpha,
        y,
        numel,
        channel_stride,
        channels,
        BLOCK=BLOCK,
        PER_CHANNEL=channels > 1,
        F64=x.dtype == torch.float64,
        T_MAX=_t_max(x),
    )
    return y


def backward(
    x: torch.Tensor, alpha: torch.Tensor, grad: torch.Tensor, memory_format: torch.memory_format
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(dL/dx, dL/dalpha)``: dL/dx like ``x`` (``grad`` must have x's strides), dL/dalpha in
    alpha's dtype; the per-program partial sums are summed in float32 (float64 for float64)."""
    grad_x = torch.empty_like(x, memory_format=memory_format)
    channels = alpha.numel()
    numel = x.numel()
    if numel == 0:
        return grad_x, torch.zeros_like(alpha)
    f64 = x.dtype == torch.float64
    if channels == 1:
        programs = triton.cdiv(numel, BLOCK)
        partial = torch.empty(programs, device=x.device, dtype=_partial_dtype(x))
        wrap_triton(psf_backward_flat_kernel)[(programs,)](
            x, grad, alpha, grad_x, partial, numel, BLOCK=BLOCK, F64=f64, T_MAX=_t_max(x)
        )
        return grad_x, partial.sum().reshape(1).to(alpha.dtype)
    inner = numel // (x.shape[0] * channels)
    positions = x.shape[0] * inner
    if memory_format == torch.channels_last:
        strides = (inner * channels, 1, channels)
    else:
        strides = (channels * inner, inner, 1)
    block_c = min(triton.next_power_of_2(channels), 32)
    block_p = TILE // block_c
    programs = triton.cdiv(positions, block_p)
    partial = torch.empty(programs, channels, device=x.device, dtype=_partial_dtype(x))
    grid = (programs, triton.cdiv(channels, block_c))
    wrap_triton(psf_backward_channels_kernel)[grid](
        x,
        grad,
        alpha,
        grad_x,
        partial,
        positions,
        inner,
        channels,
        *strides,
        BLOCK_P=block_p,
        BLOCK_C=block_c,
        F64=f64,
        T_MAX=_t_max(x),
    )
    return grad_x, partial.sum(0).to(alpha.dtype)
