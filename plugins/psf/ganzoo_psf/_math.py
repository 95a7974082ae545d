"""The PSF maths in eager PyTorch: the portable path (the CPU's native kernels,
``csrc/psf_cpu.cpp``, and the Triton kernels, ``_triton.py``, compute the same).

With ``t = exp(-alpha)`` (one value, or one per channel; ``s = e^a``), ``xn = min(x, 0)`` and
``u = xn * t``::

    r     = 1 / (1 - u)               # = s / (s + |x|) for x < 0, and 1 for x >= 0
    f     = x * r                     # x for x >= 0, e^a x / (e^a + |x|) for x < 0
    df/dx = r^2
    df/da = -r^2 * xn * u             # = -s x^2 / (s + |x|)^2, and 0 for x >= 0

So ``dL/dalpha = -sum(dL/dx * xn * u)``: the alpha gradient is a sum over the very values the
x gradient produces, which lets a fused backward compute both in one pass.

The autograd function saves the input ``x`` (as LeakyReLU does). Saving the output ``y``
instead would take no division in the backward (``q = 1 + min(y, 0) t`` equals ``r``) and let
the next layer share the storage, but ``y`` does not carry enough information where it is
small: in float16 ``|y| <= e^a`` underflows for alpha below about -10 (every negative x then
got slope 1, not ~0), in float32 for alpha below about -87, and ``1 + min(y, 0) t`` cancels far
below ``-e^a`` (slope errors of ~4e-4 in float16, ~3e-3 in bfloat16). From ``x`` every slope is
accurate to the compute dtype's rounding.

No branch, no ``where``: for x >= 0, ``xn = 0`` makes ``r = 1`` exactly. Every result
stays finite for finite inputs: ``t`` is clamped to the dtype's largest finite value (so
``0 * t`` is 0, never nan), ``u`` is clamped from below the same way, ``r`` lies in [0, 1], and
``|dL/dx * xn| <= |g| min(|x|, e^a)``. float16 and bfloat16 inputs are computed in float32 and the
results cast back.

The portable path (:func:`forward`, :func:`backward`) runs these as few eager kernels as it
can. Its x gradient is ``g / d^2`` with ``d = 1 / r`` squared in place (one pass fewer than
``g / d / d``); ``d^2`` overflows only where ``r^2`` is below the dtype's normal range (float32:
``t |x| > 1.8e19``), and there the slope is flushed to 0 (``g / inf``; never nan for finite
``g``).
"""

from __future__ import annotations

import math

import torch
from torch._subclasses.fake_tensor import is_fake

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


def layout(x: torch.Tensor, channels: int) -> torch.Tensor:
    """``x`` as 1-D for one alpha, as ``(A, C, B)`` for one alpha per channel (dim 1)."""
    if channels == 1:
        return x.reshape(-1)
    return x.reshape(x.shape[0], channels, math.prod(x.shape[2:]))


def forward(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """The portable ``f(x)`` for ``x`` of any shape and ``alpha`` of shape (1,) or (C,)."""
    dtype = compute_dtype(x.dtype)
    scales = scalar_scales(alpha, dtype)
    if scales is not None:
        return psf_forward_scalar(x.to(dtype), *scales).to(x.dtype)
    t = inverse_scale(alpha, dtype)
    return psf_forward(layout(x, alpha.numel()), t).view(x.shape)


def backward(
    x: torch.Tensor, alpha: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The portable ``(dL/dx, dL/dalpha)`` for ``x`` of any shape; ``dL/dalpha`` in the compute
    dtype."""
    dtype = compute_dtype(x.dtype)
    scales = scalar_scales(alpha, dtype)
    if scales is not None:
        grad_x, grad_alpha = psf_backward_scalar(x.to(dtype), grad.to(dtype), *scales)
        return grad_x.to(grad.dtype), grad_alpha
    channels = alpha.numel()
    t = inverse_scale(alpha, dtype)
    grad_x, grad_alpha = psf_backward(layout(x, channels), t, layout(grad, channels))
    return grad_x.view(x.shape), grad_alpha


# |alpha| up to which e^a, e^-a and their product (1 to within rounding) are normal numbers.
_SCALAR_RANGE = {torch.float32: 80.0, torch.float64: 700.0}
_ELU_BACKWARD = torch.ops.aten.elu_backward.grad_input


def scalar_scales(alpha: torch.Tensor, dtype: torch.dtype) -> tuple[float, float] | None:
    """``(e^a, e^-a)`` as Python floats where the one-alpha CPU shortcut applies, else None.

    It applies to one alpha on the CPU (reading it costs no device sync), outside
    ``torch.compile`` (which must not see Python numbers taken from a tensor), for
    ``|alpha| <= 80`` (float32; 700 for float64), where both scales are normal numbers.
    """
    if alpha.numel() != 1 or alpha.device.type != "cpu" or torch.compiler.is_compiling():
        return None
    if is_fake(alpha):  # traced (inside torch.compile's operator decomposition): no values
        return None
    a = alpha.item()
    if dtype not in _SCALAR_RANGE or not abs(a) <= _SCALAR_RANGE[dtype]:
        return None
    return math.exp(a), math.exp(-a)


def _elu_backward(
    grad: torch.Tensor, alpha: float, scale: float, input_scale: float, v: torch.Tensor, out
) -> torch.Tensor:
    """ATen's ``elu_backward`` from the result, used as a fused affine-on-negatives kernel:
    ``grad * input_scale * (v + alpha * scale)`` where ``v <= 0``, ``grad * scale`` elsewhere."""
    return _ELU_BACKWARD(grad, alpha, scale, input_scale, True, v, grad_input=out)


def psf_forward_scalar(x: torch.Tensor, s: float, t: float) -> torch.Tensor:
    """``f(x)`` for one alpha given as ``s = e^a``, ``t = e^-a``: two eager kernels.

    ``d = 1 - t min(x, 0)`` in one kernel: ATen's ``elu_backward`` from the result computes
    ``grad * input_scale * (v + alpha * scale)`` for ``v <= 0`` and ``grad * scale`` above, which
    with ``grad = -1``, ``alpha = s``, ``scale = -1``, ``input_scale = t`` is ``1 - t v`` and 1;
    then ``y = x / d``.
    """
    d = _elu_backward(x.new_full((), -1.0), s, -1.0, t, x, torch.empty_like(x))
    return torch.div(x, d, out=d)


def psf_backward_scalar(
    x: torch.Tensor, grad: torch.Tensor, s: float, t: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients for one alpha (``s = e^a``, ``t = e^-a``): five eager kernels.

    ``d = 1 - t xn`` as in :func:`psf_forward_scalar`, squared in place; ``dL/dx = g / d^2``;
    ``dL/dx * t xn`` by ``elu_backward`` (grad ``dL/dx``, alpha 0, scale 0, input_scale ``t``:
    ``grad t v`` below 0, 0 above), and ``dL/dalpha = -dot(that, x)`` (``xn x = xn^2``).
    """
    d = _elu_backward(x.new_full((), -1.0), s, -1.0, t, x, torch.empty_like(x))
    grad_x = torch.div(grad, torch.mul(d, d, out=d))  # g r^2
    weighted = _elu_backward(grad_x, 0.0, 0.0, t, x, d)  # g r^2 xn t, bounded by |g|
    total = torch.dot(weighted.reshape(-1), x.reshape(-1))
    return grad_x, total.neg_().reshape(1)


def psf_forward(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``f(x)`` for ``x`` of shape ``(N,)`` or ``(A, C, B)`` and ``t`` shaped to broadcast.

    Three eager kernels: clamp, addcmul (``1 - xn t``, the 0-d ``1`` broadcasting), divide.
    """
    xc = x.to(t.dtype)
    xn = torch.clamp(xc, max=0)
    d = torch.addcmul(xc.new_ones(()), xn, t, value=-1)
    return torch.div(xc, d, out=d).to(x.dtype)


def psf_backward(
    x: torch.Tensor, t: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Portable gradients ``(dL/dx, dL/dalpha)``; ``dL/dalpha`` has shape ``(C,)``, ``t``'s dtype.

    Eager kernels, each a full pass over memory: clamp, addcmul, a square in place, a divide, a
    multiply, and a reduction that reads without writing (a dot product for one alpha; a
    multiply and a per-channel sum otherwise).
    """
    xc = x.to(t.dtype)
    gc = grad.to(t.dtype)
    xn = torch.clamp(xc, max=0)
    d = torch.addcmul(xc.new_ones(()), xn, t, value=-1)  # 1 / r
    grad_xc = torch.div(gc, torch.mul(d, d, out=d))  # g r^2
    # dL/dalpha = -t * sum(g r^2 xn^2); (g r^2 xn) is bounded by |g| e^a, so no overflow.
    weighted = torch.mul(grad_xc, xn, out=d)
    if x.dim() == 3:
        total = torch.mul(weighted, xn, out=xn).sum(dim=(0, 2))
    else:
        total = torch.dot(weighted, xn).reshape(1)
    grad_alpha = total.mul_(t.reshape(-1)).neg_()
    return grad_xc.to(grad.dtype), grad_alpha
