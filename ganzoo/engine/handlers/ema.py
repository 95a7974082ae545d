"""An exponential moving average of the generator's weights (``train.ema``), via ignite's
EMAHandler; the sample grids and evaluation use it, and checkpoints save it."""

from __future__ import annotations

from ignite.engine import Engine, Events
from torch import nn


def attach_ema(engine: Engine, generator: nn.Module, decay: float) -> nn.Module:
    """Keep the EMA of ``generator`` with ``decay`` (e.g. 0.999); returns the averaged copy."""
    from ignite.handlers import EMAHandler

    # Ignite's momentum is the weight of the new value: ema = (1 - m) * ema + m * weights.
    handler = EMAHandler(generator, momentum=1.0 - decay)
    handler.attach(engine, name="ema_momentum", event=Events.ITERATION_COMPLETED)
    return handler.ema_model
