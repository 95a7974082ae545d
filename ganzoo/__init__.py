"""ganzoo: a GAN zoo for activation-function research.

The library entry points are :func:`train` (one run from a config, or a resumed run directory,
returning a :class:`RunResult`) and :func:`evaluate` (score a run's checkpoint, as ``ganzoo
eval`` does, optionally N times). They are imported on first use, so ``ganzoo --version`` stays
quick.
"""

from typing import Any

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
__all__ = [
    "ACTIVATIONS",
    "GanzooError",
    "RunResult",
    "__version__",
    "create_activation",
    "evaluate",
    "get_activation",
    "train",
]

# name -> module holding it (imported when first asked for)
_LAZY = {
    "train": "ganzoo.training",
    "RunResult": "ganzoo.engine.result",
    "evaluate": "ganzoo.scoring",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
