"""The safe Padé Activation Unit's maths: value and analytic derivatives, in eager PyTorch.

For numerator coefficients ``a_0..a_m`` and denominator coefficients ``b_1..b_n`` (one set, or
one per channel of dim 1), with ``t = |x|``::

    P(x)  = a_0 + a_1 x + ... + a_m x^m
    Q(x)  = 1 + |b_1| t + |b_2| t^2 + ... + |b_n| t^n          (>= 1: no pole anywhere)
    f     = P / Q
    df/dx = (P'(x) - f sign(x) Q_t(t)) / Q,   Q_t = |b_1| + 2 |b_2| t + ... + n |b_n| t^(n-1)
    df/da_j = x^j / Q
    df/db_k = -(f / Q) sign(b_k) t^k

So with ``u = dL/df / Q`` the gradients are ``dL/da_j = sum(u x^j)`` and
``dL/db_k = -sign(b_k) sum(u f t^k)``. At ``b_k = 0`` the derivative of ``|b_k|`` is taken as
+1 (a subgradient), so a coefficient that reaches 0 can leave it again (with ``sign(0) = 0``
it would stay there for good); at ``x = 0`` the derivative of ``|x|`` is taken as 0.
Polynomials are evaluated by Horner's rule. float16 and bfloat16 are computed in float32 and
the results cast back.
"""

from __future__ import annotations

import math

import torch

_LOW_PRECISION = (torch.float16, torch.bfloat16)


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the maths runs in: float32 for half types, the input's dtype otherwise."""
    return torch.float32 if dtype in _LOW_PRECISION else dtype


def layout(x: torch.Tensor, channels: int) -> torch.Tensor:
    """``x`` as 1-D for one coefficient set, as ``(A, C, B)`` for one set per channel (dim 1)."""
    if channels == 1:
        return x.reshape(-1)
    return x.reshape(x.shape[0], channels, math.prod(x.shape[2:]))


def _columns(coefficients: torch.Tensor, dtype: torch.dtype) -> list[torch.Tensor]:
    """Each column of a ``(C, K)`` coefficient matrix, shaped to broadcast against the layout:
    0-d for ``C == 1``, ``(1, C, 1)`` otherwise."""
    c = coefficients.detach().to(dtype)
    if c.shape[0] == 1:
        return [c[0, j] for j in range(c.shape[1])]
    return [c[:, j].view(1, -1, 1) for j in range(c.shape[1])]


def _reduce(values: torch.Tensor) -> torch.Tensor:
    """Sum to one value per coefficient set: all of a 1-D tensor -> (1,); (A, C, B) -> (C,)."""
    if values.dim() == 1:
        return values.sum().reshape(1)
    return values.sum(dim=(0, 2))


def values(
    x: torch.Tensor, numerator: torch.Tensor, denominator: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(P, Q, |x|)`` for ``x`` already laid out and in the compute dtype."""
    a = _columns(numerator, x.dtype)
    b = [c.abs() for c in _columns(denominator, x.dtype)]
    t = x.abs()
    p = polynomial(x, a)
    q = polynomial(t, [x.new_ones(()), *b])
    return p, q, t


def polynomial(x: torch.Tensor, coefficients: list[torch.Tensor]) -> torch.Tensor:
    """``sum_j c_j x^j`` by Horner's rule: one fused multiply-add kernel (addcmul) per degree,
    the first allocating the result, the rest in place."""
    if len(coefficients) == 1:
        return torch.zeros_like(x).add_(coefficients[0])
    out = torch.addcmul(coefficients[-2], x, coefficients[-1])  # c_n x + c_(n-1)
    for c in reversed(coefficients[:-2]):
        torch.addcmul(c, out, x, out=out)  # out x + c_j
    return out


def forward(x: torch.Tensor, numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """``f(x)`` for ``x`` of any shape; coefficients ``(C, m+1)`` and ``(C, n)``."""
    dtype = compute_dtype(x.dtype)
    xv = layout(x, numerator.shape[0]).to(dtype)
    p, q, _ = values(xv, numerator, denominator)
    return p.div_(q).view(x.shape).to(x.dtype)


def backward(
    x: torch.Tensor, numerator: torch.Tensor, denominator: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(dL/dx, dL/dnumerator, dL/ddenominator)``; the coefficient gradients are in the compute
    dtype, shaped like the coefficients."""
    channels = numerator.shape[0]
    dtype = compute_dtype(x.dtype)
    xv = layout(x, channels).to(dtype)
    g = layout(grad, channels).to(dtype)
    a = _columns(numerator, dtype)
    b = [c.abs() for c in _columns(denominator, dtype)]
    p, q, t = values(xv, numerator, denominator)
    f = p.div_(q)  # p is not needed again
    # P'(x) and Q_t(t) by Horner's rule on the derived coefficients.
    dp = polynomial(xv, [j * a[j] for j in range(1, len(a))])
    dq = polynomial(t, [k * b[k - 1] for k in range(1, len(b) + 1)])
    u = g.div(q)  # dL/df / Q
    slope = dq.mul_(torch.sign(xv)).mul_(f).neg_().add_(dp)  # P' - f sign(x) Q_t
    grad_x = slope.mul_(u).view(x.shape).to(grad.dtype)
    grad_a = [_reduce(u)]
    power = u.clone()
    for _ in range(1, len(a)):
        grad_a.append(_reduce(power.mul_(xv)))
    power = u.mul_(f)  # u f, reusing u's storage
    grad_b = [_reduce(power.mul_(t)) for _ in b]
    grad_num = torch.stack(grad_a, dim=1)
    sign_b = torch.where(denominator.detach() >= 0, 1.0, -1.0).to(dtype)
    grad_den = -torch.stack(grad_b, dim=1) * sign_b
    return grad_x, grad_num, grad_den
