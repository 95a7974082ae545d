"""``PadeActivation``: the safe Padé Activation Unit as an ``nn.Module`` with learnable
numerator and denominator coefficients."""

from __future__ import annotations

import math

import torch
from torch import nn

from ganzoo.errors import ConfigError
from ganzoo_pau import _ops
from ganzoo_pau.fit import DENOMINATOR_DEGREE, NUMERATOR_DEGREE, initial_fit


def pade_activation(
    x: torch.Tensor, numerator: torch.Tensor, denominator: torch.Tensor
) -> torch.Tensor:
    """Functional safe PAU: ``numerator`` is ``(C, m+1)``, ``denominator`` ``(C, n)``, with
    ``C = 1`` (one set for the whole input) or the channel count (dim 1) of ``x``.

    Runs the ``torch.ops.ganzoo.pau_forward`` operator (Triton kernels on CUDA, eager ATen
    maths elsewhere; analytic gradients, double backward included: see
    :mod:`ganzoo_pau._ops`)."""
    if numerator.dim() != 2 or denominator.dim() != 2:
        raise ConfigError(
            f"PAU coefficients must be 2-D (sets x coefficients); got numerator "
            f"{tuple(numerator.shape)} and denominator {tuple(denominator.shape)}"
        )
    if numerator.shape[0] != denominator.shape[0] or numerator.shape[1] < 2:
        raise ConfigError(
            f"PAU needs as many numerator as denominator sets and a numerator of degree >= 1; "
            f"got {tuple(numerator.shape)} and {tuple(denominator.shape)}"
        )
    channels = numerator.shape[0]
    if channels != 1 and (x.dim() < 2 or x.shape[1] != channels):
        got = f"{x.shape[1]} channels" if x.dim() >= 2 else f"a {x.dim()}-D input"
        raise ConfigError(
            f"PAU has num_parameters={channels} (one coefficient set per channel, dim 1) but the "
            f"input of shape {tuple(x.shape)} has {got}. Set num_parameters to the channel count "
            f"of the layer before it, or to 1 for one set per layer."
        )
    return _ops.pau_forward(x, numerator, denominator)


class PadeActivation(nn.Module):
    """Safe Padé Activation Unit (Molina et al. 2020), degrees (5, 4)::

        f(x) = (a_0 + a_1 x + ... + a_5 x^5) / (1 + |b_1| |x| + |b_2| x^2 + ... + |b_4| x^4)

    The denominator is at least 1, so the unit has no pole for any coefficients. Initialised
    to the least-squares fit of LeakyReLU(``negative_slope``) on [-3, 3] (see
    :mod:`ganzoo_pau.fit`); every layer learns its own coefficients.

    Args:
        num_parameters: 1 for one coefficient set per layer (the paper's setting), or the number
            of channels (dim 1 of the input) for one set per channel, like ``nn.PReLU``.
        negative_slope: the LeakyReLU slope the initial coefficients approximate; 0.2 (DCGAN's
            and ganzoo's ``leaky_relu``) uses stored coefficients, another value is fitted once
            per process (about 1 s, with scipy).
    """

    def __init__(self, num_parameters: int = 1, negative_slope: float = 0.2) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int):
            raise ConfigError(f"PAU num_parameters must be an int, got {num_parameters!r}")
        if num_parameters < 1:
            raise ConfigError(
                f"PAU num_parameters must be >= 1 (1 per layer, or the channel count), "
                f"got {num_parameters}"
            )
        if (
            isinstance(negative_slope, bool)
            or not isinstance(negative_slope, int | float)
            or not math.isfinite(negative_slope)
        ):
            raise ConfigError(f"PAU negative_slope must be a finite number, got {negative_slope!r}")
        self.num_parameters = num_parameters
        self.negative_slope = float(negative_slope)
        fit = initial_fit(self.negative_slope)
        self.numerator = nn.Parameter(
            torch.tensor(fit.numerator, dtype=torch.float32).repeat(num_parameters, 1)
        )
        self.denominator = nn.Parameter(
            torch.tensor(fit.denominator, dtype=torch.float32).repeat(num_parameters, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pade_activation(x, self.numerator, self.denominator)

    def extra_repr(self) -> str:
        return (
            f"num_parameters={self.num_parameters}, degrees=({NUMERATOR_DEGREE}, "
            f"{DENOMINATOR_DEGREE}), negative_slope={self.negative_slope}"
        )
