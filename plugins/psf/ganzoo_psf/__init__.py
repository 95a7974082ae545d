"""ganzoo-psf: the Parametric Softsign Function (PSF) activation, a ganzoo plugin.

Registered with ganzoo through the ``ganzoo.activations`` entry point as ``psf``.
"""

from ganzoo_psf._fused import ENV_VAR as FUSED_ENV_VAR
from ganzoo_psf.module import ParametricSoftsign, parametric_softsign

__all__ = ["FUSED_ENV_VAR", "ParametricSoftsign", "parametric_softsign"]
__version__ = "0.1.0"
