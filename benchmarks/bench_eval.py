"""Evaluation throughput: our suite's Inception feature extraction against torch-fidelity called
directly on the same images, and the time cached reference statistics save.

Measured in one run:

- ``ours / torch-fidelity``: images per second of ``evaluation.features.InceptionFeatures``
  (what every suite runs) against torch-fidelity's own loop
  (``torch_fidelity.utils.get_featuresdict_from_dataset`` with its ``FeatureExtractorInceptionV3``,
  ``save_cpu_ram=True``), same weights file, same uint8 digits, same batch size. Interleaved in
  rounds, median of per-round ratios. Target: at least 1.3 (ours folds each batch norm into its
  convolution and runs channels-last; see evaluation/features.py). The features must agree
  within 1e-4 too.
- ``reference cache``: the time an ``Evaluator`` needs for its reference features the first
  time (Inception on every reference image) against the second time (read from the on-disk
  cache), as a ratio (how many times faster).

Usage: python benchmarks/bench_eval.py [--rounds 5] [--images 64] [--reference 128] [--strict]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time

import numpy as np
import torch
from torch.utils.data import Dataset

from evaluation import Evaluator, load_suite
from evaluation.features import InceptionFeatures
from evaluation.images import to_rgb
from ganzoo.data import build_dataset


class _Images(Dataset):
    """uint8 RGB images as torch-fidelity's dataset input wants them."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = to_rgb(images).contiguous()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.images[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--images", type=int, default=64, help="images per round and contender")
    parser.add_argument("--reference", type=int, default=128, help="reference images (cache)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--inception-weights", default=None)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    from torch_fidelity.utils import get_featuresdict_from_dataset

    digits = build_dataset("mnist5k").images
    rng = np.random.default_rng(0)
    ours = InceptionFeatures(args.inception_weights, batch_size=args.batch_size)
    theirs = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(ours.source.path)
    )
    print(f"weights: {ours.source.describe()}; torch threads: {torch.get_num_threads()}")

    # Warm-up (first-call allocations), then check both give the same features.
    warm = digits[torch.from_numpy(rng.choice(len(digits), 8, replace=False))]
    mine = ours(warm)
    other = get_featuresdict_from_dataset(_Images(warm), theirs, 8, False, True, False)["2048"]
    max_diff = float(np.abs(mine - other.numpy()).max())

    ratios = []
    for round_index in range(args.rounds):
        images = digits[torch.from_numpy(rng.choice(len(digits), args.images, replace=False))]
        contenders = ["ours", "theirs"] if round_index % 2 == 0 else ["theirs", "ours"]
        seconds = {}
        for who in contenders:
            started = time.perf_counter()
            if who == "ours":
                ours(images)
            else:
                get_featuresdict_from_dataset(
                    _Images(images), theirs, args.batch_size, False, True, False
                )
            seconds[who] = time.perf_counter() - started
        ratios.append(seconds["theirs"] / seconds["ours"])  # throughput ours / theirs
        print(
            f"  round {round_index + 1}: ours {args.images / seconds['ours']:.1f} img/s, "
            f"torch-fidelity {args.images / seconds['theirs']:.1f} img/s"
        )
    throughput_ratio = statistics.median(ratios)

    reference = digits[torch.from_numpy(rng.choice(len(digits), args.reference, replace=False))]
    suite = load_suite("smoke").replace(
        num_samples=args.reference, reference_num_samples=args.reference
    )
    with tempfile.TemporaryDirectory() as cache:
        times = []
        for _ in range(2):
            evaluator = Evaluator(suite, reference, cache_dir=cache, extractor=ours)
            started = time.perf_counter()
            evaluator.reference_features()
            times.append(time.perf_counter() - started)
    cache_ratio = times[0] / times[1]

    results = [
        ("feature throughput, ours / torch-fidelity", throughput_ratio, ">= 1.3", 1.3),
        ("features max |ours - torch-fidelity|", max_diff, "<= 1e-4", None),
        (f"reference stats ({args.reference} img): uncached / cached", cache_ratio, ">= 10", 10),
    ]
    print(
        f"\n{args.rounds} rounds x {args.images} images (batch {args.batch_size}), median of "
        f"per-round ratios; reference features {times[0]:.1f} s uncached, {times[1]:.3f} s cached"
    )
    ok_all = True
    for label, value, target, minimum in results:
        ok = value <= 1e-4 if minimum is None else value >= minimum
        ok_all = ok_all and ok
        print(f"  {label:<52} {value:10.4g}   target {target:<8} {'PASS' if ok else 'FAIL'}")
    return 1 if args.strict and not ok_all else 0


if __name__ == "__main__":
    sys.exit(main())
