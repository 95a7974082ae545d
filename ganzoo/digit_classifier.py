"""The digit classifier ganzoo counts modes with, trained on ganzoo's own mnist5k digits.

``evaluation`` holds the classifier (``evaluation.modes``) but loads no data; this module hands
it mnist5k's fixed split (400 training and 100 held-out digits per class) on first use, and the
trained weights are cached, so later calls only read the cache.
"""

from __future__ import annotations

import os
from typing import Any


def mnist5k_classifier(cache_dir: str | os.PathLike | None = None) -> tuple[Any, float, str]:
    """(model, held-out accuracy, ``"mnist5k"``): the cached mnist5k digit classifier, trained
    on first use. Pass it to ``evaluation.Evaluator(classifier=...)`` as it is (it is called
    only when a suite counts modes)."""
    from evaluation.modes import classifier_split, load_or_train_digit_classifier
    from ganzoo.data import build_dataset

    digits = build_dataset("mnist5k")
    model, accuracy = load_or_train_digit_classifier(
        cache_dir, *classifier_split(digits.images, digits.labels), data_name="mnist5k"
    )
    return model, accuracy, "mnist5k"
