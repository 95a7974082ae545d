"""Continuing a run directory: which overrides may change, the merged config, and how far it is.

:func:`plan_resume` reads a run's ``config.yaml``, applies the overrides a resume allows (how
long to train, how to log and evaluate), loads the newest checkpoint and says whether anything
is left to train. It writes nothing: the caller rewrites ``config.yaml`` only when training
really continues, so a refused or empty resume leaves the run's record as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.config import ExperimentConfig, config_from_dict, to_yaml, validate
from ganzoo.errors import ConfigError
from ganzoo.runs import (
    CONFIG_FILE,
    RESUMABLE_OVERRIDES,
    atomic_write_text,
    load_latest_checkpoint,
    read_run_config,
    require_run_dir,
)


@dataclass
class ResumePlan:
    """A run to continue: its merged config, its newest checkpoint and where it stands."""

    run_dir: Path
    config: ExperimentConfig
    source: str  # where the config came from, for messages
    overrides: list[str]
    checkpoint_path: Path
    checkpoint: dict[str, Any]
    trained: int  # iterations the checkpoint holds
    end: int | None  # the planned last iteration (None when the checkpoint does not say)

    @property
    def nothing_to_do(self) -> bool:
        return self.end is not None and self.trained >= self.end

    def record_overrides(self) -> None:
        """Write the merged config into the run's ``config.yaml`` (when it changed)."""
        if self.overrides:
            atomic_write_text(self.run_dir / CONFIG_FILE, to_yaml(self.config))


def is_resumable_key(key: str) -> bool:
    """Whether a resume may change ``key`` (see ``RESUMABLE_OVERRIDES``)."""
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in RESUMABLE_OVERRIDES)


def plan_resume(
    run_dir: str | Path, overrides: Sequence[str] = (), build: bool = True
) -> ResumePlan:
    """Check ``overrides`` against the run and load its newest checkpoint.

    An unknown key gets the config's unknown-key message (with the valid keys), a known key
    that would make another experiment gets "cannot change", and a length shorter than what
    was already trained is refused, since config.yaml would then describe a run that never was.
    ``build`` as in :func:`ganzoo.config.validate`.
    """
    run_dir = require_run_dir(run_dir)
    overrides = [str(item) for item in overrides]
    source = str(run_dir / CONFIG_FILE)
    config = apply_overrides(read_run_config(run_dir), overrides, source)
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        if not is_resumable_key(key):
            raise ConfigError(
                f"cannot change {key!r} when resuming: only {', '.join(RESUMABLE_OVERRIDES)} may "
                f"change. Start a new run for a different experiment."
            )
    validate(config, source, overrides, build=build)
    path, checkpoint = load_latest_checkpoint(run_dir)
    trained, end = _progress(config, checkpoint)
    plan = ResumePlan(run_dir, config, source, overrides, path, checkpoint, trained, end)
    if plan.nothing_to_do:
        check_weights_fit(config, checkpoint)  # training would find out when restoring
    if end is not None and trained > end:
        length = next(
            (o for o in reversed(overrides) if o.split("=", 1)[0].strip() in _LENGTH_KEYS),
            None,
        )
        cause = f"{length} ends" if length else "its config ends"
        raise ConfigError(
            f"{run_dir} has trained {trained} iterations already; {cause} at iteration {end}, "
            f"before that. Give a longer train.iterations (or train.epochs) to train on; a "
            f"shorter run is a new run (its learning-rate schedule differs). {CONFIG_FILE} is "
            f"unchanged."
        )
    return plan


_LENGTH_KEYS = ("train.iterations", "train.epochs")


def apply_overrides(
    base: dict[str, Any], overrides: Sequence[str], source: str
) -> ExperimentConfig:
    """The config ``base`` (plain containers) with ``overrides`` on top, checked against the
    schema (an unknown key or a bad value is named as the config's own errors name it)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    for item in overrides:
        if "=" not in item or item.startswith("="):
            raise ConfigError(f"override {item!r} must look like key=value, e.g. train.epochs=5")
    overrides = list(overrides)
    try:
        merged = OmegaConf.to_container(
            OmegaConf.merge(OmegaConf.create(base), OmegaConf.from_dotlist(overrides))
        )
    except OmegaConfBaseException as exc:
        raise ConfigError(f"cannot apply the overrides {overrides} to {source}: {exc}") from None
    where = f"{source} with the overrides {' '.join(overrides)}" if overrides else source
    return config_from_dict(merged, where)


def check_weights_fit(config: ExperimentConfig, checkpoint: dict[str, Any]) -> None:
    """Refuse a checkpoint whose networks do not load into the ones ``config`` builds (an
    edited config.yaml), as restoring it for training would."""
    from ganzoo.config import data_shape
    from ganzoo.data import dataset_info
    from ganzoo.engine.factories import build_models
    from ganzoo.engine.handlers.checkpoints import restore

    generator, discriminator = build_models(
        config, data_shape(config, dataset_info(config.data.name))
    )
    restore({"generator": generator, "discriminator": discriminator}, checkpoint)


def _progress(config: ExperimentConfig, checkpoint: dict[str, Any]) -> tuple[int, int | None]:
    """(iterations trained, planned last iteration) from the checkpoint's engine state."""
    state = checkpoint.get("trainer")
    state = state if isinstance(state, dict) else {}
    trained = int(state.get("iteration") or 0)
    t = config.train
    if t.iterations is not None:
        return trained, int(t.iterations)
    length = state.get("epoch_length")
    return trained, int(t.epochs) * int(length) if length else None
