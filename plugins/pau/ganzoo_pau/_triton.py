"""The safe PAU's Triton kernels: the CUDA implementation of the ``ganzoo::pau_*`` operators.

The maths of :mod:`ganzoo_pau._math` in one pass over memory each way: the forward evaluates
P and Q by Horner's rule per element (coefficients of the element's channel); the backward
writes ``dL/dx`` and each program's partial sums of the coefficient gradients
(``sum(u x^j)`` and ``sum(u f |x|^k)``, ``u = dL/df / Q``), which one torch reduction adds up.
Degrees are compile-time constants. float16/bfloat16 compute in float32, float64 in float64;
a channels-last input keeps its layout. Importing this module imports Triton (done by
:mod:`ganzoo_pau._ops` only when a tensor needs it).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch.library import wrap_triton

BLOCK = 1024  # elements per forward program
TILE = 1024  # elements per backward program (positions x channels)


@triton.jit
def _load(ptr, offsets, mask, F64: tl.constexpr):
    """Load in the compute dtype (float64 for float64 data, float32 otherwise); 0 off mask."""
    value = tl.load(ptr + offsets, mask=mask, other=0.0)
    if F64:
        return value.to(tl.float64)
    return value.to(tl.float32)


@triton.jit
def _rational(
    v, num_ptr, den_ptr, c, mask, NUM: tl.constexpr, DEN: tl.constexpr, F64: tl.constexpr
):
    """(P(v), Q(|v|), |v|) by Horner's rule with channel c's coefficients."""
    p = _load(num_ptr, c * NUM + (NUM - 1), mask, F64)
    for i in tl.static_range(1, NUM):
        p = p * v + _load(num_ptr, c * NUM + (NUM - 1 - i), mask, F64)
    t = tl.abs(v)
    q = tl.abs(_load(den_ptr, c * DEN + (DEN - 1), mask, F64))
    for i in tl.static_range(1, DEN):
        q = q * t + tl.abs(_load(den_ptr, c * DEN + (DEN - 1 - i), mask, F64))
    q = q * t + 1.0
    return p, q, t


@triton.jit
def pau_forward_kernel(
    x_ptr,
    num_ptr,
    den_ptr,
    y_ptr,
    numel,
    channel_stride,
    channels,
    BLOCK: tl.constexpr,
    NUM: tl.constexpr,
    DEN: tl.constexpr,
    F64: tl.constexpr,
):
    """y = P(x) / Q(|x|); the channel of element i is (i // channel_stride) % channels."""
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < numel
    c = (offsets // channel_stride) % channels
    v = _load(x_ptr, offsets, mask, F64)
    p, q, t = _rational(v, num_ptr, den_ptr, c, mask, NUM, DEN, F64)
    tl.store(y_ptr + offsets, (p / q).to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def pau_backward_kernel(
    x_ptr,
    g_ptr,
    num_ptr,
    den_ptr,
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
    NUM: tl.constexpr,
    DEN: tl.constexpr,
    F64: tl.constexpr,
):
    """x viewed as (A, C, B) with the given strides; a program takes BLOCK_P positions of
    BLOCK_C channels, writes dL/dx and, per channel, sum(u x^j) (j < NUM) then
    sum(u f |x|^k) (1 <= k <= DEN) into partial[program, channel, :]."""
    pid_p = tl.program_id(0)
    p_idx = pid_p.to(tl.int64) * BLOCK_P + tl.arange(0, BLOCK_P)
    c = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    c_mask = c < channels
    offsets = ((p_idx // inner) * stride_a + (p_idx % inner) * stride_b)[:, None] + (c * stride_c)[
        None, :
    ]
    mask = (p_idx < positions)[:, None] & c_mask[None, :]
    v = _load(x_ptr, offsets, mask, F64)
    g = _load(g_ptr, offsets, mask, F64)
    cc = c[None, :]
    p, q, t = _rational(v, num_ptr, den_ptr, cc, c_mask[None, :], NUM, DEN, F64)
    f = p / q
    u = g / q
    # P'(x) and Q_t(t) by Horner's rule on the derived coefficients
    dp = _load(num_ptr, cc * NUM + (NUM - 1), c_mask[None, :], F64) * (NUM - 1)
    for i in tl.static_range(2, NUM):
        j = NUM - i
        dp = dp * v + _load(num_ptr, cc * NUM + j, c_mask[None, :], F64) * j
    dq = tl.abs(_load(den_ptr, cc * DEN + (DEN - 1), c_mask[None, :], F64)) * DEN
    for i in tl.static_range(1, DEN):
        k = DEN - i
        dq = dq * t + tl.abs(_load(den_ptr, cc * DEN + (k - 1), c_mask[None, :], F64)) * k
    sign = tl.where(v > 0, 1.0, tl.where(v < 0, -1.0, 0.0))
    gx = (dp - f * sign * dq) * u
    tl.store(gx_ptr + offsets, gx.to(gx_ptr.dtype.element_ty), mask=mask)
    base = partial_ptr + (pid_p * channels + c) * (NUM + DEN)
    power = u
    tl.store(base, tl.sum(power, axis=0), mask=c_mask)
    for j in tl.static_range(1, NUM):
        power = power * v
        tl.store(base + j, tl.sum(power, axis=0), mask=c_mask)
    power = u * f
    for k in tl.static_range(0, DEN):
        power = power * t
        tl.store(base + NUM + k, tl.sum(power, axis=0), mask=c_mask)


def _compute(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def forward(
    x: torch.Tensor,
    numerator: torch.Tensor,
    denominator: torch.Tensor,
    memory_format: torch.memory_format,
) -> torch.Tensor:
    """``f(x)`` in ``memory_format`` (x must already be dense in it)."""
    y = torch.empty_like(x, memory_format=memory_format)
    numel = x.numel()
    if numel == 0:
        return y
    channels = numerator.shape[0]
    channel_stride = x.stride(1) if channels > 1 else 1
    wrap_triton(pau_forward_kernel)[(triton.cdiv(numel, BLOCK),)](
        x,
        numerator,
        denominator,
        y,
        numel,
        channel_stride,
        channels,
        BLOCK=BLOCK,
        NUM=numerator.shape[1],
        DEN=denominator.shape[1],
        F64=x.dtype == torch.float64,
    )
    return y


def backward(
    x: torch.Tensor,
    numerator: torch.Tensor,
    denominator: torch.Tensor,
    grad: torch.Tensor,
    memory_format: torch.memory_format,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(dL/dx, dL/dnumerator, dL/ddenominator)``; ``grad`` must have x's strides; the
    coefficient gradients in the coefficients' dtype (|b_k|'s derivative at 0 taken as +1)."""
    grad_x = torch.empty_like(x, memory_format=memory_format)
    channels, num = numerator.shape
    den = denominator.shape[1]
    numel = x.numel()
    if numel == 0:
        return grad_x, torch.zeros_like(numerator), torch.zeros_like(denominator)
    if channels == 1:
        inner, strides = numel, (numel, 0, 1)
    else:
        inner = numel // (x.shape[0] * channels)
        if memory_format == torch.channels_last:
            strides = (inner * channels, 1, channels)
        else:
            strides = (channels * inner, inner, 1)
    positions = numel // channels
    block_c = min(triton.next_power_of_2(channels), 16)
    block_p = TILE // block_c
    programs = triton.cdiv(positions, block_p)
    partial = torch.empty(programs, channels, num + den, device=x.device, dtype=_compute(x))
    grid = (programs, triton.cdiv(channels, block_c))
    wrap_triton(pau_backward_kernel)[grid](
        x,
        grad,
        numerator,
        denominator,
        grad_x,
        partial,
        positions,
        inner,
        channels,
        *strides,
        BLOCK_P=block_p,
        BLOCK_C=block_c,
        NUM=num,
        DEN=den,
        F64=x.dtype == torch.float64,
    )
    sums = partial.sum(0)
    sign = torch.where(denominator >= 0, 1.0, -1.0).to(sums.dtype)
    grad_den = -sums[:, num:] * sign
    return grad_x, sums[:, :num].to(numerator.dtype), grad_den.to(denominator.dtype)
