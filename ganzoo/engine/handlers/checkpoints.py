"""Checkpoints: written every ``train.checkpoint_every`` iterations and at the end (atomically),
at most ``train.keep_checkpoints`` kept across resumes, never for NaN weights; and restoring one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint, DiskSaver

from ganzoo.engine.runlog import write_failure
from ganzoo.engine.state import RunStatus
from ganzoo.errors import CheckpointError
from ganzoo.runs import CHECKPOINT_DIR, list_checkpoints

logger = logging.getLogger(__name__)


def save_or_explain(checkpoint: Checkpoint, engine: Engine, run_dir: Path) -> None:
    """Run ``checkpoint``; a full disk or a permission problem becomes one clear error.

    torch.save reports a failed write of its zip container as a RuntimeError ("[enforce fail at
    inline_container.cc...] ... unexpected pos"), not an OSError; both are caught."""
    try:
        checkpoint(engine)
    except (OSError, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) and "inline_container" not in str(exc):
            raise
        raise write_failure(run_dir / CHECKPOINT_DIR, _cause(exc), run_dir) from None


def _cause(exc: BaseException) -> BaseException:
    """The OSError behind a torch.save failure when there is one (its strerror reads best)."""
    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, RuntimeError):
        return OSError(28, "the file could not be written (is the disk full?)")
    return exc


def prune_checkpoints(run_dir: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest ``checkpoint_<N>.pt`` files of ``run_dir``, counting
    those of earlier sessions of the run too; returns what was removed."""
    found = list_checkpoints(run_dir)
    removed = found[: max(0, len(found) - keep)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def attach_checkpoints(
    engine: Engine,
    to_save: dict[str, Any],
    run_dir: Path,
    status: RunStatus,
    every: int,
    keep: int,
) -> Checkpoint:
    """Checkpoint every ``every`` iterations and at the end; keep the newest ``keep``."""
    saver = DiskSaver(
        str(run_dir / CHECKPOINT_DIR), require_empty=False, atomic=True, create_dir=True
    )
    checkpoint = Checkpoint(
        to_save,
        saver,
        filename_prefix="",
        filename_pattern="checkpoint_{global_step}.{ext}",
        n_saved=None,  # pruned below, over this session's files and earlier sessions' alike
        global_step_transform=lambda engine, _: engine.state.iteration,
    )

    def save(engine: Engine) -> None:
        if not status.healthy:
            return  # never write weights that produced NaN
        if checkpoint.last_checkpoint is not None and str(checkpoint.last_checkpoint).endswith(
            f"checkpoint_{engine.state.iteration}.pt"
        ):
            return  # the end fell on a checkpoint iteration: already saved
        save_or_explain(checkpoint, engine, run_dir)
        for path in prune_checkpoints(run_dir, keep):
            logger.debug("removed %s (train.keep_checkpoints=%d)", path.name, keep)

    engine.add_event_handler(Events.ITERATION_COMPLETED(every=every) | Events.COMPLETED, save)
    return checkpoint


def restore(to_save: dict[str, Any], checkpoint: dict[str, Any]) -> None:
    """Load a checkpoint's objects (models, optimizers, engine, RNG) into ``to_save``'s."""
    to_load = {k: v for k, v in to_save.items() if k != "config"}
    missing = [k for k in to_load if k not in checkpoint]
    if missing:
        raise CheckpointError(f"the checkpoint lacks {', '.join(missing)}; it cannot resume")
    try:
        Checkpoint.load_objects(to_load=to_load, checkpoint=checkpoint)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise CheckpointError(
            f"the checkpoint does not fit this run's models ({_first_problem(exc)}); was it "
            f"written by a different architecture or config? Compare the run's config.yaml "
            f"with the config saved in the checkpoint."
        ) from None


def _first_problem(exc: Exception) -> str:
    """The informative part of a load_state_dict error: its heading and first detail line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        detail = lines[1].split(". ")[0]
        return f"{lines[0]} {detail[:300]}"
    return lines[0] if lines else type(exc).__name__
