"""Intra-class FID (Miyato & Koyama 2018): FID within each class, then the mean over classes.

For a class-conditional generator: the generated images of class k against the reference
images of class k, on the same features as FID. A class with fewer than two images on either
side has no covariance and is listed as missing rather than scored. Each class's FID rests on
far fewer samples than the overall FID, so it is biased upwards more: compare intra-FIDs only
at equal per-class counts (they are returned with the scores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.fid import fid_from_features


@dataclass(frozen=True)
class IntraClassFID:
    """Per-class FIDs, their mean, the (generated, reference) count per class, and the classes
    of the reference that could not be scored."""

    per_class: dict[int, float]
    mean: float
    counts: dict[int, tuple[int, int]]
    missing: tuple[int, ...]


def intra_class_fid(
    generated: np.ndarray,
    generated_labels: np.ndarray,
    reference: np.ndarray,
    reference_labels: np.ndarray,
) -> IntraClassFID:
    """FID per reference class between ``generated`` and ``reference`` features (rows are
    samples) of that class; ``mean`` averages the scored classes (NaN when none is)."""
    generated_labels = np.asarray(generated_labels).reshape(-1)
    reference_labels = np.asarray(reference_labels).reshape(-1)
    if len(generated_labels) != len(generated) or len(reference_labels) != len(reference):
        raise ValueError(
            f"one label per feature row is needed: {len(generated)} generated rows with "
            f"{len(generated_labels)} labels, {len(reference)} reference rows with "
            f"{len(reference_labels)} labels"
        )
    per_class: dict[int, float] = {}
    counts: dict[int, tuple[int, int]] = {}
    missing: list[int] = []
    for label in np.unique(reference_labels):
        mine = generated[generated_labels == label]
        theirs = reference[reference_labels == label]
        counts[int(label)] = (len(mine), len(theirs))
        if len(mine) < 2 or len(theirs) < 2:
            missing.append(int(label))
            continue
        per_class[int(label)] = fid_from_features(mine, theirs)
    mean = float(np.mean(list(per_class.values()))) if per_class else float("nan")
    return IntraClassFID(per_class, mean, counts, tuple(missing))
