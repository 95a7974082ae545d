"""The PSF maths, for the portable and the fused path.

With ``t = exp(-alpha)`` (one value, or one per channel), ``xn = min(x, 0)`` and
``u = xn * t``::

    r     = 1 / (1 - u)               # = s / (s + |x|) for x < 0, and 1 for x >= 0
    f     = x * r                     # x for x >= 0, e^a x / (e^a + |x|) for x < 0
    df/dx = r^2
    df/da = -r^2 * xn * u             # = -s x^2 / (s + |x|)^2, and 0 for x >= 0

So ``dL/dalpha = -sum(dL/dx * xn * u)``: the alpha gradient is a sum over the very values the
x gradient produces, which lets the fused backward compute both in one pass.

No branch, no ``where``: for x >= 0, ``xn = 0`` makes ``r = 1`` exactly. Every intermediate
stays finite for finite inputs: ``t`` is clamped to the dtype's largest finite value (so
``0 * t`` is 0, never nan), ``u`` is clamped from below the same way, ``r`` lies in [0, 1], and
``|dL/dx * xn| <= |g| min(|x|, e^a)``. float16 and bfloat16 inputs are computed in float32 and the
results cast back.

The portable path (:func:`psf_forward`, :func:`psf_backward`) runs these as few eager kernels
as it can; :func:`psf_backward_rows` is the fused path's backward, written for inductor.
"""

from __future__ import annotations

import torch

_LOW_PRECISION = (torch.float16, torch.bfloat16)


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the maths runs in: float32 for half types, the input's dtype otherwise."""
    return torch.float32 if dtype in _LOW_PRECISION else dtype


def exp_neg(alpha: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``t = exp(-alpha)`` in ``dtype``, clamped to a finite value, shaped like ``alpha``."""
    return torch.exp(-alpha.detach().to(dtype)).clamp_(max=torch.finfo(dtype).max)


def inverse_scale(alpha: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``t = exp(-alpha)`` (see :func:`exp_neg`) shaped ``(1,)`` or ``(1, C, 1)``."""
    t = exp_neg(alpha, dtype)
    return t if t.numel() == 1 else t.view(1, -1, 1)


def _denominator(xc: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(xn, d)`` with ``xn = min(x, 0)`` and ``d = 1 - xn t = 1 / r``, in two kernels."""
    xn = torch.clamp(xc, max=0)
    # 1 + (-1) * xn * t: one kernel (the 0-d ``1`` broadcasts).
    d = torch.addcmul(xc.new_ones(()), xn, t, value=-1)
    return xn, d


def psf_forward(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``f(x)`` for ``x`` of shape ``(N,)`` or ``(A, C, B)`` and ``t`` shaped to broadcast."""
    xc = x.to(t.dtype)
    _, d = _denominator(xc, t)
    return torch.div(xc, d, out=d).to(x.dtype)


def psf_backward(
    x: torch.Tensor, t: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Portable gradients ``(dL/dx, dL/dalpha)``; ``dL/dalpha`` has shape ``(C,)``, ``t``'s dtype.

    Eager kernels, each a full pass over memory: clamp, addcmul, two divides, a multiply, and a
    reduction that reads without writing (a dot product for one alpha).
    """
    xc = x.to(t.dtype)
    gc = grad.to(t.dtype)
    xn, d = _denominator(xc, t)
    grad_xc = torch.div(gc, d).div_(d)  # g r^2
    # dL/dalpha = -t * sum(g r^2 xn^2); (g r^2 xn) is bounded by |g| e^a, so no overflow.
    weighted = torch.mul(grad_xc, xn, out=d)
    if x.dim() == 3:
        total = torch.mul(weighted, xn, out=xn).sum(dim=(0, 2))
    else:
        total = torch.dot(weighted, xn).reshape(1)
    grad_alpha = total.mul_(t.reshape(-1)).neg_()
    return grad_xc.to(grad.dtype), grad_alpha


def psf_backward_rows(
    x: torch.Tensor, t: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients for ``x`` and ``grad`` of shape ``(A, C, B)`` and ``t`` of shape ``(1, C, 1)``.

    Returns ``dL/dx`` (A, C, B) and ``dL/dalpha`` per channel (C,) in ``t``'s dtype. Written for
    inductor: the alpha term is a row sum (over B) of ``dL/dx * xn * u``, so the x gradient and
    the row sums come out of one loop over memory (a pointwise producer and a row reduction
    over the same ranges, which inductor fuses); rows are summed in float32, the (A, C) row sums
    in float64. ``t`` is read per row, which keeps inductor from flattening the loops.
    """
    xc = x.to(t.dtype)
    gc = grad.to(t.dtype)
    xn = torch.clamp(xc, max=0)
    u = torch.clamp(xn * t, min=-torch.finfo(t.dtype).max)
    r = 1 / (1 - u)
    grad_xc = gc * r * r
    rows = (grad_xc * xn * u).sum(-1)  # (A, C)
    grad_alpha = -rows.to(torch.float64).sum(0)
    return grad_xc.to(grad.dtype), grad_alpha.to(t.dtype)
