"""The engine's checkpointable state: Ignite's deterministic engine with plain-tensor RNG state,
the resolved config as a checkpoint entry, and the run's status shared by the handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from ignite.engine.deterministic import DeterministicEngine


class GANEngine(DeterministicEngine):
    """A :class:`DeterministicEngine` whose state dict holds only tensors and plain values.

    Ignite keeps numpy's RNG state as an ndarray, which ``torch.load(weights_only=True)``
    refuses; it is stored as a tensor here and turned back on load.
    """

    def state_dict(self) -> Any:
        state = super().state_dict()
        python_state, torch_state, *rest = state["rng_states"]
        packed: list[Any] = [_pack_python_rng(python_state), torch_state]
        if rest:
            kind, keys, pos, has_gauss, cached = rest[0]
            packed.append([kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached])
        state["rng_states"] = packed
        return state

    def load_state_dict(self, state_dict: Any) -> None:
        state = dict(state_dict)
        rng = state.get("rng_states")
        if rng is not None:
            unpacked: list[Any] = [_unpack_python_rng(rng[0]), rng[1]]
            if len(rng) > 2:
                kind, keys, pos, has_gauss, cached = rng[2]
                unpacked.append((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
            state["rng_states"] = unpacked
        super().load_state_dict(state)


def _pack_python_rng(state: tuple) -> list[Any]:
    version, internal, gauss = state
    return [version, torch.tensor(internal, dtype=torch.int64), gauss]


def _unpack_python_rng(packed: list[Any]) -> tuple:
    version, internal, gauss = packed
    return (version, tuple(int(v) for v in internal.tolist()), gauss)


class SavedDict:
    """Wraps a plain dict so Ignite's Checkpoint saves it (the resolved config)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def state_dict(self) -> dict[str, Any]:
        return self.data

    def load_state_dict(self, data: dict[str, Any]) -> None:
        self.data = data


@dataclass
class RunStatus:
    """What the handlers of one run need to know of each other, passed to them explicitly."""

    nan_iteration: int | None = None  # the iteration whose loss was not finite, if any

    @property
    def healthy(self) -> bool:
        """False once a loss was NaN/inf: nothing is saved or evaluated from those weights."""
        return self.nan_iteration is None
