"""ganzoo: a GAN zoo for activation-function research."""

from ganzoo.activations import ACTIVATIONS, create_activation, get_activation
from ganzoo.errors import GanzooError


def _installed_version() -> str:
    """The version pyproject.toml declares, as the installed distribution's metadata has it
    (the one place the version is written)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ganzoo")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"


__version__ = _installed_version()
__all__ = ["ACTIVATIONS", "GanzooError", "create_activation", "get_activation", "__version__"]
