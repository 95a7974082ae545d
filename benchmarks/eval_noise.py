"""Evaluation noise: re-score one trained generator many times at several sample counts.

For each count n (default 200, 1,000, 5,000) the generator is scored ``repeats`` times, each
time on n images from fresh noise, against two references:

- ``subset``: n training images drawn afresh each repeat (the smoke suite's "n vs n" shape);
- ``whole``: every training image the GAN saw (the ``final`` protocol's reference).

Each metric's mean, std (ddof=1) and bias over the repeats are printed and written as JSON.
Bias is the mean minus the mean at the largest count against the whole set (the closest to the
infinite-sample value measured here); for FID, ``fid_inf`` also extrapolates the whole-set FIDs
linearly in 1/n (Chong and Forsyth 2020), since FID's bias falls like 1/n.

Generated images for different repeats and counts are disjoint slices of one pool drawn from
fresh noise (``--noise-seed``), so repeats are independent; the pool's Inception features are
saved under ``--work`` as they are extracted, so an interrupted run resumes where it stopped.
The training set's features are cached once (``evaluation.cache``), as the final protocol does.

Usage::

    nice -n 10 python benchmarks/eval_noise.py RUN_DIR --checkpoint checkpoint_28236.pt \\
        --counts 200 1000 --repeats 10 --work /tmp/noise --out noise.json
    python benchmarks/eval_noise.py --merge small.json large.json --out noise.json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.fid import feature_statistics, fid_from_stats
from evaluation.kid import effective_subset_size, kid_from_features
from evaluation.prdc import prdc

log = logging.getLogger("eval_noise")

METRICS = ("fid", "kid_mean", "precision", "recall", "density", "coverage")
REFERENCES = ("subset", "whole")


@dataclass(frozen=True)
class ScoreSettings:
    """The suite parameters every score here uses (the final suite's)."""

    kid_subset_size: int = 1000
    kid_subsets: int = 100
    pr_k: int = 3
    dc_k: int = 5


def score(
    generated: np.ndarray, reference: np.ndarray, settings: ScoreSettings, seed: int
) -> dict[str, float]:
    """FID, KID and PRDC of ``generated`` against ``reference`` features."""
    size = effective_subset_size(settings.kid_subset_size, len(generated), len(reference))
    kid, _ = kid_from_features(generated, reference, size, settings.kid_subsets, seed=seed)
    values = prdc(reference, generated, k_pr=settings.pr_k, k_dc=settings.dc_k)
    return {
        "fid": fid_from_stats(feature_statistics(generated), feature_statistics(reference)),
        "kid_mean": kid,
        "precision": values.precision,
        "recall": values.recall,
        "density": values.density,
        "coverage": values.coverage,
    }


def repeats_for(count: int, repeats: int, pool: int) -> int:
    """How many disjoint slices of ``count`` the generated pool gives, at most ``repeats``."""
    return min(repeats, pool // count)


def measure(
    generated_pool: np.ndarray,
    reference: np.ndarray,
    counts: list[int],
    repeats: int,
    settings: ScoreSettings = ScoreSettings(),
) -> dict[str, Any]:
    """Scores of disjoint slices of ``generated_pool`` at each count, against fresh reference
    subsets and against the whole ``reference``; their mean, std and bias per metric."""
    scores: dict[str, dict[int, list[dict[str, float]]]] = {r: {} for r in REFERENCES}
    for count in counts:
        n_repeats = repeats_for(count, repeats, len(generated_pool))
        if n_repeats == 0:
            log.warning(
                "count %d: the pool holds only %d images; skipped", count, len(generated_pool)
            )
            continue
        if count > len(reference):
            log.warning(
                "count %d: more than the %d reference images; skipped", count, len(reference)
            )
            continue
        for i in range(n_repeats):
            fake = generated_pool[i * count : (i + 1) * count]
            against_whole = score(fake, reference, settings, seed=i)
            scores["whole"].setdefault(count, []).append(against_whole)
            against_subset = against_whole  # at the full count the subset is the whole set
            if count < len(reference):
                rows = np.random.default_rng(1000 + i).choice(len(reference), count, replace=False)
                against_subset = score(fake, reference[np.sort(rows)], settings, seed=i)
            scores["subset"].setdefault(count, []).append(against_subset)
            log.info(
                "count %d repeat %d/%d: %s", count, i + 1, n_repeats, scores["whole"][count][-1]
            )
    return summarize(scores, len(reference))


def summarize(
    scores: dict[str, dict[int, list[dict[str, float]]]], reference_size: int
) -> dict[str, Any]:
    """Per reference, count and metric: n, mean, std (ddof=1; None for one repeat), bias."""
    whole = scores["whole"]
    anchor_count = max(whole) if whole else None
    anchor = (
        {m: float(np.mean([s[m] for s in whole[anchor_count]])) for m in METRICS} if whole else {}
    )
    table: dict[str, Any] = {}
    for name, by_count in scores.items():
        for count, runs in sorted(by_count.items()):
            row = {}
            for metric in METRICS:
                values = np.array([s[metric] for s in runs])
                row[metric] = {
                    "n": len(values),
                    "mean": float(values.mean()),
                    "std": float(values.std(ddof=1)) if len(values) > 1 else None,
                    "bias": float(values.mean() - anchor[metric]),
                    "values": values.tolist(),
                }
            table.setdefault(name, {})[str(count)] = row
    result: dict[str, Any] = {
        "reference_size": reference_size,
        "bias_anchor": f"mean at {anchor_count} generated vs the whole reference",
        "scores": table,
    }
    if len(whole) >= 2:
        counts = sorted(whole)
        means = [np.mean([s["fid"] for s in whole[c]]) for c in counts]
        slope, intercept = np.polyfit(1.0 / np.array(counts), means, 1)
        result["fid_inf"] = {"value": float(intercept), "slope_per_inverse_n": float(slope)}
    return result


def merge_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several runs' JSON on the same generator and reference (e.g. the small
    counts from one run and 5,000 from a later run over a larger pool): their per-repeat scores
    are pooled per reference and count (a later result replaces an earlier one's count) and
    summarised again, so the bias is against the largest count of them all."""
    scores: dict[str, dict[int, list[dict[str, float]]]] = {r: {} for r in REFERENCES}
    sizes = {result["reference_size"] for result in results}
    if len(sizes) != 1:
        raise ValueError(f"the results use different references (sizes {sorted(sizes)})")
    for result in results:
        for name, by_count in result["scores"].items():
            for count, row in by_count.items():
                n = row[METRICS[0]]["n"]
                repeats = [{m: row[m]["values"][i] for m in METRICS} for i in range(n)]
                scores[name][int(count)] = repeats
    merged = summarize(scores, sizes.pop())
    merged["merged_from"] = [result.get("command", "") for result in results]
    for key in ("checkpoint", "iteration", "extractor"):
        merged[key] = results[-1].get(key)
    return merged


def format_summary(result: dict[str, Any]) -> str:
    """One line per reference, count and metric: mean, std, bias."""
    lines = [
        f"reference: {result['reference_size']} training images; bias vs {result['bias_anchor']}"
    ]
    lines.append(
        f"{'reference':<9} {'count':>5} {'metric':<10} {'n':>3} "
        f"{'mean':>10} {'std':>10} {'bias':>10}"
    )
    for name, by_count in result["scores"].items():
        for count, row in by_count.items():
            for metric, cell in row.items():
                std = "-" if cell["std"] is None else _fmt(cell["std"])
                lines.append(
                    f"{name:<9} {count:>5} {metric:<10} {cell['n']:>3} {_fmt(cell['mean']):>10} "
                    f"{std:>10} {_fmt(cell['bias']):>10}"
                )
    if "fid_inf" in result:
        lines.append(
            f"FID extrapolated to infinite n (whole reference): {result['fid_inf']['value']:.2f}"
        )
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return f"{value:.5f}" if abs(value) < 1 else f"{value:.3f}"


def adjacent_differences(records: Path, metrics: tuple[str, ...] = METRICS) -> dict[str, Any]:
    """From run records alone (no Inception): per metric, the differences between each run's
    last two periodic evaluations, their RMS and RMS / sqrt(2), an estimate of one
    evaluation's standard deviation (it includes the training between the two points, so it
    is an upper bound on the evaluation's own noise at that suite's counts)."""
    differences: dict[str, list[float]] = {m: [] for m in metrics}
    runs = 0
    for path in sorted(records.rglob("metrics.jsonl")):
        evals = [r for r in map(json.loads, path.read_text().splitlines()) if "eval" in r]
        if len(evals) < 2:
            continue
        runs += 1
        before, after = evals[-2]["eval"], evals[-1]["eval"]
        for m in metrics:
            if m in before and m in after:
                differences[m].append(after[m] - before[m])
    out: dict[str, Any] = {"runs": runs}
    for m, values in differences.items():
        if values:
            rms = float(np.sqrt(np.mean(np.square(values))))
            out[m] = {"n": len(values), "rms": rms, "sd_one_evaluation": rms / np.sqrt(2)}
    return out


# -- the parts that need a run, a dataset and Inception ---------------------------------------


def reference_features(config: Any, extractor: Any, count: int | None = None) -> np.ndarray:
    """Features of every training image the run saw (the final protocol's reference), or of
    the ``count`` the smoke suite takes; cached as the suites cache them."""
    from evaluation import Evaluator, load_suite
    from ganzoo.engine.handlers.evaluation import (
        reference_name,
        reference_request,
        training_reference,
    )

    suite = load_suite("final") if count is None else load_suite("smoke")
    wanted = reference_request(suite) if count is None else count
    images = training_reference(config, wanted, train=True)
    evaluator = Evaluator(
        suite,
        images,
        reference_name=reference_name(config),
        reference_num_samples=len(images),
        extractor=extractor,
    )
    return evaluator.reference_features()


def generated_pool(
    loaded: Any, extractor: Any, size: int, noise_seed: int, work: Path, chunk: int
) -> np.ndarray:
    """Features of ``size`` images from fresh noise, extracted ``chunk`` at a time and saved to
    ``work`` after each chunk (a rerun continues from the saved ones)."""
    from ganzoo.sampling import make_sampler

    path = work / f"generated-{loaded.checkpoint.stem}-iter{loaded.iteration}-seed{noise_seed}.npy"
    done = np.load(path) if path.is_file() else np.zeros((0, 2048), dtype=np.float32)
    sample = make_sampler(loaded.generator, seed=noise_seed)
    if len(done):
        sample(len(done))  # advance the noise past the images already scored
    while len(done) < size:
        n = min(chunk, size - len(done))
        done = np.concatenate([done, extractor(sample(n))])
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, done)
        tmp.replace(path)
        log.info("generated features: %d/%d", len(done), size)
    return done[:size]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, nargs="?", help="a run directory (read only)")
    parser.add_argument(
        "--records",
        type=Path,
        help="instead: from run records only, the spread between each run's last two "
        "periodic evaluations (no Inception)",
    )
    parser.add_argument("--checkpoint", type=Path, help="default: the run's newest")
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 1000, 5000])
    parser.add_argument("--repeats", type=int, default=10, help="at most this many per count")
    parser.add_argument(
        "--pool",
        type=int,
        default=None,
        help="generated images in all (default: the repeats at the largest count that fits "
        "10,000 images)",
    )
    parser.add_argument("--noise-seed", type=int, default=12345)
    parser.add_argument("--chunk", type=int, default=500, help="images per saved chunk")
    parser.add_argument("--work", type=Path, help="where the features are kept")
    parser.add_argument("--out", type=Path, help="JSON of every score and the summary")
    parser.add_argument("--inception-weights", default=None)
    parser.add_argument(
        "--reference-count",
        type=int,
        help="score against the smoke suite's fixed subset of this many training images "
        "(e.g. 200, what curves use) instead of the whole training set",
    )
    parser.add_argument(
        "--generated-only",
        action="store_true",
        help="only extract (or extend) the generated pool, e.g. beside a process that is "
        "computing the reference features; score later with the same command without it",
    )
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        help="instead: pool the repeats of these JSON outputs (same generator and reference) "
        "into one summary, written to --out",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.merge:
        merged = merge_results([json.loads(path.read_text()) for path in args.merge])
        print(format_summary(merged))
        if args.out:
            args.out.write_text(json.dumps(merged, indent=2) + "\n")
        return 0
    if args.records:
        print(json.dumps(adjacent_differences(args.records), indent=2))
        return 0
    if args.run_dir is None or args.work is None:
        parser.error("give RUN_DIR and --work (or --records DIR)")

    from evaluation.features import InceptionFeatures
    from ganzoo.sampling import load_generator

    loaded = load_generator(args.run_dir, args.checkpoint)
    extractor = InceptionFeatures(args.inception_weights or loaded.config.eval.inception_weights)
    args.work.mkdir(parents=True, exist_ok=True)
    fitting = [c * args.repeats for c in args.counts if c * args.repeats <= 10_000]
    pool_size = args.pool or max(fitting or [max(args.counts)])
    pool = generated_pool(loaded, extractor, pool_size, args.noise_seed, args.work, args.chunk)
    if args.generated_only:
        return 0
    reference = reference_features(loaded.config, extractor, args.reference_count)
    result = measure(pool, reference, sorted(args.counts), args.repeats)
    result["checkpoint"] = str(loaded.checkpoint)
    result["iteration"] = loaded.iteration
    result["extractor"] = extractor.describe()
    result["command"] = " ".join(["python", "benchmarks/eval_noise.py", *(argv or sys.argv[1:])])
    print(format_summary(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
