"""The PSF maths, for the portable and the fused path.

The input comes as a 1-D view with one alpha (``t`` of shape ``(1,)``), or as an ``(A, C, B)``
view with one alpha per channel C (``t`` of shape ``(1, C, 1)``). With ``t = exp(-alpha)`` and
``xn = min(x, 0)``::

    r     = 1 / (1 - xn * t)          # = s / (s + |x|) for x < 0, and 1 for x >= 0
    f     = x * r                     # x for x >= 0, e^a x / (e^a + |x|) for x < 0
    df/dx = r^2
    df/da = -t * (xn * r)^2           # = -s x^2 / (s + |x|)^2, and 0 for x >= 0

No branch, no ``where``: for x >= 0, ``xn = 0`` makes ``r = 1`` exactly. Every intermediate
stays finite: ``t`` is clamped to the dtype's largest finite value (so ``0 * t`` is 0, never
nan), ``r`` lies in [0, 1], ``|xn * r| <= min(|x|, e^a)``, and as ``x -> -inf`` the terms tend
to their true limits (f -> -e^a, df/da -> -e^a) instead of underflowing. float16 and bfloat16
inputs are computed in float32 and the results cast back.

The same functions run eagerly (the portable path) and under ``torch.compile`` (the fused
path); only ``accumulate_double`` differs (see :func:`psf_backward`).
"""

from __future__ import annotations

import torch

_LOW_PRECISION = (torch.float16, torch.bfloat16)


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the maths runs in: float32 for half types, the input's dtype otherwise."""
    return torch.float32 if dtype in _LOW_PRECISION else dtype


def inverse_scale(alpha: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``t = exp(-alpha)`` in ``dtype``, clamped to a finite value: ``(1,)`` or ``(1, C, 1)``."""
    t = torch.exp(-alpha.detach().to(dtype)).clamp_(max=torch.finfo(dtype).max)
    return t if t.numel() == 1 else t.view(1, -1, 1)


def psf_forward(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``f(x)`` for ``x`` of shape ``(N,)`` or ``(A, C, B)`` and ``t`` shaped to broadcast."""
    xc = x.to(t.dtype)
    denom = torch.clamp(xc, max=0).mul_(-t).add_(1)
    return torch.div(xc, denom).to(x.dtype)


def psf_backward(
    x: torch.Tensor, t: torch.Tensor, grad: torch.Tensor, accumulate_double: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients ``(dL/dx, dL/dalpha)``; ``dL/dalpha`` has shape ``(C,)`` in ``t``'s dtype.

    ``accumulate_double`` sums the alpha gradient in float64. The fused path uses it: it is
    more accurate for large tensors and keeps inductor from specialising on the reduction
    size (which would recompile the kernel for small inputs). The portable path sums in the
    compute dtype, which torch already does with cascaded (accurate) summation.
    """
    xc = x.to(t.dtype)
    gc = grad.to(t.dtype)
    xn = torch.clamp(xc, max=0)
    r = torch.mul(xn, -t).add_(1).reciprocal_()
    gr = gc * r
    grad_x = torch.mul(gr, r).to(grad.dtype)
    fn = xn.mul_(r)  # f(x) on the negative side, 0 elsewhere
    prod = gc * fn * fn
    if accumulate_double:
        prod = prod.to(torch.float64)
    grad_alpha = prod.sum(dim=(0, 2) if x.dim() == 3 else 0).to(t.dtype)
    grad_alpha = grad_alpha.reshape(-1).mul_(-t.reshape(-1))
    return grad_x, grad_alpha
