"""The safe PAU as PyTorch operators: ``torch.ops.ganzoo.pau_forward(x, numerator,
denominator)`` and ``torch.ops.ganzoo.pau_backward(x, numerator, denominator, grad) ->
(dL/dx, dL/dnumerator, dL/ddenominator)``.

Defined with ``torch.library.triton_op``: on CUDA the implementation is Triton kernels
(:mod:`ganzoo_pau._triton`, which ``torch.compile`` sees), elsewhere the eager maths of
:mod:`ganzoo_pau._math` (composite ATen ops; inside ``torch.compile`` they are traced, so
inductor fuses them). Each has a fake implementation (shapes only: ``meta``, FakeTensor) and
registered autograd: ``pau_forward``'s gradient is ``pau_backward``, whose own gradient (for
gradient penalties) is autograd's, of the same derivatives written as differentiable ops
(:func:`differentiable_gradients`). Eager calls launch the kernels directly, without dynamo.
"""

from __future__ import annotations

import logging
from types import ModuleType

import torch
from torch.library import triton_op

from ganzoo.kernels import dense
from ganzoo_pau import _math

logger = logging.getLogger("ganzoo_pau")

Tensor = torch.Tensor

# Run the Triton kernels on CPU tensors too (only meaningful under TRITON_INTERPRET=1: tests).
TRITON_ON_CPU = False
_state: dict[str, object] = {"failed": False, "error": None}


def triton_kernels() -> ModuleType | None:
    """:mod:`ganzoo_pau._triton` (importing Triton on first use), or None once that failed
    (then CUDA uses the eager maths, after one warning)."""
    if _state["failed"]:
        return None
    try:
        from ganzoo_pau import _triton
    except Exception as exc:  # no Triton, or one this code cannot use
        _state["failed"], _state["error"] = True, exc
        logger.warning(
            "PAU: the Triton kernels could not be loaded (%s: %s); using the eager maths",
            type(exc).__name__,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        )
        return None
    return _triton


def uses_triton(x: Tensor, denominator: Tensor) -> bool:
    """Whether ``x`` goes to the Triton kernels: CUDA tensors (while Triton loads), for a
    denominator of degree >= 1."""
    on_device = x.device.type == "cuda" or (x.device.type == "cpu" and TRITON_ON_CPU)
    return on_device and denominator.shape[1] >= 1 and triton_kernels() is not None


def _output_format(x: Tensor, denominator: Tensor) -> torch.memory_format:
    """The layout of x-shaped results: the eager maths writes contiguous ones, the Triton
    kernels keep a channels-last input's layout."""
    if x.device.type == "meta" or uses_triton(x, denominator):
        return dense(x)[1]
    return torch.contiguous_format


@triton_op("ganzoo::pau_forward", mutates_args=())
def pau_forward(x: Tensor, numerator: Tensor, denominator: Tensor) -> Tensor:
    """``P(x) / Q(|x|)`` with coefficients ``(C, m+1)`` and ``(C, n)``, C = 1 or dim 1 of x."""
    if uses_triton(x, denominator):
        kernels = triton_kernels()
        x, memory_format = dense(x)
        return kernels.forward(x, numerator, denominator, memory_format)
    return _math.forward(x, numerator, denominator)


@triton_op("ganzoo::pau_backward", mutates_args=())
def pau_backward(
    x: Tensor, numerator: Tensor, denominator: Tensor, grad: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """``(dL/dx, dL/dnumerator, dL/ddenominator)``, coefficient gradients in their dtype."""
    if uses_triton(x, denominator):
        kernels = triton_kernels()
        x, memory_format = dense(x)
        grad = grad.contiguous(memory_format=memory_format)
        return kernels.backward(x, numerator, denominator, grad, memory_format)
    grad_x, grad_num, grad_den = _math.backward(x, numerator, denominator, grad)
    return grad_x, grad_num.to(numerator.dtype), grad_den.to(denominator.dtype)


@pau_forward.register_fake
def _forward_fake(x: Tensor, numerator: Tensor, denominator: Tensor) -> Tensor:
    return torch.empty_like(x, memory_format=_output_format(x, denominator))


@pau_backward.register_fake
def _backward_fake(
    x: Tensor, numerator: Tensor, denominator: Tensor, grad: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    grad_x = torch.empty_like(x, memory_format=_output_format(x, denominator))
    return grad_x, torch.empty_like(numerator), torch.empty_like(denominator)


def _save_inputs(ctx, inputs: tuple[Tensor, ...], output: object) -> None:
    ctx.save_for_backward(*inputs)


def _forward_gradient(ctx, grad: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    x, numerator, denominator = ctx.saved_tensors
    return pau_backward(x, numerator, denominator, grad)


def _backward_gradient(
    ctx, grad_grad_x: Tensor | None, grad_grad_num: Tensor | None, grad_grad_den: Tensor | None
) -> tuple[Tensor | None, ...]:
    """Second derivatives: autograd of :func:`differentiable_gradients` (differentiable again
    under create_graph)."""
    saved = ctx.saved_tensors
    create_graph = torch.is_grad_enabled()
    with torch.enable_grad():
        inputs = [
            t if t.requires_grad and create_graph else t.detach().requires_grad_() for t in saved
        ]
        outputs = differentiable_gradients(*inputs)
        pairs = [
            (out, weight)
            for out, weight in zip(outputs, (grad_grad_x, grad_grad_num, grad_grad_den))
            if weight is not None
        ]
        if not pairs:
            return (None,) * 4
        grads = torch.autograd.grad(
            [out for out, _ in pairs],
            inputs,
            [weight for _, weight in pairs],
            create_graph=create_graph,
            allow_unused=True,
        )
    return tuple(grads)


pau_forward.register_autograd(_forward_gradient, setup_context=_save_inputs)
pau_backward.register_autograd(_backward_gradient, setup_context=_save_inputs)


def differentiable_gradients(
    x: Tensor, numerator: Tensor, denominator: Tensor, grad: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """``pau_backward``'s results from differentiable torch ops (no in-place updates): the same
    derivatives and conventions as :mod:`ganzoo_pau._math` (``|b_k|``'s derivative +1 at 0,
    ``|x|``'s 0 at 0), float32 for half inputs."""
    dtype = _math.compute_dtype(x.dtype)
    channels = numerator.shape[0]
    xv = _math.layout(x, channels).to(dtype)
    g = _math.layout(grad, channels).to(dtype)
    a = _coefficient_columns(numerator.to(dtype), xv)
    sign_b = torch.where(denominator >= 0, 1.0, -1.0).to(dtype)
    b = _coefficient_columns(denominator.to(dtype) * sign_b, xv)  # |b_k|
    t = xv.abs()
    p = _horner(xv, a)
    q = 1 + t * _horner(t, b)
    f = p / q
    dp = _horner(xv, [j * a[j] for j in range(1, len(a))])
    dq = _horner(t, [k * b[k - 1] for k in range(1, len(b) + 1)])
    u = g / q
    grad_x = ((dp - f * torch.sign(xv) * dq) * u).reshape(x.shape).to(grad.dtype)
    grad_num = torch.stack([_sum(u * xv**j) for j in range(len(a))], dim=1)
    grad_den = -torch.stack([_sum(u * f * t**k) for k in range(1, len(b) + 1)], dim=1) * sign_b
    return grad_x, grad_num.to(numerator.dtype), grad_den.to(denominator.dtype)


def _coefficient_columns(coefficients: Tensor, x: Tensor) -> list[Tensor]:
    if coefficients.shape[0] == 1:
        return [coefficients[0, j] for j in range(coefficients.shape[1])]
    return [coefficients[:, j].view(1, -1, 1) for j in range(coefficients.shape[1])]


def _horner(x: Tensor, coefficients: list[Tensor]) -> Tensor:
    if not coefficients:
        return torch.zeros_like(x)
    out = coefficients[-1] + torch.zeros_like(x)
    for c in reversed(coefficients[:-1]):
        out = out * x + c
    return out


def _sum(values: Tensor) -> Tensor:
    return values.sum().reshape(1) if values.dim() == 1 else values.sum(dim=(0, 2))
