"""Fitting a safe PAU to LeakyReLU: where the unit's initial coefficients come from.

The fit is least squares on an even grid of 2,001 points over [-3, 3] (float64), in two steps:
a linearised fit (minimise ``P(x) - y (Q(x) - 1) - y``, which is linear in the numerator and in
the ``|b_k|``; solved with the ``|b_k| >= 0`` bounds by ``scipy.optimize.lsq_linear``), then the
true residual ``P/Q - y`` refined from there by ``scipy.optimize.least_squares``.
:data:`LEAKY_RELU_02` holds the result for ganzoo's LeakyReLU(0.2) (degrees 5 and 4), so
default units never run scipy; other slopes are fitted once per process (about 1 s).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

NUMERATOR_DEGREE = 5
DENOMINATOR_DEGREE = 4
FIT_RANGE = (-3.0, 3.0)
FIT_POINTS = 2001


@dataclass(frozen=True)
class RationalFit:
    """Coefficients of a safe PAU (``numerator`` a_0..a_m, ``denominator`` b_1..b_n, all
    b >= 0) and their error against the target on the fit grid."""

    numerator: tuple[float, ...]
    denominator: tuple[float, ...]
    max_error: float
    rms_error: float


# fit_leaky_relu(0.2), rounded to 12 significant digits; the test suite checks that a fresh fit
# still agrees. Largest error 0.0256 (at x = 0, the kink: f(0) = a_0), RMS error 0.0043 over
# [-3, 3]. Outside the range the unit tends to (a_5 / b_4) x = 0.72 x on both sides.
LEAKY_RELU_02 = RationalFit(
    numerator=(
        0.0255882981338,
        0.661829269973,
        1.58108148407,
        2.94195684806,
        0.951492295116,
        0.23274229862,
    ),
    denominator=(0.509382150895, 4.1797574742, 0.377763790967, 0.323442850379),
    max_error=0.0255882981338,
    rms_error=0.00427189114336,
)


def leaky_relu(x: np.ndarray, negative_slope: float) -> np.ndarray:
    return np.where(x >= 0, x, negative_slope * x)


def rational(x: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """The safe PAU in numpy: ``P(x) / (1 + sum_k |b_k| |x|^k)``."""
    p = np.polynomial.polynomial.polyval(x, numerator)
    q = 1 + np.polynomial.polynomial.polyval(np.abs(x), np.r_[0.0, np.abs(denominator)])
    return p / q


def fit_grid() -> np.ndarray:
    return np.linspace(*FIT_RANGE, FIT_POINTS)


@functools.lru_cache(maxsize=16)
def fit_leaky_relu(negative_slope: float) -> RationalFit:
    """Least-squares safe PAU of degrees (5, 4) for LeakyReLU(``negative_slope``) on [-3, 3]."""
    from scipy.optimize import least_squares, lsq_linear

    m, n = NUMERATOR_DEGREE, DENOMINATOR_DEGREE
    x = fit_grid()
    y = leaky_relu(x, negative_slope)
    t = np.abs(x)
    design = np.concatenate(
        [x[:, None] ** np.arange(m + 1), -y[:, None] * t[:, None] ** np.arange(1, n + 1)], axis=1
    )
    lower = np.r_[np.full(m + 1, -np.inf), np.zeros(n)]
    upper = np.full(m + n + 1, np.inf)
    linear = lsq_linear(design, y, bounds=(lower, upper))

    def residual(params: np.ndarray) -> np.ndarray:
        return rational(x, params[: m + 1], params[m + 1 :]) - y

    refined = least_squares(
        residual, linear.x, bounds=(lower, upper), xtol=1e-15, ftol=1e-15, gtol=1e-15
    )
    errors = residual(refined.x)
    return RationalFit(
        numerator=tuple(float(v) for v in refined.x[: m + 1]),
        denominator=tuple(float(v) for v in refined.x[m + 1 :]),
        max_error=float(np.abs(errors).max()),
        rms_error=float(math.sqrt(np.mean(errors**2))),
    )


def initial_fit(negative_slope: float) -> RationalFit:
    """The stored fit for slope 0.2, a fresh (cached) fit for any other slope."""
    if negative_slope == 0.2:
        return LEAKY_RELU_02
    return fit_leaky_relu(float(negative_slope))
