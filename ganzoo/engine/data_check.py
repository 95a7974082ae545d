"""The training data checks a real run makes before its first step, made without training.

``ganzoo train --dry-run`` calls :func:`check_training_data` so a config it prints is one whose
data is present, large enough for one iteration and labelled as the model needs: it builds the
dataset and the loader exactly as the trainer does, and nothing is downloaded or written.
"""

from __future__ import annotations

import logging

from ganzoo.config import ExperimentConfig
from ganzoo.engine.factories import build_loader, check_labels
from ganzoo.engine.run_data import build_run_dataset
from ganzoo.errors import DataError

logger = logging.getLogger(__name__)


def check_training_data(config: ExperimentConfig, world_size: int = 1) -> None:
    """Refuse what the real run would refuse about its data: missing or unreadable files, fewer
    images than one iteration draws (``batch_size`` x ``n_critic``), labels a conditional model
    cannot take. Data that is absent but ``data.download`` would fetch passes with a note."""
    try:
        dataset = build_run_dataset(config, train=True, download=False)
    except DataError:
        if not config.data.download:
            raise
        logger.info(
            "dataset %r is not under %s yet; the run will download it (data.download=true)",
            config.data.name,
            config.data.root,
        )
        return
    check_labels(dataset, int(config.generator.get("num_classes", 0) or 0))
    build_loader(config, dataset, rank=0, world_size=world_size)  # refuses too few images
