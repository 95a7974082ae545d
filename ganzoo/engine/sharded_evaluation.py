"""One evaluation split across the processes of a distributed run.

Scoring a generator is dominated by the feature extractor (Inception), so under
torch.distributed every process samples and extracts features for its own share of the images,
the shares are gathered, and rank 0 computes the metrics. The images are the very ones one
process would draw (:func:`ganzoo.sampling.sample_rows`), so the result does not depend on the
number of processes. The reference set's features are shared out the same way the first time,
unless rank 0 finds them in its cache.

Every process must call :func:`evaluate_across_ranks` at the same point: the calls contain
collective operations.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import torch
from torch import nn

from ganzoo.architectures.protocol import num_classes_of
from ganzoo.sampling import make_sampler, sample_labels, sample_rows

logger = logging.getLogger(__name__)


def share_of_rows(total: int, rank: int, world_size: int) -> torch.Tensor:
    """Rank ``rank``'s rows of ``total``: a contiguous block of ``ceil(total / world_size)``.

    Every rank gets the same number of rows (collectives need equal shapes); the last ranks'
    blocks wrap around to row 0 where ``total`` does not divide evenly. Gathering the blocks in
    rank order and keeping the first ``total`` rows gives rows 0..total-1 exactly once.
    """
    if total < 1:
        raise ValueError(f"nothing to share: total = {total}")
    block = math.ceil(total / world_size)
    return torch.arange(rank * block, (rank + 1) * block) % total


def gather_rows(local: torch.Tensor, total: int) -> torch.Tensor:
    """Every rank's block (see :func:`share_of_rows`) concatenated in rank order, cut to
    ``total`` rows; on every rank."""
    import ignite.distributed as idist

    return idist.all_gather(local.contiguous())[:total]


def _gather_features(local: np.ndarray, total: int) -> np.ndarray:
    return gather_rows(torch.from_numpy(np.ascontiguousarray(local)), total).numpy()


def _share_reference_features(evaluator: Any) -> None:
    """Make sure rank 0's evaluator holds the reference features: from its cache when there,
    else extracted by all ranks, each for its block of the reference images."""
    import ignite.distributed as idist

    rank, world_size = idist.get_rank(), idist.get_world_size()
    ready = evaluator.load_cached_reference_features() if rank == 0 else False
    if idist.broadcast(int(ready), src=0):
        return
    reference = evaluator.reference_images()
    rows = share_of_rows(len(reference), rank, world_size)
    logger.info("extracting reference features: %d images per process", len(rows))
    features = _gather_features(evaluator.extract(reference[rows]), len(reference))
    if rank == 0:
        evaluator.set_reference_features(features)


def evaluate_across_ranks(
    evaluator: Any, generator: nn.Module, *, seed: int, device: torch.device | str
) -> dict[str, Any] | None:
    """Score ``generator`` with ``evaluator``, the work shared by all processes.

    Returns the results on rank 0 and None on the others. With one process this is
    ``evaluator.evaluate(make_sampler(generator, seed))``.
    """
    import ignite.distributed as idist

    rank, world_size = idist.get_rank(), idist.get_world_size()
    conditional = num_classes_of(generator) > 0  # then the labels go along (intra-class FID)
    if world_size == 1:
        sampler = make_sampler(generator, seed=seed, device=device)
        if conditional:
            return evaluator.evaluate(sampler, generated_labels=lambda: sampler.labels)
        return evaluator.evaluate(sampler)
    if evaluator.uses_features:
        _share_reference_features(evaluator)
    total = evaluator.suite.num_samples
    rows = share_of_rows(total, rank, world_size)
    images = sample_rows(
        generator, total, rows, seed=seed, draw_size=evaluator.suite.batch_size, device=device
    )
    all_images = gather_rows(images, total)
    features = None
    if evaluator.uses_features:
        features = _gather_features(evaluator.extract(images), total)
    if rank != 0:
        return None
    if not conditional:
        return evaluator.evaluate(all_images, features=features)
    labels = sample_labels(generator, total, seed=seed, draw_size=evaluator.suite.batch_size)
    return evaluator.evaluate(all_images, features=features, generated_labels=labels)
