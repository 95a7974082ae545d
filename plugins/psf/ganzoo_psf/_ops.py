"""PSF as PyTorch operators: ``torch.ops.ganzoo.psf_forward(x, alpha)`` and
``torch.ops.ganzoo.psf_backward(x, alpha, grad) -> (dL/dx, dL/dalpha)``.

Defined with ``torch.library.triton_op``: on CUDA the implementation is Triton kernels
(:mod:`ganzoo_psf._triton`), which ``torch.compile`` sees and compiles into its own code; on
the CPU the native C++ kernels (:mod:`ganzoo_psf._fused`); on other devices the portable maths.
Each has a fake implementation (shapes only: the ``meta`` device, FakeTensor tracing) and
registered autograd: ``psf_forward``'s gradient is ``psf_backward``, whose own gradient (for
gradient penalties: WGAN-GP, R1) is :func:`second_order` in differentiable torch ops. An eager
call goes straight to the kernels (no dynamo); inside ``torch.compile`` there is no graph break.
"""

from __future__ import annotations

import torch
from torch.library import triton_op

from ganzoo.kernels import dense
from ganzoo_psf import _fused, _math

Tensor = torch.Tensor

# Run the Triton kernels on CPU tensors too (only meaningful under TRITON_INTERPRET=1: tests).
TRITON_ON_CPU = False


def uses_triton(x: Tensor) -> bool:
    """Whether ``x`` goes to the Triton kernels: CUDA tensors (while Triton loads)."""
    if x.device.type == "cuda" or (x.device.type == "cpu" and TRITON_ON_CPU):
        return _fused.triton_kernels() is not None
    return False


def _output_format(x: Tensor) -> torch.memory_format:
    """The layout of the operators' x-shaped results: the CPU kernels write contiguous ones,
    the Triton kernels keep a channels-last input's layout."""
    if x.device.type == "cpu" and not TRITON_ON_CPU:
        return torch.contiguous_format
    return dense(x)[1]


@triton_op("ganzoo::psf_forward", mutates_args=())
def psf_forward(x: Tensor, alpha: Tensor) -> Tensor:
    """``f(x)`` for alpha of shape (1,) or (C,) (C = dim 1 of x)."""
    if uses_triton(x):
        kernels = _fused.triton_kernels()
        x, memory_format = dense(x)
        return kernels.forward(x, alpha, memory_format)
    if x.device.type == "cpu":
        return _fused.cpu_forward(x, alpha)
    return _math.forward(x, alpha)


@triton_op("ganzoo::psf_backward", mutates_args=())
def psf_backward(x: Tensor, alpha: Tensor, grad: Tensor) -> tuple[Tensor, Tensor]:
    """``(dL/dx, dL/dalpha)`` from the saved input ``x``; dL/dalpha in alpha's dtype."""
    if uses_triton(x):
        kernels = _fused.triton_kernels()
        x, memory_format = dense(x)
        grad = grad.contiguous(memory_format=memory_format)
        return kernels.backward(x, alpha, grad, memory_format)
    if x.device.type == "cpu":
        return _fused.cpu_backward(x, alpha, grad)
    grad_x, grad_alpha = _math.backward(x, alpha, grad)
    return grad_x, grad_alpha.to(alpha.dtype)


@psf_forward.register_fake
def _forward_fake(x: Tensor, alpha: Tensor) -> Tensor:
    return torch.empty_like(x, memory_format=_output_format(x))


@psf_backward.register_fake
def _backward_fake(x: Tensor, alpha: Tensor, grad: Tensor) -> tuple[Tensor, Tensor]:
    return torch.empty_like(x, memory_format=_output_format(x)), torch.empty_like(alpha)


def _save_inputs(ctx, inputs: tuple[Tensor, ...], output: object) -> None:
    ctx.save_for_backward(*inputs)


def _forward_gradient(ctx, grad: Tensor) -> tuple[Tensor, Tensor]:
    x, alpha = ctx.saved_tensors
    if torch.is_grad_enabled():  # create_graph: record psf_backward for double backward
        return BACKWARD(x, alpha, grad)
    with torch._C._AutoDispatchBelowAutograd():  # nothing to record: straight to the kernels
        return BACKWARD(x, alpha, grad)


def _backward_gradient(
    ctx, grad_grad_x: Tensor | None, grad_grad_alpha: Tensor | None
) -> tuple[Tensor, Tensor, Tensor]:
    x, alpha, grad = ctx.saved_tensors
    return second_order(x, alpha, grad, grad_grad_x, grad_grad_alpha)


psf_forward.register_autograd(_forward_gradient, setup_context=_save_inputs)
psf_backward.register_autograd(_backward_gradient, setup_context=_save_inputs)


def _decompose_only_for_triton(operator) -> None:
    """Inside ``torch.compile``, ``triton_op`` replaces the operator by its implementation so
    that inductor sees the Triton kernels. Where there are none (the CPU), that would put a
    call of the C++ library's own operators (``torch.ops.ganzoo_psf.*``) into the compiled
    code, which inductor caches on disk: a fresh process running the cached code before any
    eager PSF call had loaded the library failed (AttributeError: no ``ganzoo_psf.forward``).
    There the operator stays opaque, and its CPU implementation loads the library itself."""
    from torch._subclasses.functional_tensor import FunctionalTensorMode

    decompose = operator._torch_dispatch_fns[FunctionalTensorMode]

    def functional(mode, op, types, args, kwargs):
        if uses_triton(args[0]):
            return decompose(mode, op, types, args, kwargs)
        return mode.__torch_dispatch__(op, types, args, kwargs)

    operator.register_torch_dispatch(FunctionalTensorMode, functional)


_decompose_only_for_triton(psf_forward)
_decompose_only_for_triton(psf_backward)
# The dispatcher's handles (calling these skips a Python layer of the custom-op objects).
FORWARD = torch.ops.ganzoo.psf_forward.default
BACKWARD = torch.ops.ganzoo.psf_backward.default


class EagerPSF(torch.autograd.Function):
    """Eager calls: the operators' kernels under a thin autograd node.

    The custom-op autograd layer above costs about 30 us per forward+backward in Python, about
    8% of a LeakyReLU step on a (64, 128, 16, 16) float32 tensor on 2 CPU threads; this node
    calls the same operators below autograd instead. Under create_graph the backward is the
    recorded ``psf_backward`` operator, so double backward is the registered one. Inside
    ``torch.compile`` the operator is called as such (see ``module.parametric_softsign``).
    """

    @staticmethod
    def forward(ctx, x: Tensor, alpha: Tensor) -> Tensor:
        ctx.save_for_backward(x, alpha)
        with torch._C._AutoDispatchBelowAutograd():
            return FORWARD(x, alpha)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor]:
        return _forward_gradient(ctx, grad)


def second_order(
    x: Tensor,
    alpha: Tensor,
    grad: Tensor,
    grad_grad_x: Tensor | None,
    grad_grad_alpha: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor]:
    """The gradients of ``psf_backward``'s outputs (weighted by ``grad_grad_x`` and
    ``grad_grad_alpha``; None counts as 0) with respect to ``x``, ``alpha`` and ``grad``.

    With ``t = e^-alpha``, ``m = min(x, 0)``, ``r = 1 / (1 - t m)`` (so ``t m r = r - 1``),
    ``gx = grad r^2`` and ``galpha = -sum(grad t m^2 r^2)`` per channel; differentiating::

        d/dgrad  = r^2 ggx - gga m r (r - 1)
        d/dx     = [x < 0] 2 grad r^2 (t r ggx - gga (r - 1))
        d/dalpha = sum(-2 ggx grad r^2 (r - 1) + gga grad m r (r - 1) (2 r - 1))

    written with ``r - 1`` rather than ``t m`` so that nothing overflows. Differentiable torch
    ops, computed in float32 for half inputs.
    """
    dtype = _math.compute_dtype(x.dtype)
    channels = alpha.numel()
    shape = (1, channels) + (1,) * (x.dim() - 2) if channels > 1 else ()
    top = torch.finfo(dtype).max
    t = torch.exp(-alpha.to(dtype)).clamp(max=top).reshape(shape)
    xc = x.to(dtype)
    g = grad.to(dtype)
    m = xc.clamp(max=0)
    r = 1 / (1 - (t * m).clamp(min=-top))
    r1 = r - 1
    r2 = r * r
    grad_grad = torch.zeros_like(g)
    grad_x = torch.zeros_like(xc)
    alpha_terms = torch.zeros_like(xc)
    if grad_grad_x is not None:
        ggx = grad_grad_x.to(dtype)
        grad_grad = grad_grad + r2 * ggx
        grad_x = grad_x + 2 * g * r2 * t * r * ggx
        alpha_terms = alpha_terms - 2 * ggx * g * r2 * r1
    if grad_grad_alpha is not None:
        gga = grad_grad_alpha.to(dtype).reshape(shape)
        grad_grad = grad_grad - gga * m * r * r1
        grad_x = grad_x - 2 * g * r2 * gga * r1
        alpha_terms = alpha_terms + gga * g * m * r * r1 * (2 * r - 1)
    grad_x = torch.where(xc < 0, grad_x, torch.zeros_like(grad_x))
    if channels > 1:
        grad_alpha = alpha_terms.transpose(0, 1).reshape(channels, -1).sum(1)
    else:
        grad_alpha = alpha_terms.sum().reshape(1)
    return grad_x.to(x.dtype), grad_alpha.to(alpha.dtype), grad_grad.to(grad.dtype)
