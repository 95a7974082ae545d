"""ganzoo: a GAN zoo for activation-function research."""

from ganzoo.activations import ACTIVATIONS, create_activation, get_activation
from ganzoo.errors import GanzooError

__version__ = "0.1.0"
__all__ = ["ACTIVATIONS", "GanzooError", "create_activation", "get_activation", "__version__"]
