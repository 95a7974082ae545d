"""GAN losses by name: a registry of :class:`GANLoss` classes, extensible by plugins.

Built in: ``bce`` (non-saturating, DCGAN's), ``hinge``, ``lsgan``, ``wgan``, ``wgan_gp``; R1 on
real images is added to any of them with ``train.r1_gamma``. A third-party package adds a loss
(a relativistic GAN, say) through the ``ganzoo.losses`` entry-point group, naming a
:class:`GANLoss` subclass; ``ganzoo losses`` lists them all with their origin.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from ganzoo.errors import ConfigError, RegistryError
from ganzoo.losses.base import Critic, GANLoss, LossResult, Samples, ScoreLoss
from ganzoo.losses.penalties import WassersteinGP, WithR1, gradient_penalty, r1_penalty
from ganzoo.losses.standard import Hinge, LeastSquares, NonSaturatingBCE, Wasserstein
from ganzoo.registry import Registry

__all__ = [
    "LOSSES",
    "Critic",
    "GANLoss",
    "LossResult",
    "Samples",
    "ScoreLoss",
    "build_loss",
    "get_loss",
    "gradient_penalty",
    "r1_penalty",
]


def _check_loss_class(name: str, obj: Any) -> None:
    if not (isinstance(obj, type) and issubclass(obj, GANLoss)):
        raise RegistryError(
            f"loss {name!r} must be a subclass of ganzoo.losses.GANLoss, got {obj!r}"
        )


LOSSES = Registry("loss", "ganzoo.losses", check=_check_loss_class, plural="losses")
LOSSES.register("bce", NonSaturatingBCE)
LOSSES.register("hinge", Hinge)
LOSSES.register("lsgan", LeastSquares)
LOSSES.register("wgan", Wasserstein)
LOSSES.register("wgan_gp", WassersteinGP)


def get_loss(name: str, kwargs: Mapping[str, Any] | None = None) -> GANLoss:
    """A new instance of the loss registered as ``name``, built with ``kwargs``."""
    try:
        cls = LOSSES.get(name)
    except RegistryError as exc:
        raise ConfigError(f"train.loss: {exc}") from None
    _check_kwargs(name, cls, dict(kwargs or {}))
    try:
        return cls(**dict(kwargs or {}))
    except TypeError as exc:
        raise ConfigError(
            f"train.loss_kwargs {dict(kwargs or {})} do not fit loss {name!r} "
            f"({cls.__qualname__}): {exc}"
        ) from None


_KIND_WORDS = {float: "a number", int: "a whole number", bool: "true or false", str: "text"}


def _check_kwargs(name: str, cls: type, kwargs: dict[str, Any]) -> None:
    """Each of ``kwargs`` is an option of the loss, of the kind its default has: refused in
    plain words before the constructor trips over it (``gp_weight: abc``)."""
    params = {
        n: p for n, p in inspect.signature(cls).parameters.items() if n not in ("self", "args")
    }
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    options = [n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    for key, value in kwargs.items():
        if key not in params and not open_ended:
            accepted = f"its options are {', '.join(options)}" if options else "it has no options"
            raise ConfigError(
                f"train.loss_kwargs.{key} is not an option of loss {name!r} "
                f"({cls.__qualname__}): {accepted}"
            )
        default = params[key].default if key in params else None
        kind = type(default) if type(default) in _KIND_WORDS else None
        if kind is not None and not _fits(value, kind):
            hint = (
                f" (YAML reads {value} as text; write {float(value)!r})"
                if _is_number_text(value)
                else ""
            )
            raise ConfigError(
                f"train.loss_kwargs.{key} of loss {name!r} must be {_KIND_WORDS[kind]}, "
                f"got {value!r}{hint}"
            )


def _fits(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


def _is_number_text(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


def build_loss(
    name: str, kwargs: Mapping[str, Any] | None = None, r1_gamma: float = 0.0
) -> GANLoss:
    """The loss ``name`` with ``kwargs``, plus R1 on real images when ``r1_gamma`` > 0."""
    if r1_gamma < 0:
        raise ConfigError(f"train.r1_gamma must be 0 (off) or positive, got {r1_gamma}")
    loss = get_loss(name, kwargs)
    return WithR1(loss, r1_gamma) if r1_gamma > 0 else loss
