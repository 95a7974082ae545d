"""``ParametricSoftsign``: the PSF activation as an ``nn.Module`` with a learnable alpha."""

from __future__ import annotations

import math

import torch
from torch import nn

from ganzoo.errors import ConfigError
from ganzoo_psf import _fused, _math, _ops


class _PSFFunction(torch.autograd.Function):
    """The portable PSF (eager maths) with the spec's analytic derivatives; saves only ``x``
    and ``alpha`` (as much memory as LeakyReLU's saved input, plus alpha). See
    :mod:`ganzoo_psf._math` for why ``x`` and not the output."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, alpha)
        return _math.forward(x, alpha)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, alpha = ctx.saved_tensors
        if torch.is_grad_enabled():
            # create_graph=True: a gradient penalty (WGAN-GP, R1) differentiates this gradient
            # again, so it is built from differentiable ops.
            return differentiable_backward(x, alpha, grad)
        grad_x, grad_alpha = _math.backward(x, alpha, grad)
        return grad_x, grad_alpha.to(alpha.dtype)


def differentiable_backward(
    x: torch.Tensor, alpha: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """PSF's gradients as autograd-tracked ops (for double backward). With t = e^-alpha and
    m = min(x, 0): df/dx = 1 / (1 - t m)^2 and df/dalpha = -t m^2 / (1 - t m)^2."""
    channels = alpha.numel()
    shape = (1, channels) + (1,) * (x.dim() - 2) if channels > 1 else (1,)
    t = torch.exp(-alpha).reshape(shape)
    m = x.clamp(max=0)
    d = 1 - t * m
    grad_x = grad / (d * d)
    term = grad * (-t * m * m) / (d * d)
    if channels > 1:
        grad_alpha = term.transpose(0, 1).reshape(channels, -1).sum(1)
    else:
        grad_alpha = term.sum().reshape(1)
    return grad_x, grad_alpha.to(alpha.dtype)


def parametric_softsign(x: torch.Tensor, alpha: torch.Tensor, fused: bool = False) -> torch.Tensor:
    """Functional PSF: ``alpha`` has one element, or one per channel (dim 1) of ``x``.

    ``fused``: the ``torch.ops.ganzoo.psf_forward`` operator (native C++ kernels on the CPU,
    Triton on CUDA; see :mod:`ganzoo_psf._ops`), else the portable eager maths."""
    if alpha.dim() != 1:
        raise ConfigError(f"PSF alpha must be 1-D (one value per channel), got {alpha.shape}")
    channels = alpha.numel()
    if channels != 1 and (x.dim() < 2 or x.shape[1] != channels):
        got = f"{x.shape[1]} channels" if x.dim() >= 2 else f"a {x.dim()}-D input"
        raise ConfigError(
            f"PSF has num_parameters={channels} (one alpha per channel, dim 1) but the input "
            f"of shape {tuple(x.shape)} has {got}. Set num_parameters to the channel count of "
            f"the layer before it, or to 1 for one alpha per layer."
        )
    if fused:
        if torch.compiler.is_compiling():
            return _ops.FORWARD(x, alpha)  # the operator itself: no graph break
        return _ops.EagerPSF.apply(x, alpha)
    return _PSFFunction.apply(x, alpha)


class ParametricSoftsign(nn.Module):
    """Parametric Softsign Function (PSF): ``f(x) = x`` for x >= 0, ``e^a x / (e^a + |x|)`` below.

    Args:
        num_parameters: 1 for one alpha per layer (the paper's setting), or the number of
            channels (dim 1 of the input) for one alpha per channel, like ``nn.PReLU``.
        alpha_init: initial alpha. 0 gives ``x / (1 + |x|)`` on the negative side; large
            negative values approach ReLU, large positive values the identity.
        fused: True for the ``torch.ops.ganzoo.psf_*`` operators (native C++ kernels on the
            CPU, built once per machine; Triton kernels on CUDA), False for the portable eager
            maths, None (default) for fused unless ``GANZOO_PSF_FUSED=0`` when the module is
            built (read once then, not on every call). Where the kernels cannot be had, the
            operators use the portable maths, with one warning.
    """

    def __init__(
        self, num_parameters: int = 1, alpha_init: float = 0.0, fused: bool | None = None
    ) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int):
            raise ConfigError(f"PSF num_parameters must be an int, got {num_parameters!r}")
        if num_parameters < 1:
            raise ConfigError(
                f"PSF num_parameters must be >= 1 (1 per layer, or the channel count), "
                f"got {num_parameters}"
            )
        if not isinstance(alpha_init, int | float) or not math.isfinite(alpha_init):
            raise ConfigError(f"PSF alpha_init must be a finite number, got {alpha_init!r}")
        if fused is not None and not isinstance(fused, bool):
            raise ConfigError(f"PSF fused must be true, false or null, got {fused!r}")
        self.num_parameters = num_parameters
        self.alpha_init = float(alpha_init)
        self.fused = fused
        # Resolved here: reading the environment on every call cost ~8 Python calls (~1.3 us,
        # about a tenth of PSF's per-call overhead over LeakyReLU) and logged a bad value's
        # warning on every call.
        self._uses_fused = _fused.fused_by_default() if fused is None else fused
        self.alpha = nn.Parameter(torch.full((num_parameters,), self.alpha_init))

    def uses_fused(self) -> bool:
        """Whether calls try the fused path (``fused``, or for None ``GANZOO_PSF_FUSED`` as it
        was when the module was built)."""
        return self._uses_fused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return parametric_softsign(x, self.alpha, self._uses_fused)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if "_uses_fused" not in self.__dict__:  # pickled whole by a version that resolved per call
            self._uses_fused = _fused.fused_by_default() if self.fused is None else self.fused

    def extra_repr(self) -> str:
        fused = "auto" if self.fused is None else self.fused
        return f"num_parameters={self.num_parameters}, alpha_init={self.alpha_init}, fused={fused}"
