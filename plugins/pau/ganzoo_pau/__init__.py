"""ganzoo-pau: the safe Padé Activation Unit (PAU, Molina et al. 2020), a ganzoo plugin.

Registered with ganzoo through the ``ganzoo.activations`` entry point as ``pau``.
"""

from ganzoo_pau.fit import LEAKY_RELU_02, RationalFit, fit_leaky_relu
from ganzoo_pau.module import PadeActivation, pade_activation

__all__ = ["LEAKY_RELU_02", "PadeActivation", "RationalFit", "fit_leaky_relu", "pade_activation"]
__version__ = "0.1.0"
